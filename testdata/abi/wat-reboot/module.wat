;; wat-reboot: a typical hand-written worklet. It looks up the fact
;; "reboot_required", copies the answer out of the response slot and
;; compares it with `true`. Result: plain text on stdout, exit 0 (compliant)
;; when no reboot is pending, exit 1 (non-compliant) when one is; it logs a
;; warning in that case. A failed lookup exits 3, which the ABI reports as
;; the error "exit 3".
(module
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  (import "amagent" "log" (func $log (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "reboot_required")                  ;; 15 bytes
  (data (i32.const 32) "no reboot pending")               ;; 17 bytes
  (data (i32.const 64) "reboot pending")                  ;; 14 bytes
  (data (i32.const 96) "the device needs a reboot")       ;; 25 bytes
  (data (i32.const 128) "fact reboot_required failed")    ;; 27 bytes

  ;; print writes len bytes at ptr to stdout.
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 1024) (local.get $ptr))
    (i32.store (i32.const 1028) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1040))))

  (func (export "_start")
    (local $n i32)
    (local.set $n (call $fact (i32.const 0) (i32.const 15)))
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then
        (call $log (i32.const 3) (i32.const 128) (i32.const 27))
        (call $print (i32.const 128) (i32.const 27))
        (call $proc_exit (i32.const 3))))
    (drop (call $response (i32.const 2048) (i32.const 16)))
    ;; "true" read as a little-endian i32 is 0x65757274.
    (if (i32.and (i32.eq (local.get $n) (i32.const 4))
                 (i32.eq (i32.load (i32.const 2048)) (i32.const 0x65757274)))
      (then
        (call $log (i32.const 2) (i32.const 96) (i32.const 25))
        (call $print (i32.const 64) (i32.const 14))
        (call $proc_exit (i32.const 1))))
    (call $print (i32.const 32) (i32.const 17))
    (call $proc_exit (i32.const 0))))
