;; nul-flood: writes 64 KiB of NUL bytes and an escape sequence to stdout,
;; then exits 0. The result's message must come out with no control
;; character, at most 4 KiB, and flagged as truncated when cut.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; "\1b]0;pwned\07\1b[2J" at 70000, 16 bytes
  (data (i32.const 70000) "\1b]0;pwned\07\1b[2J")
  (func (export "_start")
    ;; iovec 0 at 69000: 65536 zero bytes from address 0
    (i32.store (i32.const 69000) (i32.const 0))
    (i32.store (i32.const 69004) (i32.const 65536))
    ;; iovec 1: the escape sequence
    (i32.store (i32.const 69008) (i32.const 70000))
    (i32.store (i32.const 69012) (i32.const 16))
    (drop (call $write (i32.const 1) (i32.const 69000) (i32.const 2) (i32.const 69100)))))
