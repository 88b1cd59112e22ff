;; Functions in the shape of Go's wasm backend: a dispatch loop whose
;; br_table picks a basic block by the value of a local, and jumps written
;; as "i32.const K; local.set $pc; br $loop". wasmjump's tests check that
;; forward jumps are made direct, backward ones are kept, and results and
;; termination are unchanged. Rebuild: wat2wasm dispatch.wat -o dispatch.wasm
(module
  ;; sum(n) = 0 + 1 + ... + (n-1): two forward jumps (one inside an if,
  ;; one to the br_table's default), one backward jump.
  (func (export "sum") (param $n i32) (result i32)
    (local $pc i32) (local $acc i32) (local $i i32)
    loop $L
      block $b2
        block $b1
          block $b0
            local.get $pc
            br_table $b0 $b1 $b2
          end
          ;; block 0: start
          i32.const 0
          local.set $i
          i32.const 0
          local.set $acc
          i32.const 1
          local.set $pc
          br $L
        end
        ;; block 1: loop test and body
        local.get $i
        local.get $n
        i32.ge_s
        if
          i32.const 9 ;; past the table: the default, block 2
          local.set $pc
          br $L
        end
        local.get $acc
        local.get $i
        i32.add
        local.set $acc
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        i32.const 1
        local.set $pc
        br $L
      end
      ;; block 2: return
      local.get $acc
      return
    end
    unreachable)

  ;; spin never returns: block 0 jumps forward to block 1, block 1 back to
  ;; block 0.
  (func (export "spin") (result i32)
    (local $pc i32) (local $x i32)
    loop $L
      block $b1
        block $b0
          local.get $pc
          br_table $b0 $b1 $b0
        end
        local.get $x
        i32.const 1
        i32.add
        local.set $x
        i32.const 1
        local.set $pc
        br $L
      end
      i32.const 0
      local.set $pc
      br $L
    end
    unreachable)

;; odd() is not rewritten: its jumps are a br_if, and a br whose last
  ;; local.set is not the dispatch local. It returns 1.
  (func (export "odd") (result i32)
    (local $pc i32) (local $n i32)
    loop $L
      block $b2
        block $b1
          block $b0
            local.get $pc
            br_table $b0 $b1 $b2
          end
          ;; block 0
          i32.const 1
          local.set $pc
          i32.const 1
          br_if $L
          unreachable
        end
        ;; block 1
        i32.const 2
        local.set $pc
        i32.const 7
        local.set $n
        br $L
      end
      ;; block 2
      local.get $n
      i32.const 1
      i32.and
      return
    end
    unreachable)

  ;; pick(x) is 20 for x != 0, else 10: its jumps only go forward, so
  ;; its loop becomes a block.
  (func (export "pick") (param $x i32) (result i32)
    (local $pc i32)
    loop $L
      block $b2
        block $b1
          block $b0
            local.get $pc
            br_table $b0 $b1 $b2
          end
          local.get $x
          if
            i32.const 2
            local.set $pc
            br $L
          end
          i32.const 1
          local.set $pc
          br $L
        end
        i32.const 10
        return
      end
      i32.const 20
      return
    end
    unreachable)
)
