;; execimport: imports amagent.exec; a policy with it must not load.
(module
  (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
