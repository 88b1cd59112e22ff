;; exec-limit: its manifest allows 2 exec calls per run; it runs the
;; allowed, recorded ["sshd","-T"] three times. The first two return the
;; response length (> 0), the third -5 (a per-run limit was reached).
;; Prints "first=A second=B third=C" and exits 0.
(module
  (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\22argv\22:[\22sshd\22,\22-T\22],\22stdin\22:\22\22,\22timeout_ms\22:1000}")  ;; 51 bytes
  (data (i32.const 128) "first=\00")
  (data (i32.const 144) " second=\00")
  (data (i32.const 160) " third=\00")
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
  (func (export "_start")
    (call $emitz (i32.const 128)) (call $num (call $exec (i32.const 0) (i32.const 51)))
    (call $emitz (i32.const 144)) (call $num (call $exec (i32.const 0) (i32.const 51)))
    (call $emitz (i32.const 160)) (call $num (call $exec (i32.const 0) (i32.const 51)))
    (call $flush)))
