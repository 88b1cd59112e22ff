;; compute: a compute-heavy loop (the cost of WithCloseOnContextDone), then
;; exit 0. The iteration count is the exported global's initial value.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $work (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  (func (export "_start")
    (drop (call $work (i32.const 10000000)))
    (call $proc_exit (i32.const 0))))
