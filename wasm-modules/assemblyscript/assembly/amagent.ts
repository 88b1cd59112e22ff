// AssemblyScript guest SDK for amagent worklets and policies (ABI v1).
//
// Build a worklet with wasm-modules/assemblyscript/build-worklet.sh (asc with
// the @assemblyscript/wasi-shim config). This module reads the input
// document (input()), asks the host for facts (fact()), runs allow-listed
// programs (exec()), writes to the agent log (log()), and ends the run with
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
