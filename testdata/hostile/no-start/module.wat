;; no-start: exports memory but no _start, so it is not a WASI command:
;; a load error that mentions "_start".
(module
  (memory (export "memory") 1)
  (func (export "main")))
