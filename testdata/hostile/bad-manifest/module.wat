;; bad-manifest: a harmless module whose manifest misspells a section
;; ("[evalute]"): a load error that names the unknown key; no code runs.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
