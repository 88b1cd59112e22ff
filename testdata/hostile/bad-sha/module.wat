;; bad-sha: a harmless module whose manifest pins a sha256 that is not its
;; digest (all zeros): a load error that mentions "sha256"; no code runs.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
