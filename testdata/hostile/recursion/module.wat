;; recursion: a function that calls itself without end. The engine's call
;; stack is exhausted: error "trap: ..." (stack overflow), quickly, and the
;; host survives.
(module
  (memory (export "memory") 1)
  (func $deeper (param $n i32) (result i32)
    (i32.add (call $deeper (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  (func (export "_start")
    (drop (call $deeper (i32.const 0)))))
