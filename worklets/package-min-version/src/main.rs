//! package-min-version: an amagent worklet in Rust. The package named by
//! the parameter `package`, when installed, must be at least at version
//! `min_version` (compared as dpkg does, see debver.rs). A package that is
//! not installed is not applicable: the check is about vulnerable versions
//! of software that is present (to require a package, use the
//! required-software policy). No files, no programs, no remediation (the
//! patch policy installs updates).

mod debver;

use amagent::{ErrorKind, Input, Value};
use std::cmp::Ordering;
use std::io::Read;

/// Reads the input document and parses only what comes before its scan.
/// The host writes "scan" as the last key (ABI.md section 3), and walking a
/// 150 KB scan byte by byte costs milliseconds in a wasm module; this
/// worklet needs only the params. A document laid out otherwise is parsed
/// whole.
fn input() -> Input {
    let mut buf = Vec::new();
    if std::io::stdin().read_to_end(&mut buf).is_err() {
        amagent::fatal("reading the input document failed");
    }
    let parsed = match scan_key_at(&buf) {
        Some(comma) => std::str::from_utf8(&buf[..comma])
            .map_err(|_| "input document: not UTF-8".to_string())
            .and_then(|head| Input::parse(&(head.to_string() + "}")).map_err(|e| e.to_string())),
        None => std::str::from_utf8(&buf)
            .map_err(|_| "input document: not UTF-8".to_string())
            .and_then(|all| Input::parse(all).map_err(|e| e.to_string())),
    };
    parsed.unwrap_or_else(|e| amagent::fatal(&e))
}

/// The index of the comma before the top-level key "scan", when that key
/// comes after others; only the bytes before it are looked at.
fn scan_key_at(b: &[u8]) -> Option<usize> {
    let (mut depth, mut comma, mut i) = (0usize, None, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 && i < b.len() && &b[start..=i] == b"\"scan\"" {
                    let mut j = i + 1;
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j < b.len() && b[j] == b':' {
                        return comma;
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => comma = Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The string value of fact software.i.field: Ok(None) when the element
/// has no such field, Err(NotFound) past the end of the list.
fn software_field(i: usize, field: &str) -> Result<Option<String>, amagent::Error> {
    match amagent::fact_raw(&format!("software.{}.{}", i, field)) {
        Ok(raw) => Ok(Value::parse(&raw).ok().and_then(|v| v.as_str().map(|s| s.to_string()))),
        Err(e) if e.kind == ErrorKind::NotFound => amagent::fact_raw(&format!("software.{}", i)).map(|_| None),
        Err(e) => Err(e),
    }
}

fn main() {
    let input = input();
    if input.phase == "remediate" {
        amagent::failed("no remediation: install updates with the patch policy", Value::Null);
    }
    let package = match input.param_str("package") {
        Some(p) if !p.trim().is_empty() => p.trim().to_string(),
        _ => amagent::fatal("param package: missing; name the package to check"),
    };
    let min = match input.param_str("min_version") {
        Some(v) => v.trim().to_string(),
        None => amagent::fatal("param min_version: missing"),
    };
    if let Err(e) = debver::parse(&min) {
        amagent::fatal(&format!("param min_version: {}", e));
    }
    if let Ok(why) = amagent::fact_str("errors.GetInstalledSoftware") {
        amagent::not_applicable(&format!("cannot tell: the scan could not list installed software ({})", why), Value::Null);
    }
    // One package name at a time from the host (cheaper than copying and
    // parsing the whole list in the module); the version and source only
    // for the package asked about.
    match amagent::fact_raw("software.0") {
        Ok(_) => {}
        Err(e) if e.kind == ErrorKind::NotFound => amagent::not_applicable("the scan has no software inventory", Value::Null),
        Err(e) => amagent::fatal(&e.to_string()),
    }
    // The highest installed version of the package, whatever its source.
    let mut best: Option<(String, String)> = None; // (version, source)
    for i in 0.. {
        // Compared as JSON text first; decoded only when it has escapes.
        let raw = match amagent::fact_raw(&format!("software.{}.name", i)) {
            Ok(raw) => raw,
            Err(e) if e.kind == ErrorKind::NotFound => match software_field(i, "name") {
                Err(e) if e.kind == ErrorKind::NotFound => break,
                Err(e) => amagent::fatal(&e.to_string()),
                Ok(_) => continue,
            },
            Err(e) => amagent::fatal(&e.to_string()),
        };
        let same = if raw.contains('\\') {
            Value::parse(&raw).ok().and_then(|v| v.as_str().map(|n| n == package)).unwrap_or(false)
        } else {
            raw.len() >= 2 && raw.starts_with('"') && raw[1..raw.len() - 1] == package
        };
        if !same {
            continue;
        }
        let field = |f: &str| software_field(i, f).unwrap_or_else(|e| amagent::fatal(&e.to_string())).unwrap_or_default();
        let (version, source) = (field("version"), field("source"));
        let newer = match &best {
            None => true,
            Some((b, _)) => debver::compare_str(&version, b).map(|o| o == Ordering::Greater).unwrap_or(false),
        };
        if newer {
            best = Some((version, source));
        }
    }
    let (installed, source) = match best {
        Some(b) => b,
        None => amagent::not_applicable(
            &format!("{} is not installed", package),
            Value::object(vec![("package", Value::from(package.as_str())), ("min_version", Value::from(min.as_str()))]),
        ),
    };
    let details = Value::object(vec![
        ("package", Value::from(package.as_str())),
        ("installed", Value::from(installed.as_str())),
        ("source", Value::from(source.as_str())),
        ("min_version", Value::from(min.as_str())),
    ]);
    match debver::compare_str(&installed, &min) {
        Err(e) => amagent::fatal(&format!("installed {}: {}", package, e)),
        Ok(Ordering::Less) => amagent::non_compliant(&format!("{} {} is older than {}", package, installed, min), details),
        Ok(_) => amagent::compliant(&format!("{} {} is at least {}", package, installed, min), details),
    }
}
