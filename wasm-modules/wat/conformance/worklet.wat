;; SDK conformance worklet in hand-written WebAssembly text, with no SDK.
;; Every SDK in wasm-modules/ has the same worklet, and all of them pass the
;; same cases in tests/: evaluate compares param want_version with fact
;; os.version (fact os.family other than "linux": not applicable) and puts
;; the output of `uname -r` in the details; remediate runs `true`.
;;
;; It shows the ABI at its rawest: read stdin with fd_read, call the
;; amagent host functions and copy answers out of the response slot, write
;; the result JSON with fd_write, and exit with proc_exit.
;;
;; Simplifications a real JSON parser would not make (fine here, documented
;; for anyone copying this): want_version is found by searching the input
;; document for the first "want_version" key (the host writes params before
;; scan), and JSON strings are compared and copied in their escaped form.
;;
;; Build: wat2wasm worklet.wat -o worklet.wasm   (see build.sh)
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  ;; fact(key_ptr, key_len) -> length of the JSON answer in the response slot, or < 0
  (import "amagent" "fact" (func $fact (param i32 i32) (result i32)))
  ;; exec(req_ptr, req_len) -> length of {"exit_code","stdout","stderr"} in the slot, or < 0
  (import "amagent" "exec" (func $exec (param i32 i32) (result i32)))
  ;; response(buf_ptr, buf_cap) -> bytes copied from the slot
  (import "amagent" "response" (func $response (param i32 i32) (result i32)))
  ;; log(level, msg_ptr, msg_len); level 0 debug, 1 info, 2 warn, 3 error
  (import "amagent" "log" (func $log (param i32 i32 i32)))

  ;; Memory map:
  ;;   0     iovec {buf, len} for fd_read/fd_write, then the count at 8
  ;;   16    argc, 20 argv buffer size
  ;;   64    argv pointers (up to 240)
  ;;   1024  NUL-terminated constants, one every 64 bytes
  ;;   8192  argv strings (4 KiB)      12288 fact os.family answer (4 KiB)
  ;;   16384 fact os.version (4 KiB)   20480 exec answer (16 KiB)
  ;;   36864 output being built (28 KiB)
  ;;   65536 stdin, growing the memory as needed
  (memory (export "memory") 2)

  (global $in_len (mut i32) (i32.const 0))
  (global $out_len (mut i32) (i32.const 0))
  (global $tok_end (mut i32) (i32.const 0))

  (data (i32.const 1024) "\"want_version\"\00")
  (data (i32.const 1088) "os.family\00")
  (data (i32.const 1152) "os.version\00")
  (data (i32.const 1216) "\"linux\"\00")
  (data (i32.const 1280) "{\"argv\":[\"uname\",\"-r\"],\"stdin\":\"\",\"timeout_ms\":5000}\00")
  (data (i32.const 1344) "{\"argv\":[\"true\"],\"stdin\":\"\",\"timeout_ms\":5000}\00")
  (data (i32.const 1408) "\"stdout\"\00")
  (data (i32.const 1472) "\"exit_code\"\00")
  (data (i32.const 1536) "{\"message\":\"\00")
  (data (i32.const 1600) "\",\"details\":null}\n\00")
  (data (i32.const 1664) "conformance: evaluate\00")
  (data (i32.const 1728) "conformance: remediate\00")
  (data (i32.const 1792) "remediate\00")
  (data (i32.const 1856) "param want_version missing\00")
  (data (i32.const 1920) "fact os.family: \00")
  (data (i32.const 1984) "fact os.version: \00")
  (data (i32.const 2048) "exec uname -r: \00")
  (data (i32.const 2112) "exec true: \00")
  (data (i32.const 2176) "not found (-1)\00")
  (data (i32.const 2240) "denied by capability (-2)\00")
  (data (i32.const 2304) "malformed request (-3)\00")
  (data (i32.const 2368) "program could not be started or timed out (-4)\00")
  (data (i32.const 2432) "per-run limit reached (-5)\00")
  (data (i32.const 2496) "host error\00")
  (data (i32.const 2560) "os.family is \00")
  (data (i32.const 2624) ", not linux\",\"details\":{\"os_family\":\00")
  (data (i32.const 2688) "}}\n\00")
  (data (i32.const 2752) "os.version \00")
  (data (i32.const 2816) " matches want_version\",\"details\":{\"want_version\":\00")
  (data (i32.const 2880) " differs from want_version \00")
  (data (i32.const 2944) "\",\"details\":{\"want_version\":\00")
  (data (i32.const 3008) ",\"os_version\":\00")
  (data (i32.const 3072) ",\"uname_r\":\00")
  (data (i32.const 3136) "remediated: true exited 0\",\"details\":{\"exit_code\":0}}\n\00")
  (data (i32.const 3200) "true exited \00")
  (data (i32.const 3264) "\",\"details\":{\"exit_code\":\00")
  (data (i32.const 3328) "not a JSON string\00")
  (data (i32.const 3392) "answer too large or malformed\00")
  (data (i32.const 3456) "cannot read stdin\00")
  (data (i32.const 3520) "input too large\00")

  ;; strlen of a NUL-terminated constant
  (func $strlen (param $p i32) (result i32)
    (local $i i32)
    (local.set $i (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $i) (local.get $p)))

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

  ;; $find returns the address of the first occurrence of constant $needle
  ;; in [$p, $end), or -1.
  (func $find (param $p i32) (param $end i32) (param $needle i32) (result i32)
    (local $n i32)
    (local.set $n (call $strlen (local.get $needle)))
    (block $none
      (loop $next
        (br_if $none (i32.gt_s (i32.add (local.get $p) (local.get $n)) (local.get $end)))
        (if (call $memeq (local.get $p) (local.get $needle) (local.get $n))
          (then (return (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  (func $is_ws (param $c i32) (result i32)
    (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
            (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13)))))

  (func $skip_ws (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $p) (local.get $end)))
        (br_if $done (i32.eqz (call $is_ws (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; $token_end returns the end of the scalar JSON token at $p: a string
  ;; (through its closing quote) or a number/literal; -1 if unterminated.
  (func $token_end (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 34))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (loop $next
          (if (i32.ge_s (local.get $p) (local.get $end)) (then (return (i32.const -1))))
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.eq (local.get $c) (i32.const 92))
            (then (local.set $p (i32.add (local.get $p) (i32.const 2))) (br $next)))
          (if (i32.eq (local.get $c) (i32.const 34))
            (then (return (i32.add (local.get $p) (i32.const 1)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eq (local.get $c) (i32.const 44)))  ;; ,
        (br_if $done (i32.eq (local.get $c) (i32.const 125))) ;; }
        (br_if $done (i32.eq (local.get $c) (i32.const 93)))  ;; ]
        (br_if $done (call $is_ws (local.get $c)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; $value_of finds constant key $key (with its quotes) in [$p, $end) and
  ;; returns the start of its scalar value, setting $tok_end; -1 if absent.
  (func $value_of (param $p i32) (param $end i32) (param $key i32) (result i32)
    (local $at i32)
    (local.set $at (call $find (local.get $p) (local.get $end) (local.get $key)))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $at (call $skip_ws (i32.add (local.get $at) (call $strlen (local.get $key))) (local.get $end)))
    (if (i32.ge_s (local.get $at) (local.get $end)) (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u (local.get $at)) (i32.const 58)) (then (return (i32.const -1))))
    (local.set $at (call $skip_ws (i32.add (local.get $at) (i32.const 1)) (local.get $end)))
    (if (i32.ge_s (local.get $at) (local.get $end)) (then (return (i32.const -1))))
    (global.set $tok_end (call $token_end (local.get $at) (local.get $end)))
    (if (i32.lt_s (global.get $tok_end) (i32.const 0)) (then (return (i32.const -1))))
    (local.get $at))

  ;; Output: append bytes to the buffer at 36864, write it and exit.
  (func $put (param $p i32) (param $n i32)
    (if (i32.gt_u (i32.add (global.get $out_len) (local.get $n)) (i32.const 28672))
      (then (local.set $n (i32.sub (i32.const 28672) (global.get $out_len)))))
    (memory.copy (i32.add (i32.const 36864) (global.get $out_len)) (local.get $p) (local.get $n))
    (global.set $out_len (i32.add (global.get $out_len) (local.get $n))))

  (func $put_z (param $p i32) (call $put (local.get $p) (call $strlen (local.get $p))))

  (func $finish (param $code i32)
    (i32.store (i32.const 0) (i32.const 36864))
    (i32.store (i32.const 4) (global.get $out_len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (local.get $code))
    (unreachable))

  ;; $fatal ends the run as an error (exit 3): message = constant $prefix
  ;; followed by the text of error $code (if $code < 0) or constant $code
  ;; (if $code > 0); the message is also logged at level 3.
  (func $fatal (param $prefix i32) (param $code i32)
    (local $start i32)
    (local $text i32)
    (global.set $out_len (i32.const 0))
    (call $put_z (i32.const 1536))
    (local.set $start (global.get $out_len))
    (call $put_z (local.get $prefix))
    (local.set $text (local.get $code))
    (if (i32.lt_s (local.get $code) (i32.const 0))
      (then
        (local.set $text (i32.const 2496))
        (if (i32.eq (local.get $code) (i32.const -1)) (then (local.set $text (i32.const 2176))))
        (if (i32.eq (local.get $code) (i32.const -2)) (then (local.set $text (i32.const 2240))))
        (if (i32.eq (local.get $code) (i32.const -3)) (then (local.set $text (i32.const 2304))))
        (if (i32.eq (local.get $code) (i32.const -4)) (then (local.set $text (i32.const 2368))))
        (if (i32.eq (local.get $code) (i32.const -5)) (then (local.set $text (i32.const 2432))))))
    (if (i32.ne (local.get $text) (i32.const 0)) (then (call $put_z (local.get $text))))
    (call $log (i32.const 3) (i32.add (i32.const 36864) (local.get $start))
      (i32.sub (global.get $out_len) (local.get $start)))
    (call $put_z (i32.const 1600))
    (call $finish (i32.const 3)))

  ;; $answer copies an n-byte response slot (n from fact/exec) to $buf of
  ;; $cap bytes; an error or an answer that does not fit is fatal.
  (func $answer (param $n i32) (param $buf i32) (param $cap i32) (param $what i32) (result i32)
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $fatal (local.get $what) (local.get $n))))
    (if (i32.gt_s (local.get $n) (local.get $cap)) (then (call $fatal (local.get $what) (i32.const 3392))))
    (call $response (local.get $buf) (local.get $n)))

  (func $read_stdin
    (local $n i32)
    (loop $next
      ;; keep 64 KiB free after the data read so far
      (if (i32.gt_u (i32.add (i32.const 131072) (global.get $in_len))
                    (i32.mul (memory.size) (i32.const 65536)))
        (then (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0))
                (then (call $fatal (i32.const 3520) (i32.const 0))))))
      (i32.store (i32.const 0) (i32.add (i32.const 65536) (global.get $in_len)))
      (i32.store (i32.const 4) (i32.const 65536))
      (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
        (then (call $fatal (i32.const 3456) (i32.const 0))))
      (local.set $n (i32.load (i32.const 8)))
      (if (i32.gt_s (local.get $n) (i32.const 0))
        (then (global.set $in_len (i32.add (global.get $in_len) (local.get $n))) (br $next)))))

  ;; $is_remediate: argv[1] == "remediate"
  (func $is_remediate (result i32)
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (if (i32.or (i32.lt_u (i32.load (i32.const 16)) (i32.const 2))
                (i32.or (i32.gt_u (i32.load (i32.const 16)) (i32.const 240))
                        (i32.gt_u (i32.load (i32.const 20)) (i32.const 4096))))
      (then (return (i32.const 0))))
    (drop (call $args_get (i32.const 64) (i32.const 8192)))
    (call $memeq (i32.load (i32.const 68)) (i32.const 1792) (i32.const 10)))

  (func $evaluate
    (local $end i32) (local $want i32) (local $want_end i32)
    (local $fam_n i32) (local $ver_n i32) (local $ex_n i32)
    (local $out i32) (local $out_end i32)
    (call $log (i32.const 1) (i32.const 1664) (call $strlen (i32.const 1664)))
    ;; params.want_version, a non-empty string
    (local.set $end (i32.add (i32.const 65536) (global.get $in_len)))
    (local.set $want (call $value_of (i32.const 65536) (local.get $end) (i32.const 1024)))
    (local.set $want_end (global.get $tok_end))
    (if (i32.or (i32.lt_s (local.get $want) (i32.const 0))
                (i32.or (i32.ne (i32.load8_u (local.get $want)) (i32.const 34))
                        (i32.le_s (i32.sub (local.get $want_end) (local.get $want)) (i32.const 2))))
      (then (call $fatal (i32.const 1856) (i32.const 0))))
    ;; fact os.family
    (local.set $fam_n (call $answer
      (call $fact (i32.const 1088) (call $strlen (i32.const 1088))) (i32.const 12288) (i32.const 4096) (i32.const 1920)))
    (if (i32.ne (i32.load8_u (i32.const 12288)) (i32.const 34))
      (then (call $fatal (i32.const 1920) (i32.const 3328))))
    (if (i32.eqz (i32.and (i32.eq (local.get $fam_n) (i32.const 7))
                          (call $memeq (i32.const 12288) (i32.const 1216) (i32.const 7))))
      (then
        (call $put_z (i32.const 1536))
        (call $put_z (i32.const 2560))
        (call $put (i32.const 12289) (i32.sub (local.get $fam_n) (i32.const 2)))
        (call $put_z (i32.const 2624))
        (call $put (i32.const 12288) (local.get $fam_n))
        (call $put_z (i32.const 2688))
        (call $finish (i32.const 2))))
    ;; fact os.version
    (local.set $ver_n (call $answer
      (call $fact (i32.const 1152) (call $strlen (i32.const 1152))) (i32.const 16384) (i32.const 4096) (i32.const 1984)))
    (if (i32.ne (i32.load8_u (i32.const 16384)) (i32.const 34))
      (then (call $fatal (i32.const 1984) (i32.const 3328))))
    ;; exec uname -r
    (local.set $ex_n (call $answer
      (call $exec (i32.const 1280) (call $strlen (i32.const 1280))) (i32.const 20480) (i32.const 16384) (i32.const 2048)))
    (local.set $out (call $value_of (i32.const 20480) (i32.add (i32.const 20480) (local.get $ex_n)) (i32.const 1408)))
    (local.set $out_end (global.get $tok_end))
    (if (i32.lt_s (local.get $out) (i32.const 0)) (then (call $fatal (i32.const 2048) (i32.const 3392))))
    ;; the message
    (call $put_z (i32.const 1536))
    (call $put_z (i32.const 2752))
    (call $put (i32.const 16385) (i32.sub (local.get $ver_n) (i32.const 2)))
    (if (i32.and (i32.eq (local.get $ver_n) (i32.sub (local.get $want_end) (local.get $want)))
                 (call $memeq (i32.const 16384) (local.get $want) (local.get $ver_n)))
      (then (call $put_z (i32.const 2816)))
      (else
        (call $put_z (i32.const 2880))
        (call $put (i32.add (local.get $want) (i32.const 1)) (i32.sub (i32.sub (local.get $want_end) (local.get $want)) (i32.const 2)))
        (call $put_z (i32.const 2944))))
    ;; the details
    (call $put (local.get $want) (i32.sub (local.get $want_end) (local.get $want)))
    (call $put_z (i32.const 3008))
    (call $put (i32.const 16384) (local.get $ver_n))
    (call $put_z (i32.const 3072))
    (call $put (local.get $out) (i32.sub (local.get $out_end) (local.get $out)))
    (call $put_z (i32.const 2688))
    (if (i32.and (i32.eq (local.get $ver_n) (i32.sub (local.get $want_end) (local.get $want)))
                 (call $memeq (i32.const 16384) (local.get $want) (local.get $ver_n)))
      (then (call $finish (i32.const 0))))
    (call $finish (i32.const 1)))

  (func $remediate
    (local $ex_n i32) (local $code i32) (local $code_end i32)
    (call $log (i32.const 1) (i32.const 1728) (call $strlen (i32.const 1728)))
    (local.set $ex_n (call $answer
      (call $exec (i32.const 1344) (call $strlen (i32.const 1344))) (i32.const 20480) (i32.const 16384) (i32.const 2112)))
    (local.set $code (call $value_of (i32.const 20480) (i32.add (i32.const 20480) (local.get $ex_n)) (i32.const 1472)))
    (local.set $code_end (global.get $tok_end))
    (if (i32.lt_s (local.get $code) (i32.const 0)) (then (call $fatal (i32.const 2112) (i32.const 3392))))
    (if (i32.and (i32.eq (i32.sub (local.get $code_end) (local.get $code)) (i32.const 1))
                 (i32.eq (i32.load8_u (local.get $code)) (i32.const 48)))
      (then
        (call $put_z (i32.const 1536))
        (call $put_z (i32.const 3136))
        (call $finish (i32.const 0))))
    (call $put_z (i32.const 1536))
    (call $put_z (i32.const 3200))
    (call $put (local.get $code) (i32.sub (local.get $code_end) (local.get $code)))
    (call $put_z (i32.const 3264))
    (call $put (local.get $code) (i32.sub (local.get $code_end) (local.get $code)))
    (call $put_z (i32.const 2688))
    (call $finish (i32.const 1)))

  (func (export "_start")
    (call $read_stdin)
    (if (call $is_remediate) (then (call $remediate)))
    (call $evaluate))
)
