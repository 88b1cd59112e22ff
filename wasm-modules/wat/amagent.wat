;; amagent.wat - the WAT guest SDK for amagent worklets (ABI v1).
;;
;; WebAssembly text has no include, so build-worklet.sh (beside this file)
;; puts a module together: "(module", the sections of this file, your
;; worklet.wat (data and functions only: no "(module", no imports, no
;; memory), ")". The exec import and $am_exec come in only when worklet.wat
;; calls $am_exec, so that a policy never imports exec.
;;
;; Memory: 0..1023 the SDK's scratch; 1024..32767 yours for (data ...);
;; 32768..65535 the SDK's strings; 65536.. the heap ($am_alloc, never freed).
;; Strings are (pointer, length) pairs. Answers (fact, file, exec) land on the
;; heap at $am_res_ptr with length $am_res_len, until the next call.
;;
;;   $am_input () -> len              the input document (stdin), read once; at $am_in_ptr
;;   $am_remediate () -> 0|1          1 when argv[1] is "remediate"
;;   $am_param (name len) -> ptr      raw JSON of params.<name> in the input (length $am_val_len), -1 absent
;;   $am_get (obj end key len) -> ptr raw JSON value of key in the object at obj (length $am_val_len), -1 absent
;;   $am_fact (key len) -> len        the fact's JSON at $am_res_ptr; negative: -1 not found, -2 denied ...
;;   $am_stat (path len) -> 0|neg     path metadata: $am_stat_type ('f' file, 'd' dir, 's' symlink, 'o' other),
;;                                    $am_stat_mode (0640 as a number), $am_stat_uid, $am_stat_gid, $am_stat_size;
;;                                    the whole answer (user, group, mtime) at $am_res_ptr
;;   $am_read_file (path len) -> len  the file at $am_res_ptr; -1 not found, -2 not declared (EACCES), -8 other
;;   $am_list_dir (path len) -> n     the names, each ending in "\n", at $am_res_ptr ($am_res_len bytes)
;;   $am_write_file (path len data len) -> 0|neg   remediate only, paths under [remediate] write
;;   $am_exec (req len) -> len        request JSON {"argv": [...]}; answer at $am_res_ptr; $am_exec_code () -> exit code
;;   $am_log (level ptr len)          0 debug, 1 info, 2 warn, 3 error
;;   $am_compliant/$am_non_compliant/$am_not_applicable/$am_succeeded/$am_failed (msg len)
;;   $am_fatal (msg len)              the result {"message": msg, "details": null} and the exit code; never return
;;   $am_memeq (a b n) -> 0|1, $am_find (hay len needle len) -> offset|-1, $am_atoi (p len) -> i32

;; @section imports
  (import "wasi_snapshot_preview1" "fd_read" (func $am_wasi_fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $am_wasi_fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $am_wasi_fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $am_wasi_fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $am_wasi_fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $am_wasi_fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $am_wasi_path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $am_wasi_proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $am_wasi_args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $am_wasi_args_get (param i32 i32) (result i32)))
  (import "amagent" "fact" (func $am_host_fact (param i32 i32) (result i32)))
  (import "amagent" "response" (func $am_host_response (param i32 i32) (result i32)))
  (import "amagent" "log" (func $am_host_log (param i32 i32 i32)))

;; @section exec-imports
  (import "amagent" "exec" (func $am_host_exec (param i32 i32) (result i32)))

;; @section functions
  (memory (export "memory") 2)
  (global $am_heap (mut i32) (i32.const 65536))
  (global $am_in_ptr (mut i32) (i32.const 0))
  (global $am_in_len (mut i32) (i32.const -1))
  (global $am_res_ptr (mut i32) (i32.const 0))
  (global $am_res_len (mut i32) (i32.const 0))
  (global $am_val_len (mut i32) (i32.const 0))
  (global $am_root (mut i32) (i32.const -2))
  (global $am_stat_type (mut i32) (i32.const 0))
  (global $am_stat_mode (mut i32) (i32.const 0))
  (global $am_stat_uid (mut i32) (i32.const 0))
  (global $am_stat_gid (mut i32) (i32.const 0))
  (global $am_stat_size (mut i32) (i32.const 0))

  (data (i32.const 32768) "{\"message\":")             ;; 11
  (data (i32.const 32784) ",\"details\":null}\n")       ;; 17
  (data (i32.const 32808) "params")                     ;; 6
  (data (i32.const 32816) "remediate")                  ;; 9
  (data (i32.const 32832) "type")                       ;; 4
  (data (i32.const 32840) "mode")                       ;; 4
  (data (i32.const 32848) "uid")                        ;; 3
  (data (i32.const 32856) "gid")                        ;; 3
  (data (i32.const 32864) "size")                       ;; 4
  (data (i32.const 32872) "exit_code")                  ;; 9
  (data (i32.const 32888) "0123456789abcdef")           ;; 16

  ;; $am_alloc: n bytes on the heap (8-aligned), growing memory as needed.
  (func $am_alloc (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $am_heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.lt_s (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const 0))
          (then (unreachable)))))
    (global.set $am_heap (local.get $end))
    (local.get $p))

  (func $am_memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $no
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $no (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; $am_find: the offset of needle in hay, or -1.
  (func $am_find (param $hay i32) (param $len i32) (param $s i32) (param $n i32) (result i32)
    (local $i i32)
    (block $none
      (loop $next
        (br_if $none (i32.gt_s (i32.add (local.get $i) (local.get $n)) (local.get $len)))
        (if (call $am_memeq (i32.add (local.get $hay) (local.get $i)) (local.get $s) (local.get $n)) (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  ;; $am_atoi: a decimal integer (optional '-') at p, up to len bytes.
  (func $am_atoi (param $p i32) (param $len i32) (result i32)
    (local $v i32) (local $neg i32) (local $c i32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 45)))
      (then (local.set $neg (i32.const 1)) (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $done (i32.gt_u (local.get $c) (i32.const 9)))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $c)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (if (result i32) (local.get $neg) (then (i32.sub (i32.const 0) (local.get $v))) (else (local.get $v))))

  ;; $am_octal: an octal number in a JSON string ("0640") at p.
  (func $am_octal (param $p i32) (param $len i32) (result i32)
    (local $v i32) (local $c i32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (if (i32.le_u (local.get $c) (i32.const 7))
          (then (local.set $v (i32.add (i32.shl (local.get $v) (i32.const 3)) (local.get $c)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $v))

  (func $am_ws (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))
                                      (i32.or (i32.eq (local.get $c) (i32.const 13)) (i32.eq (local.get $c) (i32.const 9))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; $am_skip: the end of the JSON value at p (strings, objects and arrays
  ;; with their nesting; a scalar ends at , } ] or white space).
  (func $am_skip (param $p i32) (param $end i32) (result i32)
    (local $c i32) (local $depth i32) (local $instr i32)
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (local.get $end))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (local.get $instr)
        (then
          (if (i32.eq (local.get $c) (i32.const 92)) (then (local.set $p (i32.add (local.get $p) (i32.const 2))) (br $next)))
          (if (i32.eq (local.get $c) (i32.const 34))
            (then
              (local.set $instr (i32.const 0))
              (if (i32.eqz (local.get $depth)) (then (return (i32.add (local.get $p) (i32.const 1)))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then (local.set $instr (i32.const 1))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
        (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 125)) (i32.eq (local.get $c) (i32.const 93)))
        (then
          (if (i32.eqz (local.get $depth)) (then (return (local.get $p))))
          (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
          (if (i32.eqz (local.get $depth)) (then (return (i32.add (local.get $p) (i32.const 1)))))))
      (if (i32.and (i32.eqz (local.get $depth))
                   (i32.or (i32.eq (local.get $c) (i32.const 44))
                           (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))))
        (then (return (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next))
    (local.get $p))

  ;; $am_get: in the JSON object at obj (ending by end), the raw value of
  ;; key: its pointer, length in $am_val_len; -1 when absent.
  (func $am_get (param $obj i32) (param $end i32) (param $key i32) (param $klen i32) (result i32)
    (local $p i32) (local $kend i32) (local $v i32) (local $vend i32)
    (local.set $p (call $am_ws (local.get $obj) (local.get $end)))
    (if (i32.or (i32.ge_u (local.get $p) (local.get $end)) (i32.ne (i32.load8_u (local.get $p)) (i32.const 123)))
      (then (return (i32.const -1))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $next
      (local.set $p (call $am_ws (local.get $p) (local.get $end)))
      (if (i32.or (i32.ge_u (local.get $p) (local.get $end)) (i32.ne (i32.load8_u (local.get $p)) (i32.const 34)))
        (then (return (i32.const -1))))
      (local.set $kend (call $am_skip (local.get $p) (local.get $end)))
      (local.set $v (call $am_ws (local.get $kend) (local.get $end)))
      (if (i32.or (i32.ge_u (local.get $v) (local.get $end)) (i32.ne (i32.load8_u (local.get $v)) (i32.const 58)))
        (then (return (i32.const -1))))
      (local.set $v (call $am_ws (i32.add (local.get $v) (i32.const 1)) (local.get $end)))
      (local.set $vend (call $am_skip (local.get $v) (local.get $end)))
      (if (i32.and (i32.eq (i32.sub (local.get $kend) (local.get $p)) (i32.add (local.get $klen) (i32.const 2)))
                   (call $am_memeq (i32.add (local.get $p) (i32.const 1)) (local.get $key) (local.get $klen)))
        (then
          (global.set $am_val_len (i32.sub (local.get $vend) (local.get $v)))
          (return (local.get $v))))
      (local.set $p (call $am_ws (local.get $vend) (local.get $end)))
      (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 44)))
        (then (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $next))))
    (i32.const -1))

  ;; $am_input: reads stdin once (the input document) to $am_in_ptr.
  (func $am_input (result i32)
    (local $cap i32) (local $buf i32) (local $new i32) (local $n i32)
    (if (i32.ge_s (global.get $am_in_len) (i32.const 0)) (then (return (global.get $am_in_len))))
    (local.set $cap (i32.const 65536))
    (local.set $buf (call $am_alloc (local.get $cap)))
    (global.set $am_in_len (i32.const 0))
    (loop $next
      (if (i32.eq (global.get $am_in_len) (local.get $cap))
        (then
          (local.set $new (call $am_alloc (i32.mul (local.get $cap) (i32.const 2))))
          (memory.copy (local.get $new) (local.get $buf) (global.get $am_in_len))
          (local.set $buf (local.get $new))
          (local.set $cap (i32.mul (local.get $cap) (i32.const 2)))))
      (i32.store (i32.const 0) (i32.add (local.get $buf) (global.get $am_in_len)))
      (i32.store (i32.const 4) (i32.sub (local.get $cap) (global.get $am_in_len)))
      (if (i32.eqz (call $am_wasi_fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (then
          (local.set $n (i32.load (i32.const 8)))
          (if (i32.gt_s (local.get $n) (i32.const 0))
            (then (global.set $am_in_len (i32.add (global.get $am_in_len) (local.get $n))) (br $next))))))
    (global.set $am_in_ptr (local.get $buf))
    (global.get $am_in_len))

  ;; $am_remediate: 1 when the phase (argv[1]) is "remediate".
  (func $am_remediate (result i32)
    (local $argv i32) (local $buf i32)
    (drop (call $am_wasi_args_sizes_get (i32.const 16) (i32.const 20)))
    (if (i32.lt_u (i32.load (i32.const 16)) (i32.const 2)) (then (return (i32.const 0))))
    (local.set $argv (call $am_alloc (i32.mul (i32.load (i32.const 16)) (i32.const 4))))
    (local.set $buf (call $am_alloc (i32.load (i32.const 20))))
    (drop (call $am_wasi_args_get (local.get $argv) (local.get $buf)))
    (call $am_memeq (i32.load offset=4 (local.get $argv)) (i32.const 32816) (i32.const 10))) ;; "remediate\0"

  ;; $am_param: the raw JSON value of params.<name> in the input document.
  (func $am_param (param $name i32) (param $len i32) (result i32)
    (local $end i32) (local $p i32)
    (drop (call $am_input))
    (local.set $end (i32.add (global.get $am_in_ptr) (global.get $am_in_len)))
    (local.set $p (call $am_get (global.get $am_in_ptr) (local.get $end) (i32.const 32808) (i32.const 6)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (call $am_get (local.get $p) (i32.add (local.get $p) (global.get $am_val_len)) (local.get $name) (local.get $len)))

  ;; $am_take: copies an n-byte response slot to the heap ($am_res_ptr).
  (func $am_take (param $n i32) (result i32)
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
    (global.set $am_res_ptr (call $am_alloc (local.get $n)))
    (global.set $am_res_len (call $am_host_response (global.get $am_res_ptr) (local.get $n)))
    (global.get $am_res_len))

  (func $am_fact (param $key i32) (param $len i32) (result i32)
    (call $am_take (call $am_host_fact (local.get $key) (local.get $len))))

  ;; $am_field: the raw value of key in the answer at $am_res_ptr.
  (func $am_field (param $key i32) (param $len i32) (result i32)
    (call $am_get (global.get $am_res_ptr) (i32.add (global.get $am_res_ptr) (global.get $am_res_len)) (local.get $key) (local.get $len)))

  (func $am_stat (param $path i32) (param $len i32) (result i32)
    (local $n i32) (local $v i32)
    (local.set $n (call $am_fact (local.get $path) (local.get $len)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
    (local.set $v (call $am_field (i32.const 32832) (i32.const 4)))
    (global.set $am_stat_type (if (result i32) (i32.ge_s (local.get $v) (i32.const 0)) (then (i32.load8_u offset=1 (local.get $v))) (else (i32.const 0))))
    (local.set $v (call $am_field (i32.const 32840) (i32.const 4)))
    (global.set $am_stat_mode (if (result i32) (i32.ge_s (local.get $v) (i32.const 0)) (then (call $am_octal (local.get $v) (global.get $am_val_len))) (else (i32.const 0))))
    (local.set $v (call $am_field (i32.const 32848) (i32.const 3)))
    (global.set $am_stat_uid (if (result i32) (i32.ge_s (local.get $v) (i32.const 0)) (then (call $am_atoi (local.get $v) (global.get $am_val_len))) (else (i32.const -1))))
    (local.set $v (call $am_field (i32.const 32856) (i32.const 3)))
    (global.set $am_stat_gid (if (result i32) (i32.ge_s (local.get $v) (i32.const 0)) (then (call $am_atoi (local.get $v) (global.get $am_val_len))) (else (i32.const -1))))
    (local.set $v (call $am_field (i32.const 32864) (i32.const 4)))
    (global.set $am_stat_size (if (result i32) (i32.ge_s (local.get $v) (i32.const 0)) (then (call $am_atoi (local.get $v) (global.get $am_val_len))) (else (i32.const 0))))
    (i32.const 0))

  ;; $am_errno: a WASI errno as the SDK's code: -1 not found, -2 denied, -8 other.
  (func $am_errno (param $e i32) (result i32)
    (if (i32.or (i32.eq (local.get $e) (i32.const 44)) (i32.eq (local.get $e) (i32.const 54))) (then (return (i32.const -1))))
    (if (i32.or (i32.eq (local.get $e) (i32.const 2)) (i32.or (i32.eq (local.get $e) (i32.const 63)) (i32.eq (local.get $e) (i32.const 76))))
      (then (return (i32.const -2))))
    (i32.const -8))

  ;; $am_rootfd: the preopened directory named "/" (fd 3 under the agent).
  (func $am_rootfd (result i32)
    (local $fd i32)
    (if (i32.ne (global.get $am_root) (i32.const -2)) (then (return (global.get $am_root))))
    (global.set $am_root (i32.const -1))
    (local.set $fd (i32.const 3))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $fd) (i32.const 64)))
        (br_if $done (call $am_wasi_fd_prestat_get (local.get $fd) (i32.const 32)))
        (if (i32.eq (i32.load (i32.const 36)) (i32.const 1))
          (then
            (if (i32.eqz (call $am_wasi_fd_prestat_dir_name (local.get $fd) (i32.const 40) (i32.const 1)))
              (then (if (i32.eq (i32.load8_u (i32.const 40)) (i32.const 47))
                (then (global.set $am_root (local.get $fd)) (br $done)))))))
        (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
        (br $next)))
    (global.get $am_root))

  ;; $am_open: opens an absolute path; the fd, or a negative code.
  (func $am_open (param $path i32) (param $len i32) (param $oflags i32) (param $rights i64) (result i32)
    (local $root i32) (local $e i32)
    (local.set $root (call $am_rootfd))
    (if (i32.lt_s (local.get $root) (i32.const 0)) (then (return (i32.const -8))))
    (if (i32.or (i32.lt_s (local.get $len) (i32.const 2)) (i32.ne (i32.load8_u (local.get $path)) (i32.const 47)))
      (then (return (i32.const -3))))
    (local.set $e (call $am_wasi_path_open (local.get $root) (i32.const 1)
      (i32.add (local.get $path) (i32.const 1)) (i32.sub (local.get $len) (i32.const 1))
      (local.get $oflags) (local.get $rights) (i64.const 0) (i32.const 0) (i32.const 48)))
    (if (local.get $e) (then (return (call $am_errno (local.get $e)))))
    (i32.load (i32.const 48)))

  (func $am_read_file (param $path i32) (param $len i32) (result i32)
    (local $fd i32) (local $cap i32) (local $buf i32) (local $new i32) (local $n i32) (local $e i32)
    (local.set $fd (call $am_open (local.get $path) (local.get $len) (i32.const 0) (i64.const 2)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (local.set $cap (i32.const 4096))
    (local.set $buf (call $am_alloc (local.get $cap)))
    (local.set $n (i32.const 0))
    (block $done
      (loop $next
        (if (i32.eq (local.get $n) (local.get $cap))
          (then
            (local.set $new (call $am_alloc (i32.mul (local.get $cap) (i32.const 2))))
            (memory.copy (local.get $new) (local.get $buf) (local.get $n))
            (local.set $buf (local.get $new))
            (local.set $cap (i32.mul (local.get $cap) (i32.const 2)))))
        (i32.store (i32.const 56) (i32.add (local.get $buf) (local.get $n)))
        (i32.store (i32.const 60) (i32.sub (local.get $cap) (local.get $n)))
        (local.set $e (call $am_wasi_fd_read (local.get $fd) (i32.const 56) (i32.const 1) (i32.const 64)))
        (if (local.get $e)
          (then (drop (call $am_wasi_fd_close (local.get $fd))) (return (call $am_errno (local.get $e)))))
        (br_if $done (i32.eqz (i32.load (i32.const 64))))
        (local.set $n (i32.add (local.get $n) (i32.load (i32.const 64))))
        (br $next)))
    (drop (call $am_wasi_fd_close (local.get $fd)))
    (global.set $am_res_ptr (local.get $buf))
    (global.set $am_res_len (local.get $n))
    (local.get $n))

  (func $am_write_file (param $path i32) (param $len i32) (param $data i32) (param $dlen i32) (result i32)
    (local $fd i32) (local $e i32)
    ;; O_CREAT|O_TRUNC, right fd_write
    (local.set $fd (call $am_open (local.get $path) (local.get $len) (i32.const 9) (i64.const 64)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (block $done
      (loop $next
        (br_if $done (i32.le_s (local.get $dlen) (i32.const 0)))
        (i32.store (i32.const 56) (local.get $data))
        (i32.store (i32.const 60) (local.get $dlen))
        (local.set $e (call $am_wasi_fd_write (local.get $fd) (i32.const 56) (i32.const 1) (i32.const 64)))
        (if (i32.or (local.get $e) (i32.eqz (i32.load (i32.const 64))))
          (then (drop (call $am_wasi_fd_close (local.get $fd)))
                (return (if (result i32) (local.get $e) (then (call $am_errno (local.get $e))) (else (i32.const -8))))))
        (local.set $data (i32.add (local.get $data) (i32.load (i32.const 64))))
        (local.set $dlen (i32.sub (local.get $dlen) (i32.load (i32.const 64))))
        (br $next)))
    (if (call $am_wasi_fd_close (local.get $fd)) (then (return (i32.const -8))))
    (i32.const 0))

  ;; $am_list_dir: the names in a directory ("." and ".." left out), each
  ;; followed by "\n", at $am_res_ptr; returns their count.
  (func $am_list_dir (param $path i32) (param $len i32) (result i32)
    (local $fd i32) (local $buf i32) (local $out i32) (local $olen i32) (local $ocap i32) (local $new i32)
    (local $used i32) (local $off i32) (local $nl i32) (local $count i32) (local $cookie i64) (local $e i32) (local $whole i32)
    ;; O_DIRECTORY, right fd_readdir
    (local.set $fd (call $am_open (local.get $path) (local.get $len) (i32.const 2) (i64.const 16384)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (local.set $buf (call $am_alloc (i32.const 8192)))
    (local.set $ocap (i32.const 4096))
    (local.set $out (call $am_alloc (local.get $ocap)))
    (block $done
      (loop $batch
        (local.set $e (call $am_wasi_fd_readdir (local.get $fd) (local.get $buf) (i32.const 8192) (local.get $cookie) (i32.const 64)))
        (if (local.get $e) (then (drop (call $am_wasi_fd_close (local.get $fd))) (return (call $am_errno (local.get $e)))))
        (local.set $used (i32.load (i32.const 64)))
        (local.set $off (i32.const 0))
        (local.set $whole (i32.const 0))
        (block $end
          (loop $entry
            (br_if $end (i32.gt_u (i32.add (local.get $off) (i32.const 24)) (local.get $used)))
            (local.set $nl (i32.load offset=16 (i32.add (local.get $buf) (local.get $off))))
            (br_if $end (i32.gt_u (i32.add (i32.add (local.get $off) (i32.const 24)) (local.get $nl)) (local.get $used)))
            (local.set $cookie (i64.load (i32.add (local.get $buf) (local.get $off))))
            (local.set $whole (i32.add (local.get $whole) (i32.const 1)))
            (if (i32.eqz (i32.or
                  (i32.and (i32.eq (local.get $nl) (i32.const 1)) (i32.eq (i32.load8_u offset=24 (i32.add (local.get $buf) (local.get $off))) (i32.const 46)))
                  (i32.and (i32.eq (local.get $nl) (i32.const 2)) (i32.eq (i32.load16_u offset=24 (i32.add (local.get $buf) (local.get $off))) (i32.const 11822)))))
              (then
                (if (i32.gt_u (i32.add (i32.add (local.get $olen) (local.get $nl)) (i32.const 1)) (local.get $ocap))
                  (then
                    (local.set $ocap (i32.add (i32.mul (local.get $ocap) (i32.const 2)) (local.get $nl)))
                    (local.set $new (call $am_alloc (local.get $ocap)))
                    (memory.copy (local.get $new) (local.get $out) (local.get $olen))
                    (local.set $out (local.get $new))))
                (memory.copy (i32.add (local.get $out) (local.get $olen)) (i32.add (i32.add (local.get $buf) (local.get $off)) (i32.const 24)) (local.get $nl))
                (i32.store8 (i32.add (i32.add (local.get $out) (local.get $olen)) (local.get $nl)) (i32.const 10))
                (local.set $olen (i32.add (i32.add (local.get $olen) (local.get $nl)) (i32.const 1)))
                (local.set $count (i32.add (local.get $count) (i32.const 1)))))
            (local.set $off (i32.add (i32.add (local.get $off) (i32.const 24)) (local.get $nl)))
            (br $entry)))
        (br_if $done (i32.lt_u (local.get $used) (i32.const 8192)))
        (br_if $done (i32.eqz (local.get $whole)))
        (br $batch)))
    (drop (call $am_wasi_fd_close (local.get $fd)))
    (global.set $am_res_ptr (local.get $out))
    (global.set $am_res_len (local.get $olen))
    (local.get $count))

  (func $am_log (param $level i32) (param $p i32) (param $n i32)
    (call $am_host_log (local.get $level) (local.get $p) (local.get $n)))

  ;; $am_write: writes n bytes at p to stdout.
  (func $am_write (param $p i32) (param $n i32)
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (local.get $n))
    (drop (call $am_wasi_fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; $am_finish: {"message": <msg as a JSON string>, "details": null}, exit code.
  (func $am_finish (param $code i32) (param $msg i32) (param $n i32)
    (local $out i32) (local $o i32) (local $c i32) (local $i i32)
    (local.set $out (call $am_alloc (i32.add (i32.mul (local.get $n) (i32.const 6)) (i32.const 2))))
    (local.set $o (local.get $out))
    (i32.store8 (local.get $o) (i32.const 34))
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $msg) (local.get $i))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
          (then
            (i32.store8 (local.get $o) (i32.const 92))
            (i32.store8 offset=1 (local.get $o) (local.get $c))
            (local.set $o (i32.add (local.get $o) (i32.const 2))))
          (else
            (if (i32.lt_u (local.get $c) (i32.const 32))
              (then ;; \u00XX
                (i32.store8 (local.get $o) (i32.const 92))
                (i32.store8 offset=1 (local.get $o) (i32.const 117))
                (i32.store8 offset=2 (local.get $o) (i32.const 48))
                (i32.store8 offset=3 (local.get $o) (i32.const 48))
                (i32.store8 offset=4 (local.get $o) (i32.load8_u (i32.add (i32.const 32888) (i32.shr_u (local.get $c) (i32.const 4)))))
                (i32.store8 offset=5 (local.get $o) (i32.load8_u (i32.add (i32.const 32888) (i32.and (local.get $c) (i32.const 15)))))
                (local.set $o (i32.add (local.get $o) (i32.const 6))))
              (else
                (i32.store8 (local.get $o) (local.get $c))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store8 (local.get $o) (i32.const 34))
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (call $am_write (i32.const 32768) (i32.const 11))
    (call $am_write (local.get $out) (i32.sub (local.get $o) (local.get $out)))
    (call $am_write (i32.const 32784) (i32.const 17))
    (call $am_wasi_proc_exit (local.get $code))
    (unreachable))

  (func $am_compliant (param $msg i32) (param $n i32) (call $am_finish (i32.const 0) (local.get $msg) (local.get $n)))
  (func $am_non_compliant (param $msg i32) (param $n i32) (call $am_finish (i32.const 1) (local.get $msg) (local.get $n)))
  (func $am_not_applicable (param $msg i32) (param $n i32) (call $am_finish (i32.const 2) (local.get $msg) (local.get $n)))
  (func $am_succeeded (param $msg i32) (param $n i32) (call $am_finish (i32.const 0) (local.get $msg) (local.get $n)))
  (func $am_failed (param $msg i32) (param $n i32) (call $am_finish (i32.const 1) (local.get $msg) (local.get $n)))
  (func $am_fatal (param $msg i32) (param $n i32)
    (call $am_host_log (i32.const 3) (local.get $msg) (local.get $n))
    (call $am_finish (i32.const 3) (local.get $msg) (local.get $n)))

;; @section exec-functions
  ;; $am_exec: runs the request {"argv": [...], "stdin": "...", "timeout_ms": n};
  ;; the answer {"exit_code","stdout","stderr"} at $am_res_ptr.
  (func $am_exec (param $req i32) (param $len i32) (result i32)
    (call $am_take (call $am_host_exec (local.get $req) (local.get $len))))

  ;; $am_exec_code: exit_code of the last $am_exec answer.
  (func $am_exec_code (result i32)
    (local $v i32)
    (local.set $v (call $am_field (i32.const 32872) (i32.const 9)))
    (if (result i32) (i32.ge_s (local.get $v) (i32.const 0))
      (then (call $am_atoi (local.get $v) (global.get $am_val_len)))
      (else (i32.const -1))))
