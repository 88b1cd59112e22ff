;; wat-os: its manifest says os = ["windows"]. The host decides
;; applicability before running it, from the scan's os.family (in replay,
;; the recording's). When it does run, it prints "ran on windows", exit 0.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ran on windows")       ;; 14 bytes
  (func (export "_start")
    (i32.store (i32.const 1024) (i32.const 0))
    (i32.store (i32.const 1028) (i32.const 14))
    (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1040)))))
