;; factloop: calls amagent.fact 10*n times (exported for the host-call
;; benchmark; ten calls per iteration so the loop's own cost is small).
(module
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "os.version")
  (func (export "_start"))
  (func (export "loop") (param $n i32) (result i32)
    (local $r i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (drop (call $fact (i32.const 0) (i32.const 10)))
        (local.set $r (call $fact (i32.const 0) (i32.const 10)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $r)))
