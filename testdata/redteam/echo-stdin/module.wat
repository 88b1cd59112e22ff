;; echo-stdin: copies its input document (stdin, which holds its params,
;; secret ones included) to stdout and to stderr, then exits 0. A secret
;; parameter must still appear in no result, log line or denial.
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (local $total i32)
    ;; read into 1024.. (at most 60000 bytes), iovec at 0, nread at 16
    (block $done
      (loop $more
        (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $total)))
        (i32.store (i32.const 4) (i32.sub (i32.const 60000) (local.get $total)))
        (br_if $done (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
        (br_if $done (i32.eqz (i32.load (i32.const 16))))
        (local.set $total (i32.add (local.get $total) (i32.load (i32.const 16))))
        (br_if $more (i32.lt_u (local.get $total) (i32.const 60000)))))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (local.get $total))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16)))))
