;; Worklet template in WebAssembly text, with no SDK: copy the directory,
;; change the name in worklet.toml, and write the check. It reports
;; compliant when no reboot is pending (fact reboot_required), or when param
;; allow_pending is true; not applicable outside Linux; remediate: failed.
;;
;; The whole ABI in one file:
;;   argv   [name, phase]         read with args_sizes_get/args_get
;;   stdin  the input document    read with fd_read (here: searched for
;;                                "allow_pending":true, a shortcut that is
;;                                fine for a template, not a JSON parser)
;;   host   amagent.fact/exec/response/log (see ../../README.md)
;;   stdout {"message": ..., "details": ...} written with fd_write
;;   exit   proc_exit: 0 compliant, 1 non-compliant, 2 not applicable;
;;          remediate 0 succeeded, 1 failed; anything else is an error
;;
;; Build: wat2wasm worklet.wat -o worklet.wasm   (see build.sh)
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  ;; fact(key_ptr, key_len) -> byte length of the JSON answer now in the
  ;; response slot, or a negative error (-1 not found ... -5 limit)
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  ;; response(buf_ptr, buf_cap) -> bytes copied out of the response slot
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  ;; log(level, msg_ptr, msg_len); 0 debug, 1 info, 2 warn, 3 error
  (import "amagent" "log" (func $log (param i32 i32 i32)))
  ;; exec(req_ptr, req_len) -> length, answers {"exit_code","stdout","stderr"}
  ;; Import it only if you use it (and declare the argv in worklet.toml):
  ;; (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))

  ;; 0 iovec and count; 16 argc/argv size; 64 argv pointers; 1024 strings;
  ;; 4096 argv strings; 8192 fact answers; 65536.. stdin (grows)
  (memory (export "memory") 2)
  (global $in_len (mut i32) (i32.const 0))

  ;; A string is (offset, length); keep the lengths in step with the text.
  (data (i32.const 1024) "remediate")                                                   ;; 9
  (data (i32.const 1040) "os.family")                                                   ;; 9
  (data (i32.const 1056) "reboot_required")                                             ;; 15
  (data (i32.const 1072) "\"linux\"")                                                   ;; 7
  (data (i32.const 1088) "\"allow_pending\":true")                                      ;; 20
  (data (i32.const 1120) "{\"message\":\"no reboot pending\",\"details\":null}\n")      ;; 47
  (data (i32.const 1184) "{\"message\":\"reboot pending, allowed by allow_pending\",\"details\":null}\n") ;; 70
  (data (i32.const 1280) "{\"message\":\"reboot pending\",\"details\":null}\n")         ;; 44
  (data (i32.const 1344) "{\"message\":\"only for linux\",\"details\":null}\n")         ;; 44
  (data (i32.const 1408) "{\"message\":\"no remediation: reboot the device in a maintenance window\",\"details\":null}\n") ;; 87
  (data (i32.const 1536) "{\"message\":\"fact failed\",\"details\":null}\n")            ;; 41
  (data (i32.const 1600) "template: evaluating")                                        ;; 20

  (func $memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $no
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $no (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; $contains: does [$p, $p+$len) contain the $n bytes at $s?
  (func $contains (param $p i32) (param $len i32) (param $s i32) (param $n i32) (result i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (block $none
      (loop $next
        (br_if $none (i32.gt_u (i32.add (local.get $p) (local.get $n)) (local.get $end)))
        (if (call $memeq (local.get $p) (local.get $s) (local.get $n)) (then (return (i32.const 1))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; $done writes the $n-byte result at $msg to stdout and exits with $code.
  (func $done (param $msg i32) (param $n i32) (param $code i32)
    (i32.store (i32.const 0) (local.get $msg))
    (i32.store (i32.const 4) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (local.get $code))
    (unreachable))

  ;; $get_fact asks for fact ($key, $n) and copies the answer to 8192;
  ;; returns its length. Errors and answers over 4 KiB end the run (exit 3).
  (func $get_fact (param $key i32) (param $n i32) (result i32)
    (local $len i32)
    (local.set $len (call $fact (local.get $key) (local.get $n)))
    (if (i32.or (i32.lt_s (local.get $len) (i32.const 0)) (i32.gt_s (local.get $len) (i32.const 4096)))
      (then (call $done (i32.const 1536) (i32.const 41) (i32.const 3))))
    (call $response (i32.const 8192) (local.get $len)))

  (func $read_stdin
    (local $n i32)
    (loop $next
      (if (i32.gt_u (i32.add (i32.const 131072) (global.get $in_len)) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 1)))))
      (i32.store (i32.const 0) (i32.add (i32.const 65536) (global.get $in_len)))
      (i32.store (i32.const 4) (i32.const 65536))
      (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $n (i32.load (i32.const 8)))
      (if (i32.gt_s (local.get $n) (i32.const 0))
        (then (global.set $in_len (i32.add (global.get $in_len) (local.get $n))) (br $next)))))

  (func (export "_start")
    (local $n i32)
    (call $read_stdin)
    ;; argv[1] is the phase
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (if (i32.and (i32.ge_u (i32.load (i32.const 16)) (i32.const 2))
                 (i32.and (i32.le_u (i32.load (i32.const 16)) (i32.const 200))
                          (i32.le_u (i32.load (i32.const 20)) (i32.const 4096))))
      (then
        (drop (call $args_get (i32.const 64) (i32.const 4096)))
        (if (call $memeq (i32.load (i32.const 68)) (i32.const 1024) (i32.const 10)) ;; "remediate\0"
          (then (call $done (i32.const 1408) (i32.const 87) (i32.const 1))))))
    (call $log (i32.const 0) (i32.const 1600) (i32.const 20))
    ;; not applicable unless os.family is "linux"
    (local.set $n (call $get_fact (i32.const 1040) (i32.const 9)))
    (if (i32.eqz (i32.and (i32.eq (local.get $n) (i32.const 7))
                          (call $memeq (i32.const 8192) (i32.const 1072) (i32.const 7))))
      (then (call $done (i32.const 1344) (i32.const 44) (i32.const 2))))
    ;; reboot_required is "true" or "false"
    (local.set $n (call $get_fact (i32.const 1056) (i32.const 15)))
    (if (i32.ne (i32.load8_u (i32.const 8192)) (i32.const 116)) ;; 't'
      (then (call $done (i32.const 1120) (i32.const 47) (i32.const 0))))
    (if (call $contains (i32.const 65536) (global.get $in_len) (i32.const 1088) (i32.const 20))
      (then (call $done (i32.const 1184) (i32.const 70) (i32.const 0))))
    (call $done (i32.const 1280) (i32.const 44) (i32.const 1)))
)
