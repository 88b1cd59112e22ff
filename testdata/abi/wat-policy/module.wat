;; wat-policy: a policy module (kind = "policy"; no exec, evaluate only).
;; It reads the fact "os.family": `"linux"` -> prints "linux" and exits 0
;; (compliant); anything else -> prints "not linux" and exits 2 (not
;; applicable).
(module
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "os.family")            ;; 9 bytes
  (data (i32.const 16) "\22linux\22")         ;; 7 bytes, with the JSON quotes
  (data (i32.const 32) "linux")
  (data (i32.const 48) "not linux")
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 1024) (local.get $ptr))
    (i32.store (i32.const 1028) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1040))))
  (func (export "_start")
    (local $n i32) (local $i i32)
    (local.set $n (call $fact (i32.const 0) (i32.const 9)))
    (if (i32.eq (local.get $n) (i32.const 7))
      (then
        (drop (call $response (i32.const 2048) (i32.const 7)))
        (block $differ
          (loop $next
            (br_if $differ (i32.ne (i32.load8_u (i32.add (i32.const 2048) (local.get $i)))
                                   (i32.load8_u (i32.add (i32.const 16) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $next (i32.lt_u (local.get $i) (i32.const 7))))
          (call $print (i32.const 32) (i32.const 5))
          (call $proc_exit (i32.const 0)))))
    (call $print (i32.const 48) (i32.const 9))
    (call $proc_exit (i32.const 2))))
