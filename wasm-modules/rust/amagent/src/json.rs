//! A small JSON reader and writer, enough for worklets: parse text into a
//! [`Value`], look values up by key or dotted path, and write a value back
//! as compact JSON. Objects keep their keys in order. Numbers are f64.

use std::fmt;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Parses JSON text (one value, surrounded by optional whitespace).
    pub fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser { s: text.as_bytes(), i: 0, depth: 0 };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("unexpected text at byte {}", p.i));
        }
        Ok(v)
    }

    /// The member called key of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a dotted path ("os.version", "software.0.name"); numbers
    /// index arrays; "" is the value itself.
    pub fn path(&self, path: &str) -> Option<&Value> {
        let mut cur = self;
        if path.is_empty() {
            return Some(cur);
        }
        for seg in path.split('.') {
            cur = match cur {
                Value::Object(_) => cur.get(seg)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Builds an object from (key, value) pairs.
    pub fn object<K: Into<String>>(pairs: Vec<(K, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n as f64)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Number(n as f64)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

/// Writes s as a quoted, escaped JSON string.
pub fn write_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Value {
    /// Compact JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{}", b),
            Value::Number(n) => {
                if !n.is_finite() {
                    f.write_str("null")
                } else if n.fract() == 0.0 && n.abs() < 1e15 {
                    write!(f, "{}", *n as i64)
                } else {
                    write!(f, "{}", n)
                }
            }
            Value::String(s) => write_string(f, s),
            Value::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}", v)?;
                }
                f.write_str("]")
            }
            Value::Object(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_string(f, k)?;
                    write!(f, ":{}", v)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Splits a JSON object into its members' keys and raw value texts,
/// without parsing the values: strings are skipped with their escapes,
/// objects and arrays by nesting (checked for balance only).
pub fn split_object(text: &str) -> Result<Vec<(String, &str)>, String> {
    let b = text.as_bytes();
    let mut p = Parser { s: b, i: 0, depth: 0 };
    let mut out = Vec::new();
    p.ws();
    if p.s.get(p.i) != Some(&b'{') {
        return p.err("not a JSON object");
    }
    p.i += 1;
    p.ws();
    if p.s.get(p.i) == Some(&b'}') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            if p.s.get(p.i) != Some(&b'"') {
                return p.err("expected a key");
            }
            let k = p.string()?;
            p.ws();
            if p.s.get(p.i) != Some(&b':') {
                return p.err("expected :");
            }
            p.i += 1;
            p.ws();
            let start = p.i;
            p.skip()?;
            out.push((k, &text[start..p.i]));
            p.ws();
            match p.s.get(p.i) {
                Some(b',') => p.i += 1,
                Some(b'}') => {
                    p.i += 1;
                    break;
                }
                _ => return p.err("expected , or }"),
            }
        }
    }
    p.ws();
    if p.i != b.len() {
        return p.err("unexpected text");
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{} at byte {}", what, self.i))
    }

    fn lit(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err("invalid literal")
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        if self.i >= self.s.len() {
            return self.err("unexpected end");
        }
        match self.s[self.i] {
            b'n' => self.lit("null", Value::Null),
            b't' => self.lit("true", Value::Bool(true)),
            b'f' => self.lit("false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                self.enter()?;
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.i < self.s.len() && self.s[self.i] == b']' {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(a));
                }
                loop {
                    a.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            self.depth -= 1;
                            return Ok(Value::Array(a));
                        }
                        _ => return self.err("expected , or ]"),
                    }
                }
            }
            b'{' => {
                self.enter()?;
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.i < self.s.len() && self.s[self.i] == b'}' {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::Object(m));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("expected a key");
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return self.err("expected :");
                    }
                    self.i += 1;
                    let v = self.value()?;
                    m.push((k, v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            self.depth -= 1;
                            return Ok(Value::Object(m));
                        }
                        _ => return self.err("expected , or }"),
                    }
                }
            }
            _ => self.number(),
        }
    }

    /// Moves past the value at i without building it.
    fn skip(&mut self) -> Result<(), String> {
        match self.s.get(self.i) {
            None => self.err("unexpected end"),
            Some(b'"') => {
                let mut j = self.i + 1;
                while j < self.s.len() {
                    match self.s[j] {
                        b'\\' => j += 2,
                        b'"' => {
                            self.i = j + 1;
                            return Ok(());
                        }
                        _ => j += 1,
                    }
                }
                self.err("unterminated string")
            }
            Some(b'{') | Some(b'[') => {
                let mut stack: Vec<u8> = Vec::new();
                let mut j = self.i;
                while j < self.s.len() {
                    let c = self.s[j];
                    match c {
                        b'"' => {
                            self.i = j;
                            self.skip()?;
                            j = self.i;
                            continue;
                        }
                        b'{' | b'[' => stack.push(c),
                        b'}' | b']' => {
                            let open = if c == b'}' { b'{' } else { b'[' };
                            if stack.pop() != Some(open) {
                                self.i = j;
                                return self.err("mismatched bracket");
                            }
                            if stack.is_empty() {
                                self.i = j + 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                self.i = j;
                self.err("unterminated object or array")
            }
            Some(_) => self.value().map(|_| ()),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > 128 {
            return self.err("nesting too deep");
        }
        Ok(())
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            self.i += 1;
        }
        let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        match t.parse::<f64>() {
            Ok(n) if !t.is_empty() => Ok(Value::Number(n)),
            _ => {
                self.i = start;
                self.err("invalid value")
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        if self.i + 4 > self.s.len() {
            return self.err("short \\u escape");
        }
        let t = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap_or("");
        let n = u32::from_str_radix(t, 16).or_else(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = match self.s.get(self.i) {
                Some(c) => *c,
                None => return self.err("unterminated string"),
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = match self.s.get(self.i) {
                        Some(e) => *e,
                        None => return self.err("unterminated string"),
                    };
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) && self.s[self.i..].starts_with(b"\\u") {
                                self.i += 2;
                                let lo = self.hex4()?;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).or_else(|_| self.err("invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = r#"{"a":[1,2.5,-3e2,true,null],"b":{"c":"x\"y\n\u00e9\ud83d\ude00"}}"#;
        let v = Value::parse(t).unwrap();
        assert_eq!(v.path("b.c").unwrap().as_str().unwrap(), "x\"y\n\u{e9}\u{1F600}");
        assert_eq!(v.path("a.1").unwrap().as_f64(), Some(2.5));
        assert_eq!(v.path("a.2").unwrap().as_f64(), Some(-300.0));
        assert_eq!(v.path("a.9"), None);
        assert_eq!(v.to_string(), "{\"a\":[1,2.5,-300,true,null],\"b\":{\"c\":\"x\\\"y\\n\u{e9}\u{1F600}\"}}");
    }

    #[test]
    fn splits_objects() {
        let t = r#" {"abi":1, "scan":{"a":"}\"]","b":[{},[]]}, "params":{"p":"v"}} "#;
        let m = split_object(t).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[1].0, "scan");
        assert_eq!(m[1].1, r#"{"a":"}\"]","b":[{},[]]}"#);
        assert_eq!(m[2].1, r#"{"p":"v"}"#);
        for bad in ["", "[]", "{\"a\":1", "{\"a\":[}", "{\"a\":\"x}", "{\"a\" 1}", "{\"a\":1} x", "{\"a\":tru}"] {
            assert!(split_object(bad).is_err(), "{:?} split", bad);
        }
        let input = crate::Input::parse(r#"{"abi":1,"phase":"evaluate","worklet":{"name":"n","version":"1"},"params":{"k":true},"scan":{"os":{"family":"linux"}}}"#).unwrap();
        assert_eq!(input.worklet.name, "n");
        assert_eq!(input.param_bool("k"), Some(true));
        assert_eq!(input.scan().unwrap().path("os.family").unwrap().as_str(), Some("linux"));
    }

    #[test]
    fn rejects_bad_json() {
        for t in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "1 2", "{\"a\":1,}"] {
            assert!(Value::parse(t).is_err(), "{:?} parsed", t);
        }
    }
}
