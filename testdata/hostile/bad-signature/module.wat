;; bad-signature: imports amagent.fact with the wrong type (an i64 key
;; pointer). ABI v1 fixes fact as (i32, i32) -> i32, so this is a load
;; error naming "fact".
(module
  (import "amagent" "fact" (func $fact (param i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $fact (i64.const 0) (i32.const 0)))))
