;; badimport: imports a function outside ABI v1; loading it must fail.
(module
  (import "env" "now" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $now))))
