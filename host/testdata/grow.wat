;; grow: grows memory one page at a time until refused, then traps.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l
      (br_if $l (i32.ge_s (memory.grow (i32.const 1)) (i32.const 0))))
    unreachable))
