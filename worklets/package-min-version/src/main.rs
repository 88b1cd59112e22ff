//! package-min-version: an amagent worklet in Rust. The package named by
//! the parameter `package`, when installed, must be at least at version
//! `min_version` (compared as dpkg does, see debver.rs). A package that is
//! not installed is not applicable: the check is about vulnerable versions
//! of software that is present (to require a package, use the
//! required-software policy). No files, no programs, no remediation (the
//! patch policy installs updates).

mod debver;

use amagent::Value;
use std::cmp::Ordering;

fn main() {
    let input = amagent::input().unwrap_or_else(|e| amagent::fatal(&e.to_string()));
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
    let software = match amagent::fact("software") {
        Ok(v) => v,
        Err(e) => amagent::fatal(&e.to_string()),
    };
    let list = match software.as_array() {
        Some(l) => l,
        None => amagent::not_applicable("the scan has no software inventory", Value::Null),
    };

    // The highest installed version of the package, whatever its source.
    let mut best: Option<(String, String)> = None; // (version, source)
    for p in list {
        if p.get("name").and_then(|n| n.as_str()) != Some(package.as_str()) {
            continue;
        }
        let version = p.get("version").and_then(|v| v.as_str()).unwrap_or("").to_string();
        let source = p.get("source").and_then(|v| v.as_str()).unwrap_or("").to_string();
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
