;; memory-min: declares a minimum memory of 2048 pages (128 MiB), above its
;; manifest's 16 MiB limit, so it cannot even be instantiated:
;; error "memory limit" (before any code runs).
(module
  (memory (export "memory") 2048)
  (func (export "_start")))
