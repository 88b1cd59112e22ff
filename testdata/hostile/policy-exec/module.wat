;; policy-exec: a policy (kind = "policy") that imports amagent.exec.
;; Policies are given no exec: a load error that mentions "exec" and says
;; that policies cannot have it.
(module
  (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
