;; unreachable: executes the `unreachable` instruction: error
;; "trap: ..." whose message mentions "unreachable".
(module
  (memory (export "memory") 1)
  (func (export "_start")
    unreachable))
