//! ssh-permit-empty-passwords: sshd refuses logins to accounts with an
//! empty password (CIS "Ensure sshd PermitEmptyPasswords is disabled").
//!
//! It reads /etc/ssh/sshd_config and what it includes from
//! /etc/ssh/sshd_config.d/ with the SDK's read_file and list_dir, as sshd
//! does: the first value of a keyword wins, an Include is read where it
//! stands (glob matches in name order), and the settings after a Match
//! line are conditional (not global). Unset means sshd's default, no.
//! Remediation writes a drop-in that sorts first in sshd_config.d/, when
//! that makes the setting no, and reloads sshd.

use amagent::{ErrorKind, Value};

const MAIN: &str = "/etc/ssh/sshd_config";
const DIR: &str = "/etc/ssh/sshd_config.d";
const DROPIN_NAME: &str = "00-amagent-permit-empty-passwords.conf";
const DROPIN_TEXT: &str = "# Written by the amagent worklet ssh-permit-empty-passwords.\nPermitEmptyPasswords no\n";

/// Where the effective value comes from.
struct Found {
    value: String,
    file: String,
    line: usize,
}

/// A reader of sshd's configuration, with an optional extra file in
/// sshd_config.d/ (the drop-in, to see what writing it would change).
struct Reader {
    extra: Option<(String, String)>,
    found: Option<Found>,
}

impl Reader {
    fn read(&self, path: &str) -> Result<String, amagent::Error> {
        if let Some((p, text)) = &self.extra {
            if p == path {
                return Ok(text.clone());
            }
        }
        amagent::read_file(path)
    }

    /// The files an Include argument names, in name order.
    fn expand(&self, arg: &str) -> Vec<String> {
        let full = if arg.starts_with('/') { arg.to_string() } else { format!("/etc/ssh/{}", arg) };
        let star = match full.find('*') {
            Some(i) => i,
            None => return vec![full],
        };
        let slash = full[..star].rfind('/').unwrap_or(0);
        let (dir, pattern) = (&full[..slash], &full[slash + 1..]);
        let (prefix, suffix) = match pattern.find('*') {
            Some(i) => (&pattern[..i], &pattern[i + 1..]),
            None => (pattern, ""),
        };
        if suffix.contains('*') || dir.contains('*') {
            amagent::log(amagent::Level::Warn, &format!("Include {}: only one * in the last element is understood", arg));
            return Vec::new();
        }
        let mut names = match amagent::list_dir(dir) {
            Ok(n) => n,
            Err(e) if e.kind == ErrorKind::NotFound => Vec::new(),
            Err(e) => amagent::fatal(&e.to_string()),
        };
        if let Some((p, _)) = &self.extra {
            if let Some(name) = p.strip_prefix(&format!("{}/", dir)) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                    names.sort();
                }
            }
        }
        names
            .into_iter()
            .filter(|n| n.starts_with(prefix) && n.ends_with(suffix) && n.len() >= prefix.len() + suffix.len())
            .map(|n| format!("{}/{}", dir, n))
            .collect()
    }

    /// Reads one file; false when a Match line ends the global settings.
    fn file(&mut self, path: &str, depth: usize, main: bool) -> bool {
        let text = match self.read(path) {
            Ok(t) => t,
            Err(e) if e.kind == ErrorKind::NotFound && !main => return true,
            Err(e) if e.kind == ErrorKind::NotFound => {
                amagent::not_applicable(&format!("no OpenSSH server configuration ({} does not exist)", MAIN), Value::Null)
            }
            Err(e) => amagent::fatal(&e.to_string()),
        };
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(2, |c: char| c.is_whitespace() || c == '=');
            let key = parts.next().unwrap_or("").to_ascii_lowercase();
            let rest = parts.next().unwrap_or("").trim_start_matches(|c: char| c.is_whitespace() || c == '=').trim();
            match key.as_str() {
                // The rest of a file after Match is conditional; in the main
                // file that is everything after it.
                "match" => return !main,
                "include" if depth < 8 => {
                    for arg in rest.split_whitespace() {
                        for p in self.expand(arg) {
                            if !self.file(&p, depth + 1, false) {
                                return false;
                            }
                        }
                    }
                }
                "permitemptypasswords" if self.found.is_none() => {
                    let value = rest.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
                    self.found = Some(Found { value, file: path.to_string(), line: i + 1 });
                }
                _ => {}
            }
        }
        true
    }
}

fn effective(extra: Option<(String, String)>) -> Option<Found> {
    let mut r = Reader { extra, found: None };
    r.file(MAIN, 0, true);
    r.found
}

fn details(f: &Option<Found>) -> Value {
    match f {
        Some(f) => Value::object(vec![
            ("permit_empty_passwords", Value::from(f.value.as_str())),
            ("set_in", Value::from(format!("{}:{}", f.file, f.line))),
        ]),
        None => Value::object(vec![("permit_empty_passwords", Value::from("no")), ("set_in", Value::Null)]),
    }
}

fn main() {
    let input = amagent::input().unwrap_or_else(|e| amagent::fatal(&e.to_string()));
    let now = effective(None);
    let yes = now.as_ref().map(|f| f.value != "no").unwrap_or(false);

    if input.phase == "remediate" {
        if !yes {
            amagent::succeeded("PermitEmptyPasswords is already no: nothing to do", details(&now));
        }
        let dropin = format!("{}/{}", DIR, DROPIN_NAME);
        let after = effective(Some((dropin.clone(), DROPIN_TEXT.to_string())));
        if let Some(f) = after.as_ref().filter(|f| f.value != "no") {
            amagent::failed(
                &format!("PermitEmptyPasswords {} in {}:{} is read before any drop-in in {}/: change it there", f.value, f.file, f.line, DIR),
                details(&now),
            );
        }
        if let Err(e) = amagent::write_file(&dropin, DROPIN_TEXT) {
            amagent::failed(&e.to_string(), details(&now));
        }
        let mut why = String::new();
        for unit in ["ssh", "sshd"].iter() {
            match amagent::exec(&["systemctl", "reload", unit], "", 5000) {
                Ok(r) if r.exit_code == 0 => {
                    amagent::succeeded(&format!("wrote {} and reloaded {}", dropin, unit), details(&after))
                }
                Ok(r) => why = format!("systemctl reload {}: exit {}: {}", unit, r.exit_code, r.stderr.trim()),
                Err(e) => why = e.to_string(),
            }
        }
        amagent::failed(&format!("wrote {}, but sshd was not reloaded ({})", dropin, why), details(&after));
    }

    match &now {
        Some(f) if yes => amagent::non_compliant(
            &format!("PermitEmptyPasswords {} in {}:{}: accounts with an empty password can log in", f.value, f.file, f.line),
            details(&now),
        ),
        Some(f) => amagent::compliant(&format!("PermitEmptyPasswords no ({}:{})", f.file, f.line), details(&now)),
        None => amagent::compliant("PermitEmptyPasswords is not set: sshd's default, no", details(&now)),
    }
}
