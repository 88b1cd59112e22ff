//! dpkg version comparison: `[epoch:]upstream[-revision]`, compared part by
//! part; in the non-digit runs '~' sorts before everything (even the end of
//! the string), letters before other characters; digit runs compare as
//! numbers. RPM `[epoch:]version-release` strings order the same way for
//! the distribution versions this worklet meets.

use std::cmp::Ordering;

/// A parsed version.
#[derive(Debug, PartialEq, Eq)]
pub struct Version<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    pub revision: &'a str,
}

/// Parses a version; the error says what is wrong.
pub fn parse(s: &str) -> Result<Version<'_>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty version".to_string());
    }
    let (epoch, rest) = match s.find(':') {
        Some(i) => {
            let e = s[..i].parse::<u64>().map_err(|_| format!("version {:?}: epoch {:?} is not a number", s, &s[..i]))?;
            (e, &s[i + 1..])
        }
        None => (0, s),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return Err(format!("version {:?}: empty upstream part", s));
    }
    if let Some(c) = rest.chars().find(|c| !(c.is_ascii_alphanumeric() || ".+~-_:^".contains(*c))) {
        return Err(format!("version {:?}: invalid character {:?}", s, c));
    }
    Ok(Version { epoch, upstream, revision })
}

fn order(c: u8) -> i32 {
    if c.is_ascii_digit() {
        0
    } else if c.is_ascii_alphabetic() {
        c as i32
    } else if c == b'~' {
        -1
    } else {
        c as i32 + 256
    }
}

fn fragment(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = if i < a.len() && !a[i].is_ascii_digit() { order(a[i]) } else { 0 };
            let cb = if j < b.len() && !b[j].is_ascii_digit() { order(b[j]) } else { 0 };
            if ca != cb {
                return ca.cmp(&cb);
            }
            if i < a.len() && !a[i].is_ascii_digit() {
                i += 1;
            }
            if j < b.len() && !b[j].is_ascii_digit() {
                j += 1;
            }
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let mut first = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first == Ordering::Equal {
                first = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first != Ordering::Equal {
            return first;
        }
    }
    Ordering::Equal
}

/// Compares two parsed versions.
pub fn compare(a: &Version, b: &Version) -> Ordering {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| fragment(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| fragment(a.revision.as_bytes(), b.revision.as_bytes()))
}

/// Parses and compares two version strings.
pub fn compare_str(a: &str, b: &str) -> Result<Ordering, String> {
    Ok(compare(&parse(a)?, &parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_like_dpkg() {
        let cases = [
            ("1.0", "1.0", Ordering::Equal),
            ("1.0", "1.0-0", Ordering::Equal),
            ("1.10", "1.9", Ordering::Greater),
            ("1.0~rc1", "1.0", Ordering::Less),
            ("1.0~~", "1.0~", Ordering::Less),
            ("1.0a", "1.0", Ordering::Greater),
            ("1.0+b1", "1.0a", Ordering::Greater),
            ("1:0.9", "2.0", Ordering::Greater),
            ("3.0.11-1~deb12u2", "3.0.11-1", Ordering::Less),
            ("9.2p1-2+deb12u3", "9.2p1-2+deb12u2", Ordering::Greater),
            ("2.36-9+deb12u4", "2.36-9+deb12u10", Ordering::Less),
            ("1.001", "1.1", Ordering::Equal),
            ("5.14.0-362.8.1.el9_3", "5.14.0-284.30.1.el9_2", Ordering::Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_str(a, b).unwrap(), want, "{} vs {}", a, b);
            assert_eq!(compare_str(b, a).unwrap(), want.reverse(), "{} vs {}", b, a);
        }
    }

    #[test]
    fn rejects_bad_versions() {
        for bad in ["", "x:1.0", "1:", "-1", "1.0 beta"] {
            assert!(parse(bad).is_err(), "{:?} should not parse", bad);
        }
    }
}
