;; wat-slot: checks the response-slot rule of ABI section 4 from WAT.
;;   1. fact("os.version") returns the answer's length L (> 0);
;;   2. response(buf, 3) copies and returns min(L, 3);
;;   3. response(buf2, 256) copies and returns L, and the first bytes match
;;      step 2 (the slot is not consumed by reading it);
;;   4. response(buf, 0) returns 0;
;;   5. fact("reboot_required") replaces the slot: response returns its new
;;      length and different bytes;
;;   6. fact("no.such.key") returns -1.
;; It prints {"message": "slot ok" | "slot rule violated", "details": {...}}
;; with every return value, and exits 0 when all hold, 1 otherwise.
(module
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "os.version")
  (data (i32.const 16) "reboot_required")
  (data (i32.const 32) "no.such.key")
  (data (i32.const 64) "{\22message\22:\22slot ok\22,\22details\22:{\00")
  (data (i32.const 128) "{\22message\22:\22slot rule violated\22,\22details\22:{\00")
  (data (i32.const 192) "\22len\22:\00")
  (data (i32.const 208) ",\22short\22:\00")
  (data (i32.const 224) ",\22full\22:\00")
  (data (i32.const 240) ",\22zero\22:\00")
  (data (i32.const 256) ",\22replaced\22:\00")
  (data (i32.const 272) ",\22copied\22:\00")
  (data (i32.const 288) ",\22missing\22:\00")
  (data (i32.const 304) "}}\0a\00")
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
  (func $same (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $no
      (loop $next
        (br_if 2 (i32.const 1) (i32.le_s (local.get $n) (i32.const 0)))
        (br_if $no (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (func (export "_start")
    (local $len i32) (local $short i32) (local $full i32) (local $zero i32)
    (local $replaced i32) (local $copied i32) (local $missing i32) (local $ok i32)
    (local.set $len (call $fact (i32.const 0) (i32.const 10)))
    (local.set $short (call $response (i32.const 2048) (i32.const 3)))
    (local.set $full (call $response (i32.const 2304) (i32.const 256)))
    (local.set $zero (call $response (i32.const 2560) (i32.const 0)))
    (local.set $replaced (call $fact (i32.const 16) (i32.const 15)))
    (local.set $copied (call $response (i32.const 2816) (i32.const 256)))
    (local.set $missing (call $fact (i32.const 32) (i32.const 11)))
    (local.set $ok
      (i32.and
        (i32.and
          (i32.and (i32.gt_s (local.get $len) (i32.const 0))
                   (i32.eq (local.get $short)
                           (select (local.get $len) (i32.const 3) (i32.lt_s (local.get $len) (i32.const 3)))))
          (i32.and (i32.eq (local.get $full) (local.get $len))
                   (call $same (i32.const 2048) (i32.const 2304) (local.get $short))))
        (i32.and
          (i32.and (i32.eqz (local.get $zero))
                   (i32.and (i32.gt_s (local.get $replaced) (i32.const 0))
                            (i32.eq (local.get $copied) (local.get $replaced))))
          (i32.and (i32.eq (local.get $missing) (i32.const -1))
                   (i32.eqz (i32.and (i32.eq (local.get $copied) (local.get $full))
                                     (call $same (i32.const 2304) (i32.const 2816) (local.get $full))))))))
    (call $emitz (select (i32.const 64) (i32.const 128) (local.get $ok)))
    (call $emitz (i32.const 192)) (call $num (local.get $len))
    (call $emitz (i32.const 208)) (call $num (local.get $short))
    (call $emitz (i32.const 224)) (call $num (local.get $full))
    (call $emitz (i32.const 240)) (call $num (local.get $zero))
    (call $emitz (i32.const 256)) (call $num (local.get $replaced))
    (call $emitz (i32.const 272)) (call $num (local.get $copied))
    (call $emitz (i32.const 288)) (call $num (local.get $missing))
    (call $emitz (i32.const 304))
    (call $flush)
    (call $proc_exit (i32.eqz (local.get $ok)))))
