// AssemblyScript guest SDK for amagent worklets and policies (ABI v1).
//
// Build a worklet with wasm-modules/assemblyscript/build-worklet.sh (asc with
// the @assemblyscript/wasi-shim config). This module reads the input
// document (input()), asks the host for facts (fact()), runs allow-listed
// programs (exec()), reads, lists and writes the files the manifest grants
// (readFile(), listDir(), writeFile(); stat() for their metadata), writes
// to the agent log (log()), and ends the run with
// a result (compliant(), nonCompliant(), notApplicable(), succeeded(),
// failed(), fatal()): each writes {"message", "details"} to stdout and
// exits the instance with the ABI's exit code, so it never returns.
//
// AssemblyScript has no catchable exceptions: calls that can fail return
// null and leave the ABI's negative code in lastError().
import { JSONValue, splitObject } from "./json";
export { JSONValue, quote } from "./json";

@external("amagent", "fact")
declare function am_fact(keyPtr: usize, keyLen: i32): i32;
@external("amagent", "exec")
declare function am_exec(reqPtr: usize, reqLen: i32): i32;
@external("amagent", "response")
declare function am_response(bufPtr: usize, bufCap: i32): i32;
@external("amagent", "log")
declare function am_log(level: i32, msgPtr: usize, msgLen: i32): void;

export const ABI_VERSION: i32 = 1;

// Error codes (ABI section 4); ERR_JSON is the SDK's own.
export const ERR_NOT_FOUND: i32 = -1;
export const ERR_DENIED: i32 = -2;
export const ERR_MALFORMED: i32 = -3;
export const ERR_EXEC: i32 = -4;
export const ERR_LIMIT: i32 = -5;
export const ERR_JSON: i32 = -7;
export const ERR_IO: i32 = -8;

// Log levels.
export const DEBUG: i32 = 0;
export const INFO: i32 = 1;
export const WARN: i32 = 2;
export const ERROR: i32 = 3;

// Exit codes; EXIT_ERROR (3) is reported by the agent as an error.
export const EXIT_COMPLIANT: i32 = 0;
export const EXIT_NON_COMPLIANT: i32 = 1;
export const EXIT_NOT_APPLICABLE: i32 = 2;
export const EXIT_SUCCEEDED: i32 = 0;
export const EXIT_FAILED: i32 = 1;
export const EXIT_ERROR: i32 = 3;

let lastCode: i32 = 0;

/** The code of the last failed call (negative), 0 if none failed. */
export function lastError(): i32 { return lastCode; }

/** Text for an error code, as in "not found (-1)". */
export function errorText(code: i32): string {
  let t = "unknown error";
  if (code == ERR_NOT_FOUND) t = "not found";
  else if (code == ERR_DENIED) t = "denied by capability";
  else if (code == ERR_MALFORMED) t = "malformed request";
  else if (code == ERR_EXEC) t = "program could not be started or timed out";
  else if (code == ERR_LIMIT) t = "per-run limit reached";
  else if (code == ERR_JSON) t = "invalid JSON";
  else if (code == ERR_IO) t = "file error";
  return t + " (" + code.toString() + ")";
}

/** The input document. */
export class Input {
  abi: i32 = 0;
  phase: string = "";
  workletName: string = "";
  workletVersion: string = "";
  params: JSONValue = JSONValue.obj();
  /** The scan document as JSON text; scan() parses it. Most worklets ask
   * for a few facts instead, which costs far less than parsing a whole
   * scan with its software list. */
  scanRaw: string = "null";

  /** The scan document, parsed; null if it is not JSON. */
  scan(): JSONValue | null { return JSONValue.parse(this.scanRaw); }

  /** Parameter name, or null. */
  param(name: string): JSONValue | null { return this.params.get(name); }

  /** String parameter name, or def when absent or not a string. */
  paramString(name: string, def: string = ""): string {
    const v = this.params.get(name);
    return v !== null && v.isString() ? v.s : def;
  }

  /** Number parameter name, or def. */
  paramNumber(name: string, def: f64 = 0): f64 {
    const v = this.params.get(name);
    return v !== null && v.isNumber() ? v.n : def;
  }

  /** Boolean parameter name, or def. */
  paramBool(name: string, def: bool = false): bool {
    const v = this.params.get(name);
    return v !== null && v.isBool() ? v.b : def;
  }
}

function str(v: JSONValue | null): string {
  return v !== null && v.isString() ? v.s : "";
}

/** Reads stdin and parses the input document; null if it is not JSON. */
export function input(): Input | null {
  let buf = new ArrayBuffer(16384);
  let len = 0;
  while (true) {
    if (len == buf.byteLength) {
      const bigger = new ArrayBuffer(buf.byteLength * 2);
      memory.copy(changetype<usize>(bigger), changetype<usize>(buf), len);
      buf = bigger;
    }
    const n = process.stdin.read(buf, len);
    if (n <= 0) break;
    len += n;
  }
  return parseInput(String.UTF8.decode(buf.slice(0, len)));
}

/** Parses an input document; the scan is kept as text (see Input.scanRaw). */
export function parseInput(text: string): Input | null {
  const m = splitObject(text);
  if (m === null) { lastCode = ERR_JSON; return null; }
  const inp = new Input();
  for (let i = 0; i < m.keys.length; i++) {
    const k = m.keys[i];
    if (k == "scan") { inp.scanRaw = m.raws[i]; continue; }
    if (k != "abi" && k != "phase" && k != "worklet" && k != "params") continue;
    const v = JSONValue.parse(m.raws[i]);
    if (v === null) { lastCode = ERR_JSON; return null; }
    if (k == "abi" && v.isNumber()) inp.abi = <i32>v.n;
    else if (k == "phase") inp.phase = str(v);
    else if (k == "worklet") { inp.workletName = str(v.get("name")); inp.workletVersion = str(v.get("version")); }
    else if (k == "params" && v.isObject()) inp.params = v;
  }
  return inp;
}

function takeResponse(n: i32): string | null {
  if (n == 0) return "";
  const buf = new ArrayBuffer(n);
  const got = am_response(changetype<usize>(buf), n);
  if (got < 0) { lastCode = got; return null; }
  return String.UTF8.decode(got == n ? buf : buf.slice(0, got));
}

/** The raw JSON text of the fact at a dotted path into the scan, or null. */
export function factRaw(key: string): string | null {
  const k = String.UTF8.encode(key);
  const n = am_fact(changetype<usize>(k), k.byteLength);
  if (n < 0) { lastCode = n; return null; }
  return takeResponse(n);
}

/** The fact at a dotted path into the scan ("os.version"), or null. */
export function fact(key: string): JSONValue | null {
  const raw = factRaw(key);
  if (raw === null) return null;
  const v = JSONValue.parse(raw);
  if (v === null) lastCode = ERR_JSON;
  return v;
}

/** A fact that must be a string, or null (lastError() ERR_JSON if it is not one). */
export function factString(key: string): string | null {
  const v = fact(key);
  if (v === null) return null;
  if (!v.isString()) { lastCode = ERR_JSON; return null; }
  return v.s;
}

// ------------------------------------------------------------------ files
//
// Files are plain WASI preview 1: the agent mounts the device's "/"
// (guarded: only the paths worklet.toml declares) as the module's one
// preopened directory, which is file descriptor 3 (found by its name "/",
// not assumed). A path is opened relative to it with path_open, then read
// with fd_read, listed with fd_readdir, written with fd_write. A path the
// manifest does not declare for this phase fails with EACCES (ERR_DENIED
// here), never as if it were missing (ERR_NOT_FOUND).

@external("wasi_snapshot_preview1", "path_open")
declare function wasi_path_open(dirfd: u32, dirflags: u32, path: usize, pathLen: usize, oflags: u16,
  rightsBase: u64, rightsInheriting: u64, fdflags: u16, fd: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
declare function wasi_fd_read(fd: u32, iovs: usize, iovsLen: usize, nread: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
declare function wasi_fd_write(fd: u32, iovs: usize, iovsLen: usize, nwritten: usize): u16;
@external("wasi_snapshot_preview1", "fd_readdir")
declare function wasi_fd_readdir(fd: u32, buf: usize, bufLen: usize, cookie: u64, bufUsed: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function wasi_fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function wasi_fd_prestat_get(fd: u32, buf: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
declare function wasi_fd_prestat_dir_name(fd: u32, path: usize, len: usize): u16;

const RIGHT_FD_READ: u64 = 0x2;
const RIGHT_FD_WRITE: u64 = 0x40;
const RIGHT_FD_READDIR: u64 = 0x4000;
const OFLAG_CREAT: u16 = 1;
const OFLAG_DIRECTORY: u16 = 2;
const OFLAG_TRUNC: u16 = 8;
const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

let rootFd: i32 = -2; // -2 not looked up yet, -1 none

/** The preopened directory named "/" (fd 3 under the agent). */
function root(): i32 {
  if (rootFd != -2) return rootFd;
  rootFd = -1;
  const st = new ArrayBuffer(8);
  for (let fd: u32 = 3; fd < 64; fd++) {
    if (wasi_fd_prestat_get(fd, changetype<usize>(st)) != 0) break;
    const len = load<u32>(changetype<usize>(st) + 4);
    if (len != 1) continue;
    const name = new ArrayBuffer(1);
    if (wasi_fd_prestat_dir_name(fd, changetype<usize>(name), 1) == 0 && load<u8>(changetype<usize>(name)) == 0x2f) {
      rootFd = <i32>fd;
      break;
    }
  }
  return rootFd;
}

/** Maps a WASI errno to the SDK's codes. */
function fileCode(errno: u16): i32 {
  if (errno == 44 || errno == 54) return ERR_NOT_FOUND; // ENOENT, ENOTDIR
  if (errno == 2 || errno == 63 || errno == 76) return ERR_DENIED; // EACCES, EPERM, ENOTCAPABLE
  return ERR_IO;
}

/** Opens an absolute path; the fd, or -1 with lastError() set. */
function open(path: string, oflags: u16, rights: u64): i32 {
  const r = root();
  if (r < 0 || path.length == 0 || path.charCodeAt(0) != 0x2f) { lastCode = r < 0 ? ERR_IO : ERR_MALFORMED; return -1; }
  let rel = path.substring(1);
  if (rel.length == 0) rel = ".";
  const p = String.UTF8.encode(rel);
  const out = new ArrayBuffer(4);
  const e = wasi_path_open(<u32>r, LOOKUP_SYMLINK_FOLLOW, changetype<usize>(p), p.byteLength, oflags, rights, 0, 0, changetype<usize>(out));
  if (e != 0) { lastCode = fileCode(e); return -1; }
  return <i32>load<u32>(changetype<usize>(out));
}

/** The contents of a file the manifest declares readable, or null (see lastError()). */
export function readBytes(path: string): ArrayBuffer | null {
  const fd = open(path, 0, RIGHT_FD_READ);
  if (fd < 0) return null;
  let buf = new ArrayBuffer(4096);
  let len = 0;
  const iov = new ArrayBuffer(12); // iovec {ptr, len} + nread
  const at = changetype<usize>(iov);
  while (true) {
    if (len == buf.byteLength) {
      const bigger = new ArrayBuffer(buf.byteLength * 2);
      memory.copy(changetype<usize>(bigger), changetype<usize>(buf), len);
      buf = bigger;
    }
    store<u32>(at, <u32>(changetype<usize>(buf) + len));
    store<u32>(at + 4, <u32>(buf.byteLength - len));
    const e = wasi_fd_read(<u32>fd, at, 1, at + 8);
    if (e != 0) { wasi_fd_close(<u32>fd); lastCode = fileCode(e); return null; }
    const n = load<u32>(at + 8);
    if (n == 0) break;
    len += <i32>n;
  }
  wasi_fd_close(<u32>fd);
  return buf.slice(0, len);
}

/** The contents of a file the manifest declares readable, as UTF-8 text, or null (see lastError()). */
export function readFile(path: string): string | null {
  const b = readBytes(path);
  return b === null ? null : String.UTF8.decode(b);
}

/** The names in a directory the manifest declares as a tree ("dir/"), sorted, without "." and ".."; or null. */
export function listDir(path: string): Array<string> | null {
  const fd = open(path, OFLAG_DIRECTORY, RIGHT_FD_READDIR);
  if (fd < 0) return null;
  const names = new Array<string>();
  const buf = new ArrayBuffer(8192);
  const used = new ArrayBuffer(4);
  const b = changetype<usize>(buf);
  let cookie: u64 = 0;
  while (true) {
    const e = wasi_fd_readdir(<u32>fd, b, buf.byteLength, cookie, changetype<usize>(used));
    if (e != 0) { wasi_fd_close(<u32>fd); lastCode = fileCode(e); return null; }
    const n = <i32>load<u32>(changetype<usize>(used));
    let off = 0;
    let whole = 0; // entries read whole in this batch
    while (off + 24 <= n) {
      const namlen = <i32>load<u32>(b + off + 16);
      if (off + 24 + namlen > n) break; // cut at the end of the buffer: read again from its cookie
      const name = String.UTF8.decodeUnsafe(b + off + 24, namlen);
      if (name != "." && name != "..") names.push(name);
      cookie = load<u64>(b + off);
      off += 24 + namlen;
      whole++;
    }
    if (n < buf.byteLength) break;
    if (whole == 0) { wasi_fd_close(<u32>fd); lastCode = ERR_IO; return null; } // one name longer than the buffer
  }
  wasi_fd_close(<u32>fd);
  names.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
  return names;
}

/** Replaces the contents of path (created if new); only paths under [remediate] write, in that phase. False on failure (see lastError()). */
export function writeFile(path: string, data: string): bool {
  const fd = open(path, OFLAG_CREAT | OFLAG_TRUNC, RIGHT_FD_WRITE);
  if (fd < 0) return false;
  const bytes = String.UTF8.encode(data);
  const iov = new ArrayBuffer(12);
  const at = changetype<usize>(iov);
  let done = 0;
  while (done < bytes.byteLength) {
    store<u32>(at, <u32>(changetype<usize>(bytes) + done));
    store<u32>(at + 4, <u32>(bytes.byteLength - done));
    const e = wasi_fd_write(<u32>fd, at, 1, at + 8);
    if (e != 0) { wasi_fd_close(<u32>fd); lastCode = fileCode(e); return false; }
    const n = <i32>load<u32>(at + 8);
    if (n == 0) { wasi_fd_close(<u32>fd); lastCode = ERR_IO; return false; }
    done += n;
  }
  if (wasi_fd_close(<u32>fd) != 0) { lastCode = ERR_IO; return false; }
  return true;
}

/** The path-metadata fact (ABI section 4): what lstat says of a path the phase declares readable. */
export class PathInfo {
  /** "file", "dir", "symlink" or "other". */
  type: string = "";
  /** Permission bits with setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  mode: i32 = 0;
  uid: i64 = 0;
  gid: i64 = 0;
  /** "" when the device has no name for uid. */
  user: string = "";
  /** "" when the device has no name for gid. */
  group: string = "";
  size: i64 = 0;
  /** RFC 3339, UTC. */
  mtime: string = "";
}

/**
 * The metadata of an absolute path, or null: lastError() is ERR_NOT_FOUND
 * when it does not exist, ERR_DENIED when worklet.toml does not declare it
 * readable for this phase (the agent logs it and lists it in "denied").
 */
export function stat(path: string): PathInfo | null {
  const v = fact(path);
  if (v === null) return null;
  const p = new PathInfo();
  p.type = str(v.get("type"));
  const m = str(v.get("mode"));
  for (let i = 0; i < m.length; i++) {
    const c = m.charCodeAt(i) - 0x30;
    if (c < 0 || c > 7) { lastCode = ERR_JSON; return null; }
    p.mode = p.mode * 8 + c;
  }
  p.uid = <i64>num(v.get("uid"));
  p.gid = <i64>num(v.get("gid"));
  p.user = str(v.get("user"));
  p.group = str(v.get("group"));
  p.size = <i64>num(v.get("size"));
  p.mtime = str(v.get("mtime"));
  return p;
}

function num(v: JSONValue | null): f64 {
  return v !== null && v.isNumber() ? v.n : 0;
}

/** What a program run through exec() did. */
export class ExecResult {
  exitCode: i32 = 0;
  stdout: string = "";
  stderr: string = "";
}

/**
 * Runs argv on the device (no shell) when the manifest allows it for this
 * phase, with stdin on its standard input; timeoutMs 0 keeps the host's
 * default. Returns null on a host error (see lastError()); a program that
 * ran and exited non-zero is a result: look at exitCode.
 */
export function exec(argv: Array<string>, stdin: string = "", timeoutMs: i32 = 0): ExecResult | null {
  const a = JSONValue.arr();
  for (let i = 0; i < argv.length; i++) a.push(JSONValue.str(argv[i]));
  const req = JSONValue.obj().set("argv", a).set("stdin", JSONValue.str(stdin));
  if (timeoutMs > 0) req.set("timeout_ms", JSONValue.num(<f64>timeoutMs));
  const r = String.UTF8.encode(req.toString());
  const n = am_exec(changetype<usize>(r), r.byteLength);
  if (n < 0) { lastCode = n; return null; }
  const raw = takeResponse(n);
  if (raw === null) return null;
  const v = JSONValue.parse(raw);
  if (v === null) { lastCode = ERR_JSON; return null; }
  const res = new ExecResult();
  const code = v.get("exit_code");
  res.exitCode = code !== null && code.isNumber() ? <i32>code.n : -1;
  res.stdout = str(v.get("stdout"));
  res.stderr = str(v.get("stderr"));
  return res;
}

/** Writes msg to the agent log at level (DEBUG, INFO, WARN, ERROR). */
export function log(level: i32, msg: string): void {
  const m = String.UTF8.encode(msg);
  am_log(level, changetype<usize>(m), m.byteLength);
}

/** Writes {"message": msg, "details": details} to stdout and exits with code. */
export function finish(code: i32, msg: string, details: JSONValue | null): void {
  const out = JSONValue.obj().set("message", JSONValue.str(msg)).set("details", details !== null ? details : JSONValue.nul());
  process.stdout.write(out.toString() + "\n");
  process.exit(code);
}

/** Ends an evaluation: compliant (exit 0). Does not return. */
export function compliant(msg: string, details: JSONValue | null = null): void { finish(EXIT_COMPLIANT, msg, details); }
/** Ends an evaluation: not compliant (exit 1). Does not return. */
export function nonCompliant(msg: string, details: JSONValue | null = null): void { finish(EXIT_NON_COMPLIANT, msg, details); }
/** Ends an evaluation: does not apply to this device (exit 2). Does not return. */
export function notApplicable(msg: string, details: JSONValue | null = null): void { finish(EXIT_NOT_APPLICABLE, msg, details); }
/** Ends a remediation that worked (exit 0). Does not return. */
export function succeeded(msg: string, details: JSONValue | null = null): void { finish(EXIT_SUCCEEDED, msg, details); }
/** Ends a remediation that did not work (exit 1). Does not return. */
export function failed(msg: string, details: JSONValue | null = null): void { finish(EXIT_FAILED, msg, details); }
/** Ends the run as an error (exit 3), logging msg at error level. Does not return. */
export function fatal(msg: string): void { log(ERROR, msg); finish(EXIT_ERROR, msg, null); }
