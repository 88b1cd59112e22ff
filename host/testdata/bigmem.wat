;; bigmem: asks for 2000 pages (125 MiB) of initial memory.
(module (memory (export "memory") 2000) (func (export "_start")))
