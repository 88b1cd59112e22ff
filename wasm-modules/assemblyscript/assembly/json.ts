// A small JSON reader and writer for AssemblyScript worklets: parse text
// into a JSONValue, look values up by key or dotted path, build values and
// write them back as compact JSON. Objects keep their keys in order.
// Numbers are f64. Not a general JSON library: enough for worklets.

export const KIND_NULL: i32 = 0;
export const KIND_BOOL: i32 = 1;
export const KIND_NUMBER: i32 = 2;
export const KIND_STRING: i32 = 3;
export const KIND_ARRAY: i32 = 4;
export const KIND_OBJECT: i32 = 5;

export class JSONValue {
  kind: i32 = KIND_NULL;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  items: Array<JSONValue> = new Array<JSONValue>(); // array elements
  keys: Array<string> = new Array<string>(); // object keys, in order
  vals: Array<JSONValue> = new Array<JSONValue>(); // object values

  static nul(): JSONValue { return new JSONValue(); }
  static bool(b: bool): JSONValue { const v = new JSONValue(); v.kind = KIND_BOOL; v.b = b; return v; }
  static num(n: f64): JSONValue { const v = new JSONValue(); v.kind = KIND_NUMBER; v.n = n; return v; }
  static str(s: string): JSONValue { const v = new JSONValue(); v.kind = KIND_STRING; v.s = s; return v; }
  static arr(): JSONValue { const v = new JSONValue(); v.kind = KIND_ARRAY; return v; }
  static obj(): JSONValue { const v = new JSONValue(); v.kind = KIND_OBJECT; return v; }

  /** Parses JSON text; null when it is not valid JSON. */
  static parse(text: string): JSONValue | null {
    const p = new Parser(text);
    const v = p.value();
    if (v === null || p.failed) return null;
    p.ws();
    if (p.i != text.length) return null;
    return v;
  }

  /** Sets member key of an object (replacing it) and returns this, to chain. */
  set(key: string, value: JSONValue): JSONValue {
    const i = this.keys.indexOf(key);
    if (i >= 0) { this.vals[i] = value; return this; }
    this.keys.push(key);
    this.vals.push(value);
    return this;
  }

  /** Appends to an array and returns this, to chain. */
  push(value: JSONValue): JSONValue { this.items.push(value); return this; }

  /** Member key of an object, or null. */
  get(key: string): JSONValue | null {
    if (this.kind != KIND_OBJECT) return null;
    const i = this.keys.indexOf(key);
    return i < 0 ? null : this.vals[i];
  }

  /** The value at a dotted path ("os.version", "software.0.name"); numbers index arrays. */
  path(path: string): JSONValue | null {
    if (path.length == 0) return this;
    const segs = path.split(".");
    let cur: JSONValue = this;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      let next: JSONValue | null = null;
      if (cur.kind == KIND_OBJECT) {
        next = cur.get(seg);
      } else if (cur.kind == KIND_ARRAY) {
        const idx = I32.parseInt(seg, 10);
        if (!isNaN(<f64>idx) && idx >= 0 && idx < cur.items.length && idx.toString() == seg) next = cur.items[idx];
      }
      if (next === null) return null;
      cur = next;
    }
    return cur;
  }

  isNull(): bool { return this.kind == KIND_NULL; }
  isString(): bool { return this.kind == KIND_STRING; }
  isBool(): bool { return this.kind == KIND_BOOL; }
  isNumber(): bool { return this.kind == KIND_NUMBER; }
  isArray(): bool { return this.kind == KIND_ARRAY; }
  isObject(): bool { return this.kind == KIND_OBJECT; }

  /** Compact JSON text. */
  toString(): string {
    switch (this.kind) {
      case KIND_BOOL: return this.b ? "true" : "false";
      case KIND_NUMBER: {
        if (!isFinite(this.n)) return "null";
        if (Math.floor(this.n) == this.n && Math.abs(this.n) < 1e15) return (<i64>this.n).toString();
        return this.n.toString();
      }
      case KIND_STRING: return quote(this.s);
      case KIND_ARRAY: {
        const parts = new Array<string>();
        for (let i = 0; i < this.items.length; i++) parts.push(this.items[i].toString());
        return "[" + parts.join(",") + "]";
      }
      case KIND_OBJECT: {
        const parts = new Array<string>();
        for (let i = 0; i < this.keys.length; i++) parts.push(quote(this.keys[i]) + ":" + this.vals[i].toString());
        return "{" + parts.join(",") + "}";
      }
    }
    return "null";
  }
}

const HEX = "0123456789abcdef";

/** s as a quoted, escaped JSON string. */
export function quote(s: string): string {
  const parts = new Array<string>();
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc = "";
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) esc = "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    else continue;
    parts.push(s.substring(start, i));
    parts.push(esc);
    start = i + 1;
  }
  parts.push(s.substring(start));
  return "\"" + parts.join("") + "\"";
}

/**
 * Splits a JSON object into its members' keys and raw value texts without
 * parsing the values (strings are skipped with their escapes, objects and
 * arrays by nesting, checked for balance only). null when text is not an
 * object. keys[i] goes with raws[i].
 */
export class Members {
  keys: Array<string> = new Array<string>();
  raws: Array<string> = new Array<string>();
}

export function splitObject(text: string): Members | null {
  const p = new Parser(text);
  const m = new Members();
  p.ws();
  if (p.i >= text.length || text.charCodeAt(p.i) != 0x7b) return null;
  p.i++;
  p.ws();
  if (p.i < text.length && text.charCodeAt(p.i) == 0x7d) {
    p.i++;
  } else {
    while (true) {
      p.ws();
      if (p.i >= text.length || text.charCodeAt(p.i) != 0x22) return null;
      const k = p.str();
      if (k === null) return null;
      p.ws();
      if (p.i >= text.length || text.charCodeAt(p.i) != 0x3a) return null;
      p.i++;
      p.ws();
      const start = p.i;
      if (!p.skip()) return null;
      m.keys.push(k);
      m.raws.push(text.substring(start, p.i));
      p.ws();
      if (p.i >= text.length) return null;
      const d = text.charCodeAt(p.i);
      p.i++;
      if (d == 0x7d) break;
      if (d != 0x2c) return null;
    }
  }
  p.ws();
  return p.i == text.length ? m : null;
}

class Parser {
  i: i32 = 0;
  depth: i32 = 0;
  failed: bool = false;
  constructor(public t: string) {}

  ws(): void {
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.i++;
    }
  }

  fail(): JSONValue | null { this.failed = true; return null; }

  lit(word: string, v: JSONValue): JSONValue | null {
    if (this.t.substring(this.i, this.i + word.length) != word) return this.fail();
    this.i += word.length;
    return v;
  }

  value(): JSONValue | null {
    this.ws();
    if (this.i >= this.t.length) return this.fail();
    const c = this.t.charCodeAt(this.i);
    if (c == 0x6e) return this.lit("null", JSONValue.nul());
    if (c == 0x74) return this.lit("true", JSONValue.bool(true));
    if (c == 0x66) return this.lit("false", JSONValue.bool(false));
    if (c == 0x22) {
      const s = this.str();
      return s === null ? this.fail() : JSONValue.str(s);
    }
    if (c == 0x5b || c == 0x7b) {
      if (++this.depth > 128) return this.fail();
      this.i++;
      const isObj = c == 0x7b;
      const close: i32 = isObj ? 0x7d : 0x5d;
      const v = isObj ? JSONValue.obj() : JSONValue.arr();
      this.ws();
      if (this.i < this.t.length && this.t.charCodeAt(this.i) == close) { this.i++; this.depth--; return v; }
      while (true) {
        if (isObj) {
          this.ws();
          if (this.i >= this.t.length || this.t.charCodeAt(this.i) != 0x22) return this.fail();
          const k = this.str();
          if (k === null) return this.fail();
          this.ws();
          if (this.i >= this.t.length || this.t.charCodeAt(this.i) != 0x3a) return this.fail();
          this.i++;
          const m = this.value();
          if (m === null) return this.fail();
          v.keys.push(k);
          v.vals.push(m);
        } else {
          const e = this.value();
          if (e === null) return this.fail();
          v.items.push(e);
        }
        this.ws();
        if (this.i >= this.t.length) return this.fail();
        const d = this.t.charCodeAt(this.i);
        this.i++;
        if (d == close) { this.depth--; return v; }
        if (d != 0x2c) return this.fail();
      }
    }
    // number
    const start = this.i;
    while (this.i < this.t.length) {
      const d = this.t.charCodeAt(this.i);
      if ((d >= 0x30 && d <= 0x39) || d == 0x2d || d == 0x2b || d == 0x2e || d == 0x65 || d == 0x45) this.i++;
      else break;
    }
    if (this.i == start) return this.fail();
    const n = F64.parseFloat(this.t.substring(start, this.i));
    if (isNaN(n)) return this.fail();
    return JSONValue.num(n);
  }

  // skip moves past the value at i without building it; false on error.
  skip(): bool {
    if (this.i >= this.t.length) return false;
    const c = this.t.charCodeAt(this.i);
    if (c == 0x22) return this.skipString();
    if (c != 0x7b && c != 0x5b) {
      const v = this.value();
      return v !== null && !this.failed;
    }
    const stack = new Array<i32>();
    while (this.i < this.t.length) {
      const d = this.t.charCodeAt(this.i);
      if (d == 0x22) {
        if (!this.skipString()) return false;
        continue;
      }
      if (d == 0x7b || d == 0x5b) stack.push(d);
      else if (d == 0x7d || d == 0x5d) {
        if (stack.length == 0 || stack.pop() != (d == 0x7d ? 0x7b : 0x5b)) return false;
        if (stack.length == 0) { this.i++; return true; }
      }
      this.i++;
    }
    return false;
  }

  skipString(): bool {
    let j = this.i + 1;
    while (j < this.t.length) {
      const c = this.t.charCodeAt(j);
      if (c == 0x5c) { j += 2; continue; }
      if (c == 0x22) { this.i = j + 1; return true; }
      j++;
    }
    return false;
  }

  hex4(): i32 {
    if (this.i + 4 > this.t.length) return -1;
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.t.charCodeAt(this.i + k);
      let h = -1;
      if (c >= 0x30 && c <= 0x39) h = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) h = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) h = c - 0x41 + 10;
      if (h < 0) return -1;
      n = n * 16 + h;
    }
    this.i += 4;
    return n;
  }

  // str reads a string token at i (on the opening quote); null on error.
  str(): string | null {
    this.i++;
    const parts = new Array<string>();
    let start = this.i;
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i);
      if (c == 0x22) {
        parts.push(this.t.substring(start, this.i));
        this.i++;
        return parts.join("");
      }
      if (c != 0x5c) { this.i++; continue; }
      parts.push(this.t.substring(start, this.i));
      this.i++;
      if (this.i >= this.t.length) return null;
      const e = this.t.charCodeAt(this.i);
      this.i++;
      if (e == 0x6e) parts.push("\n");
      else if (e == 0x74) parts.push("\t");
      else if (e == 0x72) parts.push("\r");
      else if (e == 0x62) parts.push("\b");
      else if (e == 0x66) parts.push("\f");
      else if (e == 0x75) {
        const u = this.hex4(); // UTF-16 code unit: AssemblyScript strings are UTF-16
        if (u < 0) return null;
        parts.push(String.fromCharCode(u));
      } else parts.push(String.fromCharCode(e));
      start = this.i;
    }
    return null;
  }
}
