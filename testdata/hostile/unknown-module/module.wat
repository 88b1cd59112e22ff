;; unknown-module: imports env.system, from a module that is neither
;; wasi_snapshot_preview1 nor amagent: a load error naming "system".
(module
  (import "env" "system" (func $system (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $system (i32.const 0)))))
