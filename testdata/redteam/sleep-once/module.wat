;; sleep-once: one poll_oneoff clock subscription of 15 seconds, then exit 0.
;; Under a 1s limit the run must end as a timeout within about a second,
;; live and in replay (ABI.md section 2: sleeping never outlasts the
;; run's deadline).
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; subscription at 0: userdata 0, tag 0 (clock), clock id 1
    ;; (monotonic) at 16, timeout 15e9 ns at 24, precision 0, flags 0.
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 15000000000))
    ;; event out at 64, nevents at 128
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))
