;; unknown-import: imports amagent.shell, which ABI v1 does not define.
;; The host checks imports before instantiating: a load error naming
;; "shell"; no code runs.
(module
  (import "amagent" "shell" (func $shell (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $shell (i32.const 0) (i32.const 0)))))
