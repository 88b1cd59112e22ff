/*
 * password-ageing: an amagent worklet in C. /etc/login.defs must set
 * PASS_MAX_DAYS to at most the parameter max_days (and, when the parameter
 * min_days is above 0, PASS_MIN_DAYS to at least min_days). The remediation
 * rewrites the PASS_MAX_DAYS (and PASS_MIN_DAYS) lines of /etc/login.defs,
 * keeping everything else. login.defs applies to accounts created after the
 * change; existing accounts keep their ageing (see chage(1)).
 */
#include <errno.h>

#include "amagent.h"

#define LOGIN_DEFS "/etc/login.defs"

/* A login.defs value: the last definition of the key wins, as in shadow. */
typedef struct {
  int found;
  long long value;
  int line;
  char raw[64];
} def;

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  am_buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) am_buf_put(&b, chunk, n);
  int bad = ferror(f) || b.oom;
  fclose(f);
  if (bad) {
    am_buf_free(&b);
    errno = EIO;
    return NULL;
  }
  if (!b.p) am_buf_put(&b, "", 0);
  *len = b.len;
  return b.p;
}

/* key_of returns the length of the key at the start of line (after
 * leading blanks, stored in *start), or 0 for blank and comment lines. */
static size_t key_of(const char *line, size_t n, size_t *start) {
  size_t i = 0;
  while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
  *start = i;
  if (i >= n || line[i] == '#') return 0;
  size_t j = i;
  while (j < n && line[j] != ' ' && line[j] != '\t') j++;
  return j - i;
}

static void lookup(const char *text, size_t len, const char *key, def *d) {
  memset(d, 0, sizeof *d);
  size_t klen = strlen(key);
  int lineno = 0;
  for (size_t pos = 0; pos < len;) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) : len - pos;
    pos += n + 1;
    lineno++;
    size_t s;
    size_t kl = key_of(line, n, &s);
    if (kl != klen || memcmp(line + s, key, klen) != 0) continue;
    size_t v = s + kl;
    while (v < n && (line[v] == ' ' || line[v] == '\t' || line[v] == '"')) v++;
    size_t e = v;
    while (e < n && line[e] != ' ' && line[e] != '\t' && line[e] != '"' && line[e] != '\r' && line[e] != '#') e++;
    size_t rl = e - v < sizeof d->raw - 1 ? e - v : sizeof d->raw - 1;
    memcpy(d->raw, line + v, rl);
    d->raw[rl] = 0;
    char *end;
    d->value = strtoll(d->raw, &end, 10);
    d->found = rl > 0 && *end == 0 ? 1 : -1; /* -1: present but not a number */
    d->line = lineno;
  }
}

static long long param_int(const char *name, long long def_value) {
  long long v;
  int rc = am_param_int(name, &v);
  if (rc == AM_ENOTFOUND) return def_value;
  if (rc < 0) am_fatal("param %s: %s", name, am_strerror(rc));
  if (v < 0) am_fatal("param %s: %lld is negative", name, v);
  return v;
}

/* check appends problems to msg and the state to details; returns the
 * number of problems. */
static int check(const char *text, size_t len, long long max_days, long long min_days, am_buf *msg, am_buf *details) {
  def mx, mn;
  lookup(text, len, "PASS_MAX_DAYS", &mx);
  lookup(text, len, "PASS_MIN_DAYS", &mn);
  int problems = 0;
  am_buf_printf(details, "{\"max_days\":%lld,\"min_days\":%lld,\"pass_max_days\":", max_days, min_days);
  if (mx.found == 1) am_buf_printf(details, "%lld", mx.value);
  else am_buf_puts(details, "null");
  am_buf_puts(details, ",\"pass_min_days\":");
  if (mn.found == 1) am_buf_printf(details, "%lld", mn.value);
  else am_buf_puts(details, "null");
  am_buf_puts(details, "}");

  if (mx.found == 0) {
    am_buf_printf(msg, "PASS_MAX_DAYS is not set in " LOGIN_DEFS " (passwords never expire)");
    problems++;
  } else if (mx.found < 0) {
    am_buf_printf(msg, "PASS_MAX_DAYS \"%s\" is not a number (" LOGIN_DEFS ":%d)", mx.raw, mx.line);
    problems++;
  } else if (mx.value < 0 || mx.value > max_days) {
    am_buf_printf(msg, "PASS_MAX_DAYS %lld exceeds %lld (" LOGIN_DEFS ":%d)", mx.value, max_days, mx.line);
    problems++;
  }
  if (min_days > 0 && (mn.found != 1 || mn.value < min_days)) {
    if (problems) am_buf_puts(msg, "; ");
    if (mn.found == 1) am_buf_printf(msg, "PASS_MIN_DAYS %lld is below %lld (" LOGIN_DEFS ":%d)", mn.value, min_days, mn.line);
    else am_buf_printf(msg, "PASS_MIN_DAYS is not set, %lld required", min_days);
    problems++;
  }
  return problems;
}

/* set_key returns text with every definition of key replaced by one line
 * "key value" at the place of the last one (or appended). */
static void set_key(am_buf *out, const char *text, size_t len, const char *key, long long value) {
  def d;
  lookup(text, len, key, &d);
  size_t klen = strlen(key);
  int lineno = 0, written = 0;
  for (size_t pos = 0; pos < len;) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) : len - pos;
    pos += n + 1;
    lineno++;
    size_t s;
    size_t kl = key_of(line, n, &s);
    if (kl == klen && memcmp(line + s, key, klen) == 0) {
      if (lineno == d.line) {
        am_buf_printf(out, "%s\t%lld\n", key, value);
        written = 1;
      }
      continue;
    }
    am_buf_put(out, line, n);
    am_buf_puts(out, "\n");
  }
  if (!written) am_buf_printf(out, "%s\t%lld\n", key, value);
}

int main(void) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  char family[32];
  if (am_fact_string("os.family", family, sizeof family) >= 0 && strcmp(family, "linux") != 0) {
    am_buf m = {0};
    am_buf_printf(&m, "login.defs applies to Linux only, not %s", family);
    am_not_applicable(m.p, NULL);
  }
  long long max_days = param_int("max_days", 365);
  long long min_days = param_int("min_days", 0);
  size_t len;
  char *text = read_file(LOGIN_DEFS, &len);
  if (!text) {
    if (errno == ENOENT) am_not_applicable(LOGIN_DEFS " does not exist (no shadow password suite)", NULL);
    am_fatal("reading " LOGIN_DEFS ": %s", strerror(errno));
  }
  am_buf msg = {0}, details = {0};
  int problems = check(text, len, max_days, min_days, &msg, &details);
  int remediate = strcmp(am_phase(), "remediate") == 0;
  if (!remediate) {
    if (problems == 0) {
      am_buf m = {0};
      am_buf_printf(&m, "password ageing within policy (PASS_MAX_DAYS at most %lld)", max_days);
      am_compliant(m.p, details.p);
    }
    am_non_compliant(msg.p, details.p);
  }
  if (problems == 0) am_succeeded("already compliant, nothing written", details.p);

  def mx, mn;
  lookup(text, len, "PASS_MAX_DAYS", &mx);
  lookup(text, len, "PASS_MIN_DAYS", &mn);
  am_buf out = {0};
  const char *cur = text;
  size_t curlen = len;
  if (mx.found != 1 || mx.value < 0 || mx.value > max_days) {
    set_key(&out, cur, curlen, "PASS_MAX_DAYS", max_days);
    cur = out.p;
    curlen = out.len;
  }
  am_buf out2 = {0};
  if (min_days > 0 && (mn.found != 1 || mn.value < min_days)) {
    set_key(&out2, cur, curlen, "PASS_MIN_DAYS", min_days);
    cur = out2.p;
    curlen = out2.len;
  }
  if (out.oom || out2.oom) am_fatal("out of memory");
  FILE *f = fopen(LOGIN_DEFS, "wb");
  if (!f) {
    am_buf m = {0};
    am_buf_printf(&m, "opening " LOGIN_DEFS " for writing: %s", strerror(errno));
    am_failed(m.p, details.p);
  }
  size_t wrote = fwrite(cur, 1, curlen, f);
  int bad = wrote != curlen || fflush(f) != 0;
  bad |= fclose(f) != 0;
  if (bad) am_failed("writing " LOGIN_DEFS " failed", details.p);
  am_buf m = {0}, d2 = {0};
  am_buf_printf(&m, "set PASS_MAX_DAYS %lld", mx.found == 1 && mx.value >= 0 && mx.value <= max_days ? mx.value : max_days);
  if (min_days > 0) am_buf_printf(&m, " and PASS_MIN_DAYS at least %lld", min_days);
  am_buf_puts(&m, " in " LOGIN_DEFS " (new accounts; use chage for existing ones)");
  am_buf after = {0};
  if (check(cur, curlen, max_days, min_days, &after, &d2) != 0) am_failed(after.p, d2.p);
  am_succeeded(m.p, d2.p);
}
