/*
 * amagent.h - C guest SDK for amagent worklets and policies (ABI v1).
 *
 * Header-only: #include "amagent.h" in exactly the C files that use it (all
 * functions are static). Build a worklet with Debian's clang, lld and
 * wasi-libc:
 *
 *   clang --target=wasm32-wasi -O2 -g0 -I path/to/wasm-modules/c \
 *         -o worklet.wasm worklet.c
 *
 * What it gives you:
 *   am_input()            the input document (stdin), read once
 *   am_phase()            "evaluate" or "remediate"
 *   am_param_string()...  parameters from the input document
 *   am_fact()...          facts from the scan through the host's fact()
 *   am_stat()             the path-metadata fact: type, mode, owner, size, mtime
 *   am_read_file() ...    read, list and write the paths worklet.toml grants
 *                         (plain WASI: "/" is the module's preopened dir)
 *   am_exec()             allow-listed programs through the host's exec()
 *   am_log()              the agent log through the host's log()
 *   am_compliant() ...    write the result JSON and exit with the ABI code
 *   am_json_*()           a tiny JSON reader and writer, just enough for
 *                         worklets: find a value by dotted path, decode a
 *                         string, bool or number, escape a string. It is not
 *                         a general JSON library (no DOM, no validation
 *                         beyond what finding a value needs).
 *
 * Return values: functions that can fail return a negative AM_E* code; the
 * host's codes are -1..-5 (ABI section 4), the SDK adds -6 and -7.
 */
#ifndef AMAGENT_H
#define AMAGENT_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AM_API static __attribute__((unused))
#define AM_NORETURN __attribute__((noreturn))

/* Error codes. */
#define AM_ENOTFOUND  (-1) /* fact, param or recorded exec not found */
#define AM_EDENIED    (-2) /* denied by capability (manifest allowlist) */
#define AM_EMALFORMED (-3) /* malformed request or out-of-bounds pointer */
#define AM_EEXEC      (-4) /* program could not be started or timed out */
#define AM_ELIMIT     (-5) /* a per-run limit was reached */
#define AM_ENOMEM     (-6) /* SDK: out of memory */
#define AM_EJSON      (-7) /* SDK: JSON value missing or of the wrong type */
#define AM_EIO        (-8) /* SDK: a file operation failed otherwise (errno has why) */

/* Log levels. */
#define AM_DEBUG 0
#define AM_INFO  1
#define AM_WARN  2
#define AM_ERROR 3

/* Exit codes. AM_EXIT_ERROR (3) is reported by the agent as an error. */
#define AM_EXIT_COMPLIANT      0
#define AM_EXIT_NON_COMPLIANT  1
#define AM_EXIT_NOT_APPLICABLE 2
#define AM_EXIT_SUCCEEDED      0
#define AM_EXIT_FAILED         1
#define AM_EXIT_ERROR          3

/* Host functions, import module "amagent" (ABI section 4). */
#define AM_IMPORT_(n) __attribute__((import_module("amagent"), import_name(n)))
AM_IMPORT_("fact") int32_t am__host_fact(const char *key, int32_t key_len);
AM_IMPORT_("exec") int32_t am__host_exec(const char *req, int32_t req_len);
AM_IMPORT_("response") int32_t am__host_response(char *buf, int32_t cap);
AM_IMPORT_("log") void am__host_log(int32_t level, const char *msg, int32_t len);

AM_API const char *am_strerror(int code) {
  switch (code) {
  case AM_ENOTFOUND: return "not found";
  case AM_EDENIED: return "denied by capability";
  case AM_EMALFORMED: return "malformed request";
  case AM_EEXEC: return "program could not be started or timed out";
  case AM_ELIMIT: return "per-run limit reached";
  case AM_ENOMEM: return "out of memory";
  case AM_EJSON: return "JSON value missing or of the wrong type";
  case AM_EIO: return "file error";
  }
  return code < 0 ? "unknown error" : "ok";
}

/* ---------------------------------------------------------------- buffer */

/* am_buf is a growable NUL-terminated byte buffer for building output. */
typedef struct {
  char *p;
  size_t len, cap;
  int oom; /* set when an allocation failed; further appends are dropped */
} am_buf;

AM_API void am_buf_put(am_buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = (char *)realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

AM_API void am_buf_puts(am_buf *b, const char *s) { am_buf_put(b, s, strlen(s)); }

AM_API void am_buf_printf(am_buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) { am_buf_put(b, tmp, (size_t)n); return; }
  char *big = (char *)malloc((size_t)n + 1);
  if (!big) { b->oom = 1; return; }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  am_buf_put(b, big, (size_t)n);
  free(big);
}

/* am_buf_json_string appends s (n bytes) as a quoted, escaped JSON string. */
AM_API void am_buf_json_stringn(am_buf *b, const char *s, size_t n) {
  am_buf_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': am_buf_put(b, "\\\"", 2); break;
    case '\\': am_buf_put(b, "\\\\", 2); break;
    case '\n': am_buf_put(b, "\\n", 2); break;
    case '\r': am_buf_put(b, "\\r", 2); break;
    case '\t': am_buf_put(b, "\\t", 2); break;
    default:
      if (c < 0x20) am_buf_printf(b, "\\u%04x", c);
      else am_buf_put(b, (const char *)&s[i], 1);
    }
  }
  am_buf_put(b, "\"", 1);
}

AM_API void am_buf_json_string(am_buf *b, const char *s) { am_buf_json_stringn(b, s, strlen(s)); }

AM_API void am_buf_free(am_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

/* ------------------------------------------------------------ JSON reader */

static const char *am__ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* am__skip returns the end of the JSON value starting at p, or NULL. */
static const char *am__skip(const char *p, const char *end) {
  p = am__ws(p, end);
  if (p >= end) return NULL;
  if (*p == '"') {
    for (p++; p < end; p++) {
      if (*p == '\\') p++;
      else if (*p == '"') return p + 1;
    }
    return NULL;
  }
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = am__ws(p + 1, end);
    if (p < end && *p == close) return p + 1;
    for (;;) {
      if (close == '}') {
        p = am__skip(p, end); /* key */
        if (!p) return NULL;
        p = am__ws(p, end);
        if (p >= end || *p != ':') return NULL;
        p++;
      }
      p = am__skip(p, end);
      if (!p) return NULL;
      p = am__ws(p, end);
      if (p >= end) return NULL;
      if (*p == close) return p + 1;
      if (*p != ',') return NULL;
      p++;
    }
  }
  /* number, true, false, null */
  const char *s = p;
  while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
         *p != '\n' && *p != '\r' && *p != '\t')
    p++;
  return p > s ? p : NULL;
}

/* am__key_eq compares a raw JSON string token (with quotes) to a key of
 * klen bytes; keys with escapes are compared raw. */
static int am__key_eq(const char *tok, const char *tokend, const char *key, size_t klen) {
  return (size_t)(tokend - tok) == klen + 2 && memcmp(tok + 1, key, klen) == 0;
}

/*
 * am_json_find finds the value at a dotted path ("params.want_version",
 * "software.0.name"; numbers index arrays; "" is the whole document) in the
 * JSON text json[0..len). On success it sets *val and *vlen to the raw
 * value's text and returns 0; AM_ENOTFOUND if the path does not exist;
 * AM_EJSON if the text is not JSON.
 */
AM_API int am_json_find(const char *json, size_t len, const char *path,
                        const char **val, size_t *vlen) {
  const char *p = json, *end = json + len;
  const char *seg = path;
  p = am__ws(p, end);
  while (*seg) {
    const char *dot = strchr(seg, '.');
    size_t slen = dot ? (size_t)(dot - seg) : strlen(seg);
    p = am__ws(p, end);
    if (p >= end) return AM_EJSON;
    int found = 0;
    if (*p == '{') {
      p = am__ws(p + 1, end);
      if (p < end && *p == '}') return AM_ENOTFOUND;
      while (p < end) {
        const char *k = p, *kend = am__skip(p, end);
        if (!kend || *k != '"') return AM_EJSON;
        p = am__ws(kend, end);
        if (p >= end || *p != ':') return AM_EJSON;
        p = am__ws(p + 1, end);
        if (am__key_eq(k, kend, seg, slen)) { found = 1; break; }
        p = am__skip(p, end);
        if (!p) return AM_EJSON;
        p = am__ws(p, end);
        if (p < end && *p == ',') { p = am__ws(p + 1, end); continue; }
        break;
      }
    } else if (*p == '[') {
      char *e;
      long idx = strtol(seg, &e, 10);
      if (e != seg + slen || idx < 0) return AM_ENOTFOUND;
      p = am__ws(p + 1, end);
      if (p < end && *p == ']') return AM_ENOTFOUND;
      for (long i = 0; p < end; i++) {
        if (i == idx) { found = 1; break; }
        p = am__skip(p, end);
        if (!p) return AM_EJSON;
        p = am__ws(p, end);
        if (p < end && *p == ',') { p = am__ws(p + 1, end); continue; }
        break;
      }
    }
    if (!found) return AM_ENOTFOUND;
    seg += slen;
    if (*seg == '.') seg++;
  }
  const char *vend = am__skip(p, end);
  if (!vend) return AM_EJSON;
  *val = p;
  *vlen = (size_t)(vend - p);
  return 0;
}

static int am__hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/*
 * am_json_string decodes the JSON string token val[0..vlen) into out (cap
 * bytes, always NUL-terminated, truncated if needed). Returns the decoded
 * length (which may be >= cap when truncated) or AM_EJSON if val is not a
 * string. \uXXXX escapes become UTF-8 (surrogate pairs included).
 */
AM_API int am_json_string(const char *val, size_t vlen, char *out, size_t cap) {
  if (vlen < 2 || val[0] != '"' || val[vlen - 1] != '"') return AM_EJSON;
  size_t n = 0;
#define AM__OUT(c) do { if (n + 1 < cap) out[n] = (char)(c); n++; } while (0)
  for (size_t i = 1; i + 1 < vlen; i++) {
    char c = val[i];
    if (c != '\\') { AM__OUT(c); continue; }
    if (++i + 1 >= vlen) return AM_EJSON;
    switch (val[i]) {
    case 'n': AM__OUT('\n'); break;
    case 't': AM__OUT('\t'); break;
    case 'r': AM__OUT('\r'); break;
    case 'b': AM__OUT('\b'); break;
    case 'f': AM__OUT('\f'); break;
    case 'u': {
      if (i + 4 >= vlen) return AM_EJSON;
      long cp = 0;
      for (int k = 1; k <= 4; k++) {
        int h = am__hex(val[i + k]);
        if (h < 0) return AM_EJSON;
        cp = cp * 16 + h;
      }
      i += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < vlen && val[i + 1] == '\\' && val[i + 2] == 'u') {
        long lo = 0;
        for (int k = 3; k <= 6; k++) {
          int h = am__hex(val[i + k]);
          if (h < 0) { lo = -1; break; }
          lo = lo * 16 + h;
        }
        if (lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
      }
      if (cp < 0x80) AM__OUT(cp);
      else if (cp < 0x800) { AM__OUT(0xC0 | (cp >> 6)); AM__OUT(0x80 | (cp & 0x3F)); }
      else if (cp < 0x10000) { AM__OUT(0xE0 | (cp >> 12)); AM__OUT(0x80 | ((cp >> 6) & 0x3F)); AM__OUT(0x80 | (cp & 0x3F)); }
      else { AM__OUT(0xF0 | (cp >> 18)); AM__OUT(0x80 | ((cp >> 12) & 0x3F)); AM__OUT(0x80 | ((cp >> 6) & 0x3F)); AM__OUT(0x80 | (cp & 0x3F)); }
      break;
    }
    default: AM__OUT(val[i]); /* \" \\ \/ */
    }
  }
#undef AM__OUT
  if (cap) out[n < cap ? n : cap - 1] = 0;
  return (int)n;
}

/* am_json_bool decodes true/false into *out; AM_EJSON otherwise. */
AM_API int am_json_bool(const char *val, size_t vlen, int *out) {
  if (vlen == 4 && memcmp(val, "true", 4) == 0) { *out = 1; return 0; }
  if (vlen == 5 && memcmp(val, "false", 5) == 0) { *out = 0; return 0; }
  return AM_EJSON;
}

/* am_json_number decodes a JSON number into *out; AM_EJSON otherwise. */
AM_API int am_json_number(const char *val, size_t vlen, double *out) {
  char tmp[64];
  if (vlen == 0 || vlen >= sizeof tmp) return AM_EJSON;
  memcpy(tmp, val, vlen);
  tmp[vlen] = 0;
  char *e;
  *out = strtod(tmp, &e);
  return (e == tmp + vlen) ? 0 : AM_EJSON;
}

/* am_json_get_string finds path in json and decodes it as a string. */
AM_API int am_json_get_string(const char *json, size_t len, const char *path, char *out, size_t cap) {
  const char *v;
  size_t vl;
  int rc = am_json_find(json, len, path, &v, &vl);
  return rc < 0 ? rc : am_json_string(v, vl, out, cap);
}

/* ------------------------------------------------------------- the input */

/* am_input returns the input document (NUL-terminated), reading stdin on
 * the first call; *len (if not NULL) gets its length. NULL on failure. */
AM_API const char *am_input(size_t *len) {
  static am_buf in;
  static int done;
  if (!done) {
    char chunk[4096];
    ssize_t n;
    done = 1;
    am_buf_put(&in, "", 0);
    while ((n = read(0, chunk, sizeof chunk)) > 0) am_buf_put(&in, chunk, (size_t)n);
    if (in.oom || n < 0) { am_buf_free(&in); }
  }
  if (len) *len = in.len;
  return in.p;
}

/* am_phase returns "evaluate" or "remediate" (from AMAGENT_PHASE). */
AM_API const char *am_phase(void) {
  const char *p = getenv("AMAGENT_PHASE");
  return p ? p : "evaluate";
}

/* am_param finds the raw JSON value of parameter name. */
AM_API int am_param(const char *name, const char **val, size_t *vlen) {
  size_t len;
  const char *in = am_input(&len);
  if (!in) return AM_EJSON;
  const char *params;
  size_t plen;
  int rc = am_json_find(in, len, "params", &params, &plen);
  if (rc < 0) return rc;
  const char *v;
  size_t vl;
  /* a param name may contain dots: look it up as one key */
  const char *p = am__ws(params, params + plen);
  if (p >= params + plen || *p != '{') return AM_EJSON;
  p = am__ws(p + 1, params + plen);
  while (p < params + plen && *p == '"') {
    const char *kend = am__skip(p, params + plen);
    if (!kend) return AM_EJSON;
    int match = am__key_eq(p, kend, name, strlen(name));
    v = am__ws(kend, params + plen);
    if (v >= params + plen || *v != ':') return AM_EJSON;
    v = am__ws(v + 1, params + plen);
    const char *vend = am__skip(v, params + plen);
    if (!vend) return AM_EJSON;
    vl = (size_t)(vend - v);
    if (match) { *val = v; *vlen = vl; return 0; }
    p = am__ws(vend, params + plen);
    if (p < params + plen && *p == ',') p = am__ws(p + 1, params + plen);
  }
  return AM_ENOTFOUND;
}

/* am_param_string decodes string parameter name into out (see
 * am_json_string); AM_ENOTFOUND when absent. */
AM_API int am_param_string(const char *name, char *out, size_t cap) {
  const char *v;
  size_t vl;
  int rc = am_param(name, &v, &vl);
  return rc < 0 ? rc : am_json_string(v, vl, out, cap);
}

/* am_param_int decodes integer parameter name; AM_ENOTFOUND when absent. */
AM_API int am_param_int(const char *name, long long *out) {
  const char *v;
  size_t vl;
  double d;
  int rc = am_param(name, &v, &vl);
  if (rc < 0) return rc;
  rc = am_json_number(v, vl, &d);
  if (rc == 0) *out = (long long)d;
  return rc;
}

/* am_param_bool decodes boolean parameter name; AM_ENOTFOUND when absent. */
AM_API int am_param_bool(const char *name, int *out) {
  const char *v;
  size_t vl;
  int rc = am_param(name, &v, &vl);
  return rc < 0 ? rc : am_json_bool(v, vl, out);
}

/* ------------------------------------------------------- host functions */

/* am__take copies an n-byte response slot into a new NUL-terminated buffer. */
static int am__take(int32_t n, char **out) {
  char *buf = (char *)malloc((size_t)n + 1);
  if (!buf) return AM_ENOMEM;
  int32_t got = n ? am__host_response(buf, n) : 0;
  if (got < 0) { free(buf); return got; }
  buf[got] = 0;
  *out = buf;
  return got;
}

/* am_fact looks up a dotted path into the scan ("os.version"). On success
 * *out is a malloc'd NUL-terminated JSON value (free it) and the return
 * value its length; otherwise a negative AM_E* code. */
AM_API int am_fact(const char *key, char **out) {
  int32_t n = am__host_fact(key, (int32_t)strlen(key));
  if (n < 0) return n;
  return am__take(n, out);
}

/* am_fact_string decodes the fact at key, a JSON string, into out. */
AM_API int am_fact_string(const char *key, char *out, size_t cap) {
  char *v;
  int n = am_fact(key, &v);
  if (n < 0) return n;
  int rc = am_json_string(v, (size_t)n, out, cap);
  free(v);
  return rc;
}

/* am_fact_bool decodes the fact at key, a JSON boolean, into *out. */
AM_API int am_fact_bool(const char *key, int *out) {
  char *v;
  int n = am_fact(key, &v);
  if (n < 0) return n;
  int rc = am_json_bool(v, (size_t)n, out);
  free(v);
  return rc;
}

/* am_fact_number decodes the fact at key, a JSON number, into *out. */
AM_API int am_fact_number(const char *key, double *out) {
  char *v;
  int n = am_fact(key, &v);
  if (n < 0) return n;
  int rc = am_json_number(v, (size_t)n, out);
  free(v);
  return rc;
}

/* ------------------------------------------------------------------ files */

/* am_path_info is the path-metadata fact (ABI section 4): what lstat says
 * of a path the phase declares readable. */
typedef struct {
  char type[8];         /* "file", "dir", "symlink" or "other" */
  unsigned mode;        /* permission bits with setuid/setgid/sticky: 0640 */
  long long uid, gid;
  char user[64];        /* "" when the device has no name for uid */
  char group[64];       /* "" when the device has no name for gid */
  long long size;
  char mtime[32];       /* RFC 3339, UTC */
} am_path_info;

/* am_stat fills *out with the metadata of an absolute path: 0, or
 * AM_ENOTFOUND (no such path), AM_EDENIED (not declared readable for this
 * phase; the agent logs it and lists it in "denied"), or another code. */
AM_API int am_stat(const char *path, am_path_info *out) {
  char *v, mode[8];
  double d;
  int n = am_fact(path, &v);
  if (n < 0) return n;
  memset(out, 0, sizeof *out);
  int rc = am_json_get_string(v, (size_t)n, "type", out->type, sizeof out->type);
  if (rc >= 0) rc = am_json_get_string(v, (size_t)n, "mode", mode, sizeof mode);
  if (rc >= 0) out->mode = (unsigned)strtoul(mode, NULL, 8);
  if (rc >= 0) rc = am_json_get_string(v, (size_t)n, "user", out->user, sizeof out->user);
  if (rc >= 0) rc = am_json_get_string(v, (size_t)n, "group", out->group, sizeof out->group);
  if (rc >= 0) rc = am_json_get_string(v, (size_t)n, "mtime", out->mtime, sizeof out->mtime);
  const char *f; size_t fl;
  if (rc >= 0 && (rc = am_json_find(v, (size_t)n, "uid", &f, &fl)) >= 0 && (rc = am_json_number(f, fl, &d)) >= 0) out->uid = (long long)d;
  if (rc >= 0 && (rc = am_json_find(v, (size_t)n, "gid", &f, &fl)) >= 0 && (rc = am_json_number(f, fl, &d)) >= 0) out->gid = (long long)d;
  if (rc >= 0 && (rc = am_json_find(v, (size_t)n, "size", &f, &fl)) >= 0 && (rc = am_json_number(f, fl, &d)) >= 0) out->size = (long long)d;
  free(v);
  return rc < 0 ? rc : 0;
}

/* am__errno maps a failed file call's errno to an AM_E* code. */
static int am__errno(void) {
  if (errno == ENOENT || errno == ENOTDIR) return AM_ENOTFOUND;
  if (errno == EACCES || errno == EPERM) return AM_EDENIED;
#ifdef ENOTCAPABLE
  if (errno == ENOTCAPABLE) return AM_EDENIED;
#endif
  if (errno == ENOMEM) return AM_ENOMEM;
  return AM_EIO;
}

/* am_read_file reads a file the manifest declares readable. On success *out
 * is its malloc'd, NUL-terminated contents (free it) and the return value
 * its length; otherwise AM_ENOTFOUND, AM_EDENIED (undeclared) or AM_EIO. */
AM_API int am_read_file(const char *path, char **out) {
  FILE *f = fopen(path, "rb");
  if (!f) return am__errno();
  am_buf b = {0};
  char tmp[4096];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) am_buf_put(&b, tmp, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) { am_buf_free(&b); return AM_EIO; }
  if (b.oom) { am_buf_free(&b); return AM_ENOMEM; }
  if (!b.p) { b.p = (char *)calloc(1, 1); if (!b.p) return AM_ENOMEM; }
  *out = b.p;
  return (int)b.len;
}

/* am_list_dir lists a directory the manifest declares as a tree ("dir/"),
 * without "." and "..": *names is a malloc'd array of malloc'd names (free
 * with am_list_free) and the return value their count; or a negative code. */
AM_API int am_list_dir(const char *path, char ***names) {
  DIR *d = opendir(path);
  if (!d) return am__errno();
  char **v = NULL;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nv = (char **)realloc(v, (size_t)cap * sizeof *v);
      if (!nv) { closedir(d); while (n) free(v[--n]); free(v); return AM_ENOMEM; }
      v = nv;
    }
    if (!(v[n] = strdup(e->d_name))) { closedir(d); while (n) free(v[--n]); free(v); return AM_ENOMEM; }
    n++;
  }
  closedir(d);
  *names = v;
  return n;
}

/* am_list_free frees what am_list_dir returned. */
AM_API void am_list_free(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* am_write_file replaces the contents of path with len bytes of data
 * (creating it if new). Only paths under [remediate] write are writable,
 * and only in the remediate phase: 0, or AM_EDENIED, AM_ENOTFOUND (no such
 * directory) or AM_EIO. */
AM_API int am_write_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return am__errno();
  size_t w = len ? fwrite(data, 1, len, f) : 0;
  int bad = w != len || ferror(f);
  if (fclose(f) != 0) bad = 1;
  return bad ? AM_EIO : 0;
}

/* am_exec_result is what a program run through am_exec did. */
typedef struct {
  int exit_code;
  char *out; /* decoded stdout, NUL-terminated (malloc'd) */
  char *err; /* decoded stderr, NUL-terminated (malloc'd) */
} am_exec_result;

AM_API void am_exec_free(am_exec_result *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

static int am__dup_string(const char *json, size_t len, const char *key, char **out) {
  const char *v;
  size_t vl;
  int rc = am_json_find(json, len, key, &v, &vl);
  if (rc < 0) return AM_EJSON;
  *out = (char *)malloc(vl + 1);
  if (!*out) return AM_ENOMEM;
  rc = am_json_string(v, vl, *out, vl + 1);
  return rc < 0 ? rc : 0;
}

/*
 * am_exec runs argv (NULL-terminated) without a shell, if the manifest
 * allows it for this phase, with stdin_text (may be NULL) on its stdin and
 * timeout_ms (0: the host's default). Returns 0 and fills *r (free it with
 * am_exec_free) when the program ran, whatever its exit code; otherwise a
 * negative AM_E* code (AM_EDENIED, AM_ENOTFOUND in a replay without that
 * argv, AM_EEXEC, AM_ELIMIT).
 */
AM_API int am_exec(const char *const argv[], const char *stdin_text, int timeout_ms, am_exec_result *r) {
  am_buf req = {0};
  memset(r, 0, sizeof *r);
  am_buf_puts(&req, "{\"argv\":[");
  for (int i = 0; argv[i]; i++) {
    if (i) am_buf_puts(&req, ",");
    am_buf_json_string(&req, argv[i]);
  }
  am_buf_puts(&req, "],\"stdin\":");
  am_buf_json_string(&req, stdin_text ? stdin_text : "");
  if (timeout_ms > 0) am_buf_printf(&req, ",\"timeout_ms\":%d", timeout_ms);
  am_buf_puts(&req, "}");
  if (req.oom) { am_buf_free(&req); return AM_ENOMEM; }
  int32_t n = am__host_exec(req.p, (int32_t)req.len);
  am_buf_free(&req);
  if (n < 0) return n;
  char *resp;
  int rc = am__take(n, &resp);
  if (rc < 0) return rc;
  const char *v;
  size_t vl;
  double code = 0;
  rc = am_json_find(resp, (size_t)n, "exit_code", &v, &vl);
  if (rc == 0) rc = am_json_number(v, vl, &code);
  if (rc == 0) rc = am__dup_string(resp, (size_t)n, "stdout", &r->out);
  if (rc == 0) rc = am__dup_string(resp, (size_t)n, "stderr", &r->err);
  free(resp);
  if (rc < 0) { am_exec_free(r); return rc; }
  r->exit_code = (int)code;
  return 0;
}

/* am_log writes a printf-formatted line to the agent log at level. */
AM_API void am_log(int level, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
  am__host_log(level, tmp, n);
}

/* ---------------------------------------------------------------- results */

/* am_finish writes {"message": msg, "details": details_json} to stdout and
 * exits with code. details_json is raw JSON text (NULL: null). */
AM_API AM_NORETURN void am_finish(int code, const char *msg, const char *details_json) {
  am_buf b = {0};
  am_buf_puts(&b, "{\"message\":");
  am_buf_json_string(&b, msg ? msg : "");
  am_buf_puts(&b, ",\"details\":");
  am_buf_puts(&b, details_json && *details_json ? details_json : "null");
  am_buf_puts(&b, "}\n");
  if (!b.oom) fwrite(b.p, 1, b.len, stdout);
  fflush(stdout);
  exit(code);
}

AM_API AM_NORETURN void am_compliant(const char *msg, const char *details_json) { am_finish(AM_EXIT_COMPLIANT, msg, details_json); }
AM_API AM_NORETURN void am_non_compliant(const char *msg, const char *details_json) { am_finish(AM_EXIT_NON_COMPLIANT, msg, details_json); }
AM_API AM_NORETURN void am_not_applicable(const char *msg, const char *details_json) { am_finish(AM_EXIT_NOT_APPLICABLE, msg, details_json); }
AM_API AM_NORETURN void am_succeeded(const char *msg, const char *details_json) { am_finish(AM_EXIT_SUCCEEDED, msg, details_json); }
AM_API AM_NORETURN void am_failed(const char *msg, const char *details_json) { am_finish(AM_EXIT_FAILED, msg, details_json); }

/* am_fatal ends the run as an error (exit 3) with a printf-formatted
 * message, also logged at error level. */
AM_API AM_NORETURN void am_fatal(const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  am__host_log(AM_ERROR, tmp, (int32_t)strlen(tmp));
  am_finish(AM_EXIT_ERROR, tmp, NULL);
}

#endif /* AMAGENT_H */
