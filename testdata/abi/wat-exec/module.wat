;; wat-exec: the return codes of amagent.exec from WAT. It sends five
;; requests and prints, as plain text, what each returned:
;;   missing    ["sshd","-T","-f","/nonexistent"]  allowed in evaluate by the
;;              prefix ["sshd","-T"], absent from the recording: -1
;;              (in remediate the prefix is not allowed: -2)
;;   denied     ["cat","/etc/shadow"], in no allowlist: -2
;;   malformed  a request that is not JSON: -3
;;   systemctl  ["systemctl","reload","ssh"], allowed only in remediate:
;;              -2 in evaluate, its response length in remediate
;;   ok         ["sshd","-T"], allowed in evaluate and recorded: the
;;              response length (> 0); -2 in remediate
;; Output: "missing=M denied=D malformed=X systemctl=S ok=K"; exit 0.
(module
  (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\22argv\22:[\22sshd\22,\22-T\22,\22-f\22,\22/nonexistent\22],\22stdin\22:\22\22,\22timeout_ms\22:1000}\00")
  (data (i32.const 256) "{\22argv\22:[\22cat\22,\22/etc/shadow\22],\22stdin\22:\22\22,\22timeout_ms\22:1000}\00")
  (data (i32.const 512) "{\22argv\22: \22sshd -T\22\00")
  (data (i32.const 768) "{\22argv\22:[\22systemctl\22,\22reload\22,\22ssh\22],\22stdin\22:\22\22,\22timeout_ms\22:1000}\00")
  (data (i32.const 1024) "{\22argv\22:[\22sshd\22,\22-T\22],\22stdin\22:\22\22,\22timeout_ms\22:1000}\00")
  (data (i32.const 1280) "missing=\00")
  (data (i32.const 1296) " denied=\00")
  (data (i32.const 1312) " malformed=\00")
  (data (i32.const 1328) " systemctl=\00")
  (data (i32.const 1344) " ok=\00")
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
  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))
  (func $run (param $req i32) (result i32)
    (call $exec (local.get $req) (call $strlen (local.get $req))))
  (func (export "_start")
    (call $emitz (i32.const 1280)) (call $num (call $run (i32.const 0)))
    (call $emitz (i32.const 1296)) (call $num (call $run (i32.const 256)))
    (call $emitz (i32.const 1312)) (call $num (call $run (i32.const 512)))
    (call $emitz (i32.const 1328)) (call $num (call $run (i32.const 768)))
    (call $emitz (i32.const 1344)) (call $num (call $run (i32.const 1024)))
    (call $flush)))
