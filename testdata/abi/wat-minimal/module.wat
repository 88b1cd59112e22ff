;; wat-minimal: the smallest ABI v1 worklet. No imports at all, no output,
;; and _start returns instead of calling proc_exit: exit code 0, so the
;; result is compliant with an empty message and null details.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
