;; memgrow: grows its memory one page at a time until memory.grow is
;; refused (-1), then traps the way an allocator aborts when it is out of
;; memory. The manifest allows 4 MiB (64 pages): error "memory limit".
;; The memory has no declared maximum, so only the host's limit refuses it.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (block $refused
      (loop $grow
        (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        ;; touch the new page so that it is really used
        (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 1))
        (br $grow)))
    unreachable))
