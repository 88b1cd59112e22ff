;; exit: exits with the one-digit code found in the fact "exit" (a JSON
;; number), or 9 when there is none. The smallest useful worklet.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "exit")
  (func (export "_start")
    (if (i32.lt_s (call $fact (i32.const 0) (i32.const 4)) (i32.const 1))
      (then (call $proc_exit (i32.const 9))))
    (drop (call $response (i32.const 16) (i32.const 1)))
    (call $proc_exit (i32.sub (i32.load8_u (i32.const 16)) (i32.const 48)))))
