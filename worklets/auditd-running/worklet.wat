;; auditd-running: an amagent worklet in hand-written WebAssembly text,
;; with no SDK. It asks systemd whether the audit daemon runs:
;;
;;   evaluate   exec ["systemctl", "is-active", "auditd"]
;;              stdout "active" -> compliant (exit 0), anything else
;;              (inactive, failed, activating; a missing unit is "inactive")
;;              -> non-compliant (exit 1) naming the state; systemctl not
;;              available (exec error -4, or -1 in a replay without it) or
;;              printing no state at all (systemd not running, as in a
;;              container) -> not applicable (exit 2); os.family other than
;;              linux -> 2
;;   remediate  already active -> succeeded; else
;;              exec ["systemctl", "enable", "--now", "auditd"]:
;;              exit_code 0 -> succeeded (exit 0), else failed (exit 1)
;;              with systemctl's error message
;;
;; Shortcuts a JSON parser would not take, safe for these answers: the exec
;; answer {"exit_code":n,"stdout":"...","stderr":"..."} is searched for byte
;; patterns, and text copied from it into the message stops at the first
;; '"' or '\' so that the message stays valid JSON without re-escaping.
;; The input document (stdin) is not read: this worklet has no parameters.
;;
;; Build: wat2wasm worklet.wat -o worklet.wasm   (build.sh)
;; The string constants sit at 16-byte-aligned offsets from 1024; every use
;; passes (offset, length) and the comment on each data segment gives its
;; name and length: keep them in step when editing.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  (import "amagent" "log" (func $log (param i32 i32 i32)))

  ;; Memory map: 0 iovec/nwritten; 16 argc, argv size; 64 argv pointers;
  ;; 1024 constant strings; 4096 argv strings; 8192 fact answer;
  ;; 12288 exec answer (4 KiB); 16384 the message being built (4 KiB).
  (memory (export "memory") 1)
  (global $ans_len (mut i32) (i32.const 0))
  (global $out_len (mut i32) (i32.const 0))

  (data (i32.const 1024) "remediate\00") ;; $remediate, 10 bytes
  (data (i32.const 1040) "os.family") ;; $os_family, 9 bytes
  (data (i32.const 1056) "\22linux\22") ;; $linux, 7 bytes
  (data (i32.const 1072) "{\22argv\22:[\22systemctl\22,\22is-active\22,\22auditd\22],\22stdin\22:\22\22,\22timeout_ms\22:5000}") ;; $req_active, 72 bytes
  (data (i32.const 1152) "{\22argv\22:[\22systemctl\22,\22enable\22,\22--now\22,\22auditd\22],\22stdin\22:\22\22,\22timeout_ms\22:30000}") ;; $req_enable, 78 bytes
  (data (i32.const 1232) "\22stdout\22:\22") ;; $k_stdout, 10 bytes
  (data (i32.const 1248) "\22stderr\22:\22") ;; $k_stderr, 10 bytes
  (data (i32.const 1264) "\22stdout\22:\22active\5cn\22") ;; $active_nl, 19 bytes
  (data (i32.const 1296) "\22stdout\22:\22active\22") ;; $active, 17 bytes
  (data (i32.const 1328) "\22stdout\22:\22\22") ;; $empty_stdout, 11 bytes
  (data (i32.const 1344) "\22exit_code\22:0,") ;; $exit0, 14 bytes
  (data (i32.const 1360) "\22exit_code\22:0}") ;; $exit0b, 14 bytes
  (data (i32.const 1376) "{\22message\22:\22") ;; $m_open, 12 bytes
  (data (i32.const 1392) "\22,\22details\22:null}\0a") ;; $m_close, 18 bytes
  (data (i32.const 1424) "auditd is active") ;; $m_active, 16 bytes
  (data (i32.const 1440) "auditd is not active (systemctl is-active auditd: ") ;; $m_inactive, 50 bytes
  (data (i32.const 1504) ")") ;; $m_paren, 1 bytes
  (data (i32.const 1520) "auditd is checked on Linux only") ;; $m_na_os, 31 bytes
  (data (i32.const 1552) "systemd is not available or not running: auditd cannot be checked this way") ;; $m_na_systemd, 74 bytes
  (data (i32.const 1632) "auditd is already active, nothing changed") ;; $m_already, 41 bytes
  (data (i32.const 1680) "enabled and started auditd (systemctl enable --now auditd)") ;; $m_enabled, 58 bytes
  (data (i32.const 1744) "systemctl enable --now auditd failed: ") ;; $m_enable_failed, 38 bytes
  (data (i32.const 1792) "systemd is not available or not running") ;; $m_no_systemctl, 39 bytes
  (data (i32.const 1840) "host error from exec (denied, malformed request or limit): check worklet.toml") ;; $m_host_error, 77 bytes
  (data (i32.const 1920) "fact os.family failed") ;; $m_fact_error, 21 bytes
  (data (i32.const 1952) "exec answer larger than 4 KiB") ;; $m_big, 29 bytes
  (data (i32.const 1984) "auditd-running: evaluating") ;; $log_eval, 26 bytes
  (data (i32.const 2016) "auditd-running: remediating") ;; $log_rem, 27 bytes

  ;; $memeq: are the $n bytes at $a and $b equal?
  (func $memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $no
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $no (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; $find: offset just past the first copy of the $n bytes at $s in the
  ;; exec answer, or 0 when there is none.
  (func $find (param $s i32) (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (i32.const 12288))
    (local.set $end (i32.add (i32.const 12288) (global.get $ans_len)))
    (block $none
      (loop $next
        (br_if $none (i32.gt_u (i32.add (local.get $p) (local.get $n)) (local.get $end)))
        (if (call $memeq (local.get $p) (local.get $s) (local.get $n))
          (then (return (i32.add (local.get $p) (local.get $n)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; $put appends $n bytes at $p to the message (silently capped at 4 KiB).
  (func $put (param $p i32) (param $n i32)
    (if (i32.gt_u (i32.add (global.get $out_len) (local.get $n)) (i32.const 4000))
      (then (return)))
    (memory.copy (i32.add (i32.const 16384) (global.get $out_len)) (local.get $p) (local.get $n))
    (global.set $out_len (i32.add (global.get $out_len) (local.get $n))))

  ;; $put_field appends the JSON string value that follows the pattern
  ;; ($k, $kn) in the exec answer, up to its first '"' or '\' and at most
  ;; 200 bytes; "?" when the pattern is absent.
  (func $put_field (param $k i32) (param $kn i32)
    (local $p i32) (local $q i32) (local $c i32)
    (local.set $p (call $find (local.get $k) (local.get $kn)))
    (if (i32.eqz (local.get $p))
      (then
        (i32.store8 (i32.const 8) (i32.const 63)) ;; '?'
        (call $put (i32.const 8) (i32.const 1))
        (return)))
    (local.set $q (local.get $p))
    (block $end
      (loop $next
        (br_if $end (i32.ge_u (local.get $q) (i32.add (i32.const 12288) (global.get $ans_len))))
        (br_if $end (i32.ge_u (i32.sub (local.get $q) (local.get $p)) (i32.const 200)))
        (local.set $c (i32.load8_u (local.get $q)))
        (br_if $end (i32.eq (local.get $c) (i32.const 34)))  ;; '"'
        (br_if $end (i32.eq (local.get $c) (i32.const 92)))  ;; '\'
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (call $put (local.get $p) (i32.sub (local.get $q) (local.get $p))))

  ;; $finish writes {"message":"<message so far>","details":null} and exits.
  (func $finish (param $code i32)
    (call $put (i32.const 1392) (i32.const 18))
    (i32.store (i32.const 0) (i32.const 16384))
    (i32.store (i32.const 4) (global.get $out_len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (local.get $code))
    (unreachable))

  ;; $say starts a message with the constant ($p, $n).
  (func $say (param $p i32) (param $n i32)
    (global.set $out_len (i32.const 0))
    (call $put (i32.const 1376) (i32.const 12))
    (call $put (local.get $p) (local.get $n)))

  ;; $run_exec sends the request ($req, $n) and copies the answer to 12288.
  ;; Returns the host's code: >= 0 the answer's length, < 0 an error.
  (func $run_exec (param $req i32) (param $n i32) (result i32)
    (local $len i32)
    (local.set $len (call $exec (local.get $req) (local.get $n)))
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (local.get $len))))
    (if (i32.gt_s (local.get $len) (i32.const 4096))
      (then (call $say (i32.const 1952) (i32.const 29)) (call $finish (i32.const 3))))
    (global.set $ans_len (call $response (i32.const 12288) (local.get $len)))
    (local.get $len))

  ;; $is_active asks systemctl; 1 active, 0 not, -1 systemd unavailable.
  (func $is_active (result i32)
    (local $rc i32)
    (local.set $rc (call $run_exec (i32.const 1072) (i32.const 72)))
    (if (i32.or (i32.eq (local.get $rc) (i32.const -1)) (i32.eq (local.get $rc) (i32.const -4)))
      (then (return (i32.const -1))))
    (if (i32.lt_s (local.get $rc) (i32.const 0))
      (then (call $say (i32.const 1840) (i32.const 77)) (call $finish (i32.const 3))))
    (if (i32.or (call $find (i32.const 1264) (i32.const 19)) (call $find (i32.const 1296) (i32.const 17)))
      (then (return (i32.const 1))))
    ;; systemctl prints a state whenever systemd runs; nothing on stdout
    ;; means it could not reach systemd ("System has not been booted with
    ;; systemd as init system"), e.g. in a container.
    (if (call $find (i32.const 1328) (i32.const 11)) (then (return (i32.const -1))))
    (i32.const 0))

  (func $evaluate
    (local $st i32)
    (call $log (i32.const 0) (i32.const 1984) (i32.const 26))
    (local.set $st (call $is_active))
    (if (i32.eq (local.get $st) (i32.const -1))
      (then (call $say (i32.const 1552) (i32.const 74)) (call $finish (i32.const 2))))
    (if (i32.eq (local.get $st) (i32.const 1))
      (then (call $say (i32.const 1424) (i32.const 16)) (call $finish (i32.const 0))))
    (call $say (i32.const 1440) (i32.const 50))
    (call $put_field (i32.const 1232) (i32.const 10))
    (call $put (i32.const 1504) (i32.const 1))
    (call $finish (i32.const 1)))

  (func $remediate
    (local $rc i32)
    (call $log (i32.const 1) (i32.const 2016) (i32.const 27))
    (local.set $rc (call $is_active))
    (if (i32.eq (local.get $rc) (i32.const 1))
      (then (call $say (i32.const 1632) (i32.const 41)) (call $finish (i32.const 0))))
    (if (i32.eq (local.get $rc) (i32.const -1))
      (then (call $say (i32.const 1792) (i32.const 39)) (call $finish (i32.const 1))))
    (local.set $rc (call $run_exec (i32.const 1152) (i32.const 78)))
    (if (i32.or (i32.eq (local.get $rc) (i32.const -1)) (i32.eq (local.get $rc) (i32.const -4)))
      (then (call $say (i32.const 1792) (i32.const 39)) (call $finish (i32.const 1))))
    (if (i32.lt_s (local.get $rc) (i32.const 0))
      (then (call $say (i32.const 1840) (i32.const 77)) (call $finish (i32.const 3))))
    (if (i32.or (call $find (i32.const 1344) (i32.const 14)) (call $find (i32.const 1360) (i32.const 14)))
      (then (call $say (i32.const 1680) (i32.const 58)) (call $finish (i32.const 0))))
    (call $say (i32.const 1744) (i32.const 38))
    (call $put_field (i32.const 1248) (i32.const 10))
    (call $finish (i32.const 1)))

  (func (export "_start")
    (local $n i32)
    ;; not applicable unless os.family is "linux"
    (local.set $n (call $fact (i32.const 1040) (i32.const 9)))
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then (call $say (i32.const 1920) (i32.const 21)) (call $finish (i32.const 3))))
    (if (i32.le_s (local.get $n) (i32.const 64))
      (then (drop (call $response (i32.const 8192) (local.get $n)))))
    (if (i32.eqz (i32.and (i32.eq (local.get $n) (i32.const 7))
                          (call $memeq (i32.const 8192) (i32.const 1056) (i32.const 7))))
      (then (call $say (i32.const 1520) (i32.const 31)) (call $finish (i32.const 2))))
    ;; argv[1] is the phase
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (if (i32.and (i32.ge_u (i32.load (i32.const 16)) (i32.const 2))
                 (i32.and (i32.le_u (i32.load (i32.const 16)) (i32.const 200))
                          (i32.le_u (i32.load (i32.const 20)) (i32.const 4096))))
      (then
        (drop (call $args_get (i32.const 64) (i32.const 4096)))
        (if (call $memeq (i32.load (i32.const 68)) (i32.const 1024) (i32.const 10))
          (then (call $remediate)))))
    (call $evaluate))
)
