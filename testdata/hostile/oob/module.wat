;; oob: calls every host function with pointers and lengths that are out
;; of bounds, negative or huge. Each call that returns a value must return
;; -3; log returns nothing but must not crash the host. Memory is exactly one
;; page (64 KiB, maximum 1), so 65536 is the first byte beyond it.
;; Afterwards a valid fact call must still work.
;; Prints "fact=a,b,c,d response=e,f,g exec=h,i,j log=survived after=N" and
;; exits 0 when every value is as expected, 1 otherwise.
(module
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))
  (import "amagent" "log" (func $log (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 0) "hostname")                 ;; 8 bytes
  (data (i32.const 16) "fact=\00")
  (data (i32.const 32) " response=\00")
  (data (i32.const 48) " exec=\00")
  (data (i32.const 64) " log=survived after=\00")
  (data (i32.const 96) ",\00")
  (data (i32.const 65500) "{\22argv\22:[\22sshd\22,\22-T\22]}")  ;; 22 bytes, runs past the end if len is wrong
  ;; ---- output helpers: bytes are appended at $out, flushed by $flush ----
  (global $out (mut i32) (i32.const 8192))
  (func $emitz (param $p i32)            ;; append the NUL-terminated string at $p
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (local.get $p))))
        (i32.store8 (global.get $out) (i32.load8_u (local.get $p)))
        (global.set $out (i32.add (global.get $out) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next))))
  (func $num (param $n i32)              ;; append $n in decimal
    (local $p i32) (local $neg i32)
    (local.set $p (i32.const 7999))
    (i32.store8 (local.get $p) (i32.const 0))
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then (local.set $neg (i32.const 1))
            (local.set $n (i32.sub (i32.const 0) (local.get $n)))))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    (if (local.get $neg)
      (then (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (i32.store8 (local.get $p) (i32.const 45))))
    (call $emitz (local.get $p)))
  (func $flush                           ;; write everything appended to stdout
    (i32.store (i32.const 7936) (i32.const 8192))
    (i32.store (i32.const 7940) (i32.sub (global.get $out) (i32.const 8192)))
    (drop (call $fd_write (i32.const 1) (i32.const 7936) (i32.const 1) (i32.const 7944)))
    (global.set $out (i32.const 8192)))
  (global $bad (mut i32) (i32.const 0))
  (func $rec (param $v i32) (param $sep i32)   ;; append v, count it if it is not -3
    (if (i32.ne (local.get $v) (i32.const -3))
      (then (global.set $bad (i32.add (global.get $bad) (i32.const 1)))))
    (call $num (local.get $v))
    (if (local.get $sep) (then (call $emitz (i32.const 96)))))
  (func (export "_start")
    (local $after i32)
    (call $emitz (i32.const 16))
    (call $rec (call $fact (i32.const 0xFFFFFFF0) (i32.const 16)) (i32.const 1))  ;; pointer beyond memory
    (call $rec (call $fact (i32.const 65530) (i32.const 100)) (i32.const 1))      ;; crosses the end
    (call $rec (call $fact (i32.const 0) (i32.const -1)) (i32.const 1))           ;; negative length
    (call $rec (call $fact (i32.const 0) (i32.const 0x7FFFFFFF)) (i32.const 0))   ;; huge length
    ;; fill the slot with a valid answer ("web-01" as JSON: 8 bytes)
    (drop (call $fact (i32.const 0) (i32.const 8)))
    (call $emitz (i32.const 32))
    (call $rec (call $response (i32.const 0xFFFFFF00) (i32.const 16)) (i32.const 1)) ;; beyond memory
    (call $rec (call $response (i32.const 65534) (i32.const 64)) (i32.const 1))      ;; 8 bytes do not fit in 2
    (call $rec (call $response (i32.const 0) (i32.const -1)) (i32.const 0))          ;; negative capacity
    (call $emitz (i32.const 48))
    (call $rec (call $exec (i32.const 0xFFFFFFF0) (i32.const 16)) (i32.const 1))     ;; beyond memory
    (call $rec (call $exec (i32.const 0) (i32.const -5)) (i32.const 1))              ;; negative length
    (call $rec (call $exec (i32.const 65500) (i32.const 1000)) (i32.const 0))        ;; crosses the end
    (call $log (i32.const 1) (i32.const 0xFFFFFFF0) (i32.const 16))
    (call $log (i32.const 1) (i32.const 0) (i32.const -1))
    (call $log (i32.const 1) (i32.const 65530) (i32.const 100))
    (call $log (i32.const 99) (i32.const 0) (i32.const 8))                          ;; unknown level
    (local.set $after (call $fact (i32.const 0) (i32.const 8)))
    (call $emitz (i32.const 64))
    (call $num (local.get $after))
    (call $flush)
    (call $proc_exit (i32.or (i32.ne (global.get $bad) (i32.const 0))
                             (i32.le_s (local.get $after) (i32.const 0))))))
