//! Guest SDK for amagent worklets and policies (ABI v1), in Rust.
//!
//! A worklet is a WASI preview 1 command module (`wasm32-wasi`). This crate
//! reads the input document from stdin ([`input`]), asks the host for facts
//! from the device scan ([`fact`]), runs allow-listed programs ([`exec`]),
//! reads, lists and writes the files the manifest grants ([`read_file`],
//! [`list_dir`], [`write_file`]) and their metadata ([`stat`]),
//! writes to the agent log ([`log`]) and ends the run with a result
//! ([`compliant`], [`non_compliant`], [`not_applicable`], [`succeeded`],
//! [`failed`], [`fatal`]): each writes `{"message", "details"}` to stdout
//! and exits with the ABI's exit code.
//!
//! It has no dependencies, so it carries its own small JSON reader and
//! writer ([`Value`]), enough for worklets. See `wasm-modules/README.md` for
//! the ABI and `wasm-modules/rust/README.md` for the build command.

use std::fmt;
use std::io::{Read, Write};

pub mod json;
pub use json::Value;

/// The guest ABI version this SDK implements.
pub const ABI_VERSION: i64 = 1;

/// Exit codes of the ABI. `EXIT_ERROR` (3) is reported as an error.
pub const EXIT_COMPLIANT: i32 = 0;
pub const EXIT_NON_COMPLIANT: i32 = 1;
pub const EXIT_NOT_APPLICABLE: i32 = 2;
pub const EXIT_SUCCEEDED: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_ERROR: i32 = 3;

/// Log levels of the host's `log` function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// What went wrong, by the ABI's error codes plus the SDK's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// -1: fact absent, or exec not in the recorded scan.
    NotFound,
    /// -2: denied by capability (the manifest's allowlist).
    Denied,
    /// -3: malformed request or out-of-bounds pointer.
    Malformed,
    /// -4: the program could not be started or timed out.
    Exec,
    /// -5: a per-run limit was reached.
    Limit,
    /// Another negative code.
    Unknown(i32),
    /// The SDK could not parse JSON (input document or host answer).
    Json,
    /// Reading stdin, or a file operation, failed otherwise (the context
    /// says what and why).
    Io,
}

impl ErrorKind {
    /// Maps an ABI code to its kind.
    pub fn from_code(code: i32) -> ErrorKind {
        match code {
            -1 => ErrorKind::NotFound,
            -2 => ErrorKind::Denied,
            -3 => ErrorKind::Malformed,
            -4 => ErrorKind::Exec,
            -5 => ErrorKind::Limit,
            c => ErrorKind::Unknown(c),
        }
    }
}

/// An error with what was being done ("fact os.version", "exec uname -r").
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub context: String,
}

impl Error {
    fn new(kind: ErrorKind, context: impl Into<String>) -> Error {
        Error { kind, context: context.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, code) = match self.kind {
            ErrorKind::NotFound => ("not found", -1),
            ErrorKind::Denied => ("denied by capability", -2),
            ErrorKind::Malformed => ("malformed request", -3),
            ErrorKind::Exec => ("program could not be started or timed out", -4),
            ErrorKind::Limit => ("per-run limit reached", -5),
            ErrorKind::Unknown(c) => ("unknown host error", c),
            ErrorKind::Json => return write!(f, "{}: invalid JSON", self.context),
            ErrorKind::Io => return write!(f, "{}: I/O error", self.context),
        };
        write!(f, "{}: {} ({})", self.context, text, code)
    }
}

impl std::error::Error for Error {}

#[cfg(target_arch = "wasm32")]
mod host {
    #[link(wasm_import_module = "amagent")]
    extern "C" {
        #[link_name = "fact"]
        fn am_fact(key_ptr: *const u8, key_len: i32) -> i32;
        #[link_name = "exec"]
        fn am_exec(req_ptr: *const u8, req_len: i32) -> i32;
        #[link_name = "response"]
        fn am_response(buf_ptr: *mut u8, buf_cap: i32) -> i32;
        #[link_name = "log"]
        fn am_log(level: i32, msg_ptr: *const u8, msg_len: i32);
    }
    pub fn fact(key: &[u8]) -> i32 {
        unsafe { am_fact(key.as_ptr(), key.len() as i32) }
    }
    pub fn exec(req: &[u8]) -> i32 {
        unsafe { am_exec(req.as_ptr(), req.len() as i32) }
    }
    pub fn response(buf: &mut [u8]) -> i32 {
        unsafe { am_response(buf.as_mut_ptr(), buf.len() as i32) }
    }
    pub fn log(level: i32, msg: &[u8]) {
        unsafe { am_log(level, msg.as_ptr(), msg.len() as i32) }
    }
}

/// Outside wasm32 there is no host: the crate still builds (for unit tests
/// of worklet logic) and host calls answer "not found".
#[cfg(not(target_arch = "wasm32"))]
mod host {
    pub fn fact(_: &[u8]) -> i32 {
        -1
    }
    pub fn exec(_: &[u8]) -> i32 {
        -1
    }
    pub fn response(_: &mut [u8]) -> i32 {
        0
    }
    pub fn log(level: i32, msg: &[u8]) {
        eprintln!("amagent log level {}: {}", level, String::from_utf8_lossy(msg));
    }
}

/// Names the module being run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Worklet {
    pub name: String,
    pub version: String,
}

/// The input document (stdin).
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub abi: i64,
    /// "evaluate" or "remediate".
    pub phase: String,
    pub worklet: Worklet,
    /// The parameters, an object.
    pub params: Value,
    /// The scan document as JSON text; [`Input::scan`] parses it. Most
    /// worklets ask for a few facts instead, which costs less than parsing
    /// a whole scan with its software list.
    pub scan_raw: String,
}

impl Input {
    /// Parses an input document.
    /// Parses an input document; the scan is only checked for balanced
    /// structure and kept as text.
    pub fn parse(text: &str) -> Result<Input, Error> {
        let bad = |e: String| Error::new(ErrorKind::Json, format!("input document: {}", e));
        let mut input = Input {
            abi: 0,
            phase: String::new(),
            worklet: Worklet::default(),
            params: Value::Object(Vec::new()),
            scan_raw: "null".to_string(),
        };
        for (key, raw) in json::split_object(text).map_err(bad)? {
            if key == "scan" {
                input.scan_raw = raw.to_string();
                continue;
            }
            if !matches!(key.as_str(), "abi" | "phase" | "worklet" | "params") {
                continue;
            }
            let v = Value::parse(raw).map_err(|e| bad(format!("{}: {}", key, e)))?;
            let s = |v: Option<&Value>| v.and_then(|v| v.as_str()).unwrap_or("").to_string();
            match key.as_str() {
                "abi" => input.abi = v.as_f64().unwrap_or(0.0) as i64,
                "phase" => input.phase = s(Some(&v)),
                "worklet" => input.worklet = Worklet { name: s(v.get("name")), version: s(v.get("version")) },
                _ => {
                    if let Value::Object(_) = v {
                        input.params = v;
                    }
                }
            }
        }
        Ok(input)
    }

    /// The scan document, parsed.
    pub fn scan(&self) -> Result<Value, Error> {
        Value::parse(&self.scan_raw).map_err(|e| Error::new(ErrorKind::Json, format!("scan: {}", e)))
    }

    /// The parameter called name, if present.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    /// A string parameter, if present and a string.
    pub fn param_str(&self, name: &str) -> Option<&str> {
        self.param(name).and_then(|v| v.as_str())
    }

    /// An integer parameter, if present and a number.
    pub fn param_i64(&self, name: &str) -> Option<i64> {
        self.param(name).and_then(|v| v.as_f64()).map(|f| f as i64)
    }

    /// A boolean parameter, if present and a boolean.
    pub fn param_bool(&self, name: &str) -> Option<bool> {
        self.param(name).and_then(|v| v.as_bool())
    }
}

/// Reads stdin and parses the input document. Call it once.
pub fn input() -> Result<Input, Error> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|_| Error::new(ErrorKind::Io, "input document"))?;
    Input::parse(&text)
}

fn take_response(n: i32, context: &str) -> Result<String, Error> {
    let mut buf = vec![0u8; n as usize];
    if n > 0 {
        let got = host::response(&mut buf);
        if got < 0 {
            return Err(Error::new(ErrorKind::from_code(got), context));
        }
        buf.truncate(got as usize);
    }
    String::from_utf8(buf).map_err(|_| Error::new(ErrorKind::Json, context))
}

/// The raw JSON text of the fact at a dotted path into the scan
/// ("os.version", "reboot_required", "software").
pub fn fact_raw(key: &str) -> Result<String, Error> {
    let context = format!("fact {}", key);
    let n = host::fact(key.as_bytes());
    if n < 0 {
        return Err(Error::new(ErrorKind::from_code(n), context));
    }
    take_response(n, &context)
}

/// The fact at a dotted path into the scan, parsed.
pub fn fact(key: &str) -> Result<Value, Error> {
    let raw = fact_raw(key)?;
    Value::parse(&raw).map_err(|_| Error::new(ErrorKind::Json, format!("fact {}", key)))
}

/// A fact that must be a string.
pub fn fact_str(key: &str) -> Result<String, Error> {
    match fact(key)? {
        Value::String(s) => Ok(s),
        _ => Err(Error::new(ErrorKind::Json, format!("fact {} is not a string", key))),
    }
}

/// The path-metadata fact (ABI section 4): what lstat says of a path the
/// phase declares readable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PathInfo {
    /// "file", "dir", "symlink" or "other".
    pub file_type: String,
    /// Permission bits with setuid (0o4000), setgid (0o2000) and sticky (0o1000).
    pub mode: u32,
    pub uid: i64,
    pub gid: i64,
    /// "" when the device has no name for `uid`.
    pub user: String,
    /// "" when the device has no name for `gid`.
    pub group: String,
    pub size: i64,
    /// RFC 3339, UTC.
    pub mtime: String,
}

/// The metadata of an absolute path. `ErrorKind::NotFound` when it does not
/// exist, `ErrorKind::Denied` when the manifest does not declare it
/// readable for this phase (the agent logs it and lists it in "denied").
pub fn stat(path: &str) -> Result<PathInfo, Error> {
    let v = fact(path)?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let n = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(0.0) as i64;
    let mode = match u32::from_str_radix(&s("mode"), 8) {
        Ok(m) => m,
        Err(_) => return Err(Error::new(ErrorKind::Json, format!("fact {}: mode is not octal", path))),
    };
    Ok(PathInfo {
        file_type: s("type"),
        mode,
        uid: n("uid"),
        gid: n("gid"),
        user: s("user"),
        group: s("group"),
        size: n("size"),
        mtime: s("mtime"),
    })
}

/// Files are plain WASI (the agent mounts the device's "/", guarded, as the
/// module's preopened directory); these map what went wrong to the SDK's
/// kinds: a missing path is `NotFound`, an undeclared one `Denied`.
fn file_error(op: &str, path: &str, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::new(ErrorKind::NotFound, format!("{} {}", op, path)),
        std::io::ErrorKind::PermissionDenied => Error::new(
            ErrorKind::Denied,
            format!("{} {} (not declared in worklet.toml for this phase)", op, path),
        ),
        _ => Error::new(ErrorKind::Io, format!("{} {}: {}", op, path, e)),
    }
}

/// The contents of a file the manifest declares readable, as text (invalid
/// UTF-8 replaced).
pub fn read_file(path: &str) -> Result<String, Error> {
    read_bytes(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The contents of a file the manifest declares readable.
pub fn read_bytes(path: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| file_error("read", path, e))
}

/// The names in a directory the manifest declares as a tree ("dir/"), sorted.
pub fn list_dir(path: &str) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| file_error("list", path, e))? {
        let entry = entry.map_err(|e| file_error("list", path, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Replaces the contents of path (created if new). Only paths under the
/// manifest's `[remediate] write` are writable, and only in that phase.
pub fn write_file(path: &str, data: &str) -> Result<(), Error> {
    std::fs::write(path, data).map_err(|e| file_error("write", path, e))
}

/// What a program run through [`exec`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecResult {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs argv on the device (no shell) when the manifest allows it for this
/// phase, with stdin on its standard input; timeout_ms 0 keeps the host's
/// default. A program that ran and exited non-zero is `Ok`: look at
/// `exit_code`.
pub fn exec(argv: &[&str], stdin: &str, timeout_ms: u32) -> Result<ExecResult, Error> {
    let context = format!("exec {}", argv.join(" "));
    let mut fields = vec![
        ("argv".to_string(), Value::Array(argv.iter().map(|a| Value::from(*a)).collect())),
        ("stdin".to_string(), Value::from(stdin)),
    ];
    if timeout_ms > 0 {
        fields.push(("timeout_ms".to_string(), Value::Number(timeout_ms as f64)));
    }
    let req = Value::Object(fields).to_string();
    let n = host::exec(req.as_bytes());
    if n < 0 {
        return Err(Error::new(ErrorKind::from_code(n), context));
    }
    let raw = take_response(n, &context)?;
    let v = Value::parse(&raw).map_err(|_| Error::new(ErrorKind::Json, context.clone()))?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    Ok(ExecResult {
        exit_code: v.get("exit_code").and_then(|x| x.as_f64()).unwrap_or(-1.0) as i32,
        stdout: s("stdout"),
        stderr: s("stderr"),
    })
}

/// Writes msg to the agent log at level.
pub fn log(level: Level, msg: &str) {
    host::log(level as i32, msg.as_bytes())
}

/// Writes `{"message": msg, "details": details}` to stdout and exits with code.
pub fn finish(code: i32, msg: &str, details: Value) -> ! {
    let out = Value::Object(vec![("message".to_string(), Value::from(msg)), ("details".to_string(), details)]);
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let _ = writeln!(lock, "{}", out);
    let _ = lock.flush();
    std::process::exit(code)
}

/// Ends an evaluation: compliant (exit 0).
pub fn compliant(msg: &str, details: Value) -> ! {
    finish(EXIT_COMPLIANT, msg, details)
}

/// Ends an evaluation: not compliant (exit 1).
pub fn non_compliant(msg: &str, details: Value) -> ! {
    finish(EXIT_NON_COMPLIANT, msg, details)
}

/// Ends an evaluation: does not apply to this device (exit 2).
pub fn not_applicable(msg: &str, details: Value) -> ! {
    finish(EXIT_NOT_APPLICABLE, msg, details)
}

/// Ends a remediation that worked (exit 0).
pub fn succeeded(msg: &str, details: Value) -> ! {
    finish(EXIT_SUCCEEDED, msg, details)
}

/// Ends a remediation that did not work (exit 1).
pub fn failed(msg: &str, details: Value) -> ! {
    finish(EXIT_FAILED, msg, details)
}

/// Ends the run as an error (exit 3), logging msg at error level.
pub fn fatal(msg: &str) -> ! {
    log(Level::Error, msg);
    finish(EXIT_ERROR, msg, Value::Null)
}
