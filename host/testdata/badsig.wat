;; badsig: imports amagent.fact with the wrong signature.
(module
  (import "amagent" "fact" (func $fact (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $fact (i32.const 0)))))
