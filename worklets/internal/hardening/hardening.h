/*
 * hardening.h - the shared body of the hardening pack (worklets/hardening-*).
 *
 * Each rule's worklet.c is one call into this header; the checks are
 * written here once: file owner/group/mode through the path-metadata fact,
 * the account databases (passwd, group, shadow), login.defs, sshd's
 * configuration as sshd reads it, kernel parameters (the running value
 * and the persisted sysctl.d setting), and installed packages from the
 * scan's software list. Static functions only: include it from exactly one
 * C file, after amagent.h's directory is on the include path.
 */
#ifndef HARDENING_H
#define HARDENING_H

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amagent.h"

#define HD_UNUSED __attribute__((unused))

/* ------------------------------------------------------------ utilities */

/* hd_read reads the whole file at path (NULL when missing or unreadable). */
static HD_UNUSED char *hd_read(const char *path) {
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
    return NULL;
  }
  if (!b.p) am_buf_put(&b, "", 0);
  return b.p;
}

/* hd_next_line returns the next line of *pos (NUL-terminated in place,
 * '\r' dropped), or NULL at the end. */
static HD_UNUSED char *hd_next_line(char **pos) {
  char *s = *pos;
  if (!s || !*s) return NULL;
  char *nl = strchr(s, '\n');
  if (nl) {
    *nl = 0;
    *pos = nl + 1;
  } else {
    *pos = s + strlen(s);
  }
  size_t n = strlen(s);
  if (n && s[n - 1] == '\r') s[n - 1] = 0;
  return s;
}

/* hd_field copies the idx-th ':'-separated field of line into out. */
static HD_UNUSED int hd_field(const char *line, int idx, char *out, size_t cap) {
  for (int i = 0; i < idx; i++) {
    line = strchr(line, ':');
    if (!line) return -1;
    line++;
  }
  size_t n = strcspn(line, ":");
  if (n >= cap) n = cap - 1;
  memcpy(out, line, n);
  out[n] = 0;
  return 0;
}

/* hd_list is a short list of names for a message and its details. */
typedef struct {
  am_buf msg, json;
  int n;
} hd_list;

static HD_UNUSED void hd_list_add(hd_list *l, const char *s) {
  if (l->n < 10) {
    am_buf_puts(&l->msg, l->n ? ", " : "");
    am_buf_puts(&l->msg, s);
  } else if (l->n == 10) {
    am_buf_puts(&l->msg, ", ...");
  }
  am_buf_puts(&l->json, l->n ? "," : "[");
  am_buf_json_string(&l->json, s);
  l->n++;
}

static HD_UNUSED const char *hd_list_json(hd_list *l) {
  if (!l->n) return "[]";
  am_buf_puts(&l->json, "]");
  return l->json.p;
}

static HD_UNUSED int hd_remediating(void) { return strcmp(am_phase(), "remediate") == 0; }

/* hd_run runs argv (allowed by the manifest) and ends the remediation. */
static HD_UNUSED AM_NORETURN void hd_run_and_finish(const char *const argv[], const char *done) {
  am_exec_result r;
  int rc = am_exec(argv, NULL, 0, &r);
  if (rc < 0) am_fatal("%s could not run (%d)", argv[0], rc);
  if (r.exit_code != 0) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s exited %d: %.300s", argv[0], r.exit_code, r.err ? r.err : "");
    am_failed(msg, NULL);
  }
  am_succeeded(done, NULL);
}

/* ------------------------------------------------------- path metadata */

typedef struct {
  char type[16];
  unsigned mode;
  long long uid, gid;
  char user[64], group[64];
} hd_stat;

/* hd_stat_path asks the host for path's metadata: 0, AM_ENOTFOUND
 * (missing), or another negative code. */
static HD_UNUSED int hd_stat_path(const char *path, hd_stat *st) {
  char *v;
  int n = am_fact(path, &v);
  if (n < 0) return n;
  const char *x;
  size_t xl;
  char mode[16] = "";
  double num = 0;
  memset(st, 0, sizeof *st);
  if (am_json_find(v, (size_t)n, "type", &x, &xl) == 0) am_json_string(x, xl, st->type, sizeof st->type);
  if (am_json_find(v, (size_t)n, "mode", &x, &xl) == 0) am_json_string(x, xl, mode, sizeof mode);
  if (am_json_find(v, (size_t)n, "uid", &x, &xl) == 0 && am_json_number(x, xl, &num) == 0) st->uid = (long long)num;
  if (am_json_find(v, (size_t)n, "gid", &x, &xl) == 0 && am_json_number(x, xl, &num) == 0) st->gid = (long long)num;
  if (am_json_find(v, (size_t)n, "user", &x, &xl) == 0) am_json_string(x, xl, st->user, sizeof st->user);
  if (am_json_find(v, (size_t)n, "group", &x, &xl) == 0) am_json_string(x, xl, st->group, sizeof st->group);
  free(v);
  st->mode = (unsigned)strtoul(mode, NULL, 8);
  return 0;
}

/*
 * hd_file_rule: path must be owned by uid (-1: any), group gid (-1: any),
 * and have none of the mode bits in forbidden (0: any mode). A missing
 * path, or a symbolic link (the rule is about the file itself, which the
 * link's target rule covers), is not applicable. Remediation runs the one
 * fix argv the manifest allows (chmod/chown/chgrp with literal arguments).
 */
static HD_UNUSED AM_NORETURN void hd_file_rule(const char *path, long long uid, long long gid, unsigned forbidden,
                                               const char *const fix[]) {
  hd_stat st;
  int rc = hd_stat_path(path, &st);
  char msg[512];
  if (rc == AM_ENOTFOUND) {
    snprintf(msg, sizeof msg, "%s does not exist", path);
    if (hd_remediating()) am_succeeded(msg, NULL);
    am_not_applicable(msg, NULL);
  }
  if (rc < 0) am_fatal("the metadata of %s: error %d", path, rc);
  char details[512];
  snprintf(details, sizeof details, "{\"path\":\"%s\",\"type\":\"%s\",\"mode\":\"%04o\",\"uid\":%lld,\"gid\":%lld}", path,
           st.type, st.mode, st.uid, st.gid);
  if (strcmp(st.type, "symlink") == 0) {
    snprintf(msg, sizeof msg, "%s is a symbolic link; the file it points to is what counts", path);
    if (hd_remediating()) am_succeeded(msg, details);
    am_not_applicable(msg, details);
  }
  if (uid >= 0 && st.uid != uid) {
    snprintf(msg, sizeof msg, "%s is owned by uid %lld (%s), not uid %lld", path, st.uid, st.user[0] ? st.user : "no name", uid);
  } else if (gid >= 0 && st.gid != gid) {
    snprintf(msg, sizeof msg, "%s has group gid %lld (%s), not gid %lld", path, st.gid, st.group[0] ? st.group : "no name", gid);
  } else if (st.mode & forbidden) {
    snprintf(msg, sizeof msg, "%s has mode %04o: the bits %04o must be clear", path, st.mode, st.mode & forbidden);
  } else {
    snprintf(msg, sizeof msg, "%s: owner %lld, group %lld, mode %04o", path, st.uid, st.gid, st.mode);
    if (hd_remediating()) am_succeeded(msg, details);
    am_compliant(msg, details);
  }
  if (!hd_remediating()) am_non_compliant(msg, details);
  hd_run_and_finish(fix, "fixed");
}

/* ------------------------------------------------------------ accounts */

enum { HD_ROOT_GID, HD_EMPTY_PASSWORDS, HD_PASSWD_GROUPS, HD_UNIQUE_USER_NAMES, HD_UNIQUE_UIDS, HD_UNIQUE_GROUP_NAMES };

/* hd_seen is a small set of strings (a few thousand accounts at most). */
typedef struct {
  char **v;
  int n, cap;
} hd_set;

static HD_UNUSED int hd_set_has(hd_set *s, const char *k) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->v[i], k) == 0) return 1;
  return 0;
}

static HD_UNUSED void hd_set_add(hd_set *s, const char *k) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->v = realloc(s->v, sizeof *s->v * (size_t)s->cap);
    if (!s->v) am_fatal("out of memory");
  }
  s->v[s->n++] = strdup(k);
}

static HD_UNUSED int hd_account_line(const char *line) {
  return line[0] && line[0] != '#' && line[0] != '+' && line[0] != '-' && strchr(line, ':');
}

/* hd_account_rule checks one rule over the account databases. */
static HD_UNUSED AM_NORETURN void hd_account_rule(int rule) {
  const char *file = rule == HD_EMPTY_PASSWORDS ? "/etc/shadow" : rule == HD_UNIQUE_GROUP_NAMES ? "/etc/group" : "/etc/passwd";
  char *text = hd_read(file);
  char msg[1024];
  if (!text) {
    snprintf(msg, sizeof msg, "%s does not exist", file);
    if (rule == HD_EMPTY_PASSWORDS || rule == HD_UNIQUE_GROUP_NAMES) am_not_applicable(msg, NULL);
    am_non_compliant(msg, NULL);
  }
  hd_set groups = {0}, seen = {0};
  if (rule == HD_PASSWD_GROUPS) {
    char *g = hd_read("/etc/group"), *pos = g, *line;
    while (g && (line = hd_next_line(&pos)))
      if (hd_account_line(line)) {
        char gid[32];
        if (hd_field(line, 2, gid, sizeof gid) == 0) hd_set_add(&groups, gid);
      }
  }
  hd_list bad = {0};
  int root_seen = 0;
  char *pos = text, *line;
  while ((line = hd_next_line(&pos))) {
    if (!hd_account_line(line)) continue;
    char name[256], f1[512], f2[32], f3[32];
    hd_field(line, 0, name, sizeof name);
    hd_field(line, 1, f1, sizeof f1);
    if (hd_field(line, 2, f2, sizeof f2) < 0) f2[0] = 0;
    if (hd_field(line, 3, f3, sizeof f3) < 0) f3[0] = 0;
    switch (rule) {
      case HD_ROOT_GID:
        if (!root_seen && strcmp(name, "root") == 0) {
          root_seen = 1;
          if (strcmp(f3, "0") != 0) hd_list_add(&bad, f3);
        }
        break;
      case HD_EMPTY_PASSWORDS:
        if (f1[0] == 0) hd_list_add(&bad, name);
        break;
      case HD_PASSWD_GROUPS:
        if (f1[0] && f3[0] && !hd_set_has(&groups, f3)) {
          char item[320];
          snprintf(item, sizeof item, "%s (gid %s)", name, f3);
          hd_list_add(&bad, item);
        }
        break;
      case HD_UNIQUE_USER_NAMES:
      case HD_UNIQUE_GROUP_NAMES:
        if (hd_set_has(&seen, name)) hd_list_add(&bad, name);
        else hd_set_add(&seen, name);
        break;
      case HD_UNIQUE_UIDS:
        if (hd_set_has(&seen, f2)) {
          char item[320];
          snprintf(item, sizeof item, "%s (uid %s)", name, f2);
          hd_list_add(&bad, item);
        } else {
          hd_set_add(&seen, f2);
        }
        break;
    }
  }
  const char *what = "";
  switch (rule) {
    case HD_ROOT_GID:
      if (!root_seen) am_non_compliant("/etc/passwd has no root account", NULL);
      what = "root's primary group is not gid 0 but";
      break;
    case HD_EMPTY_PASSWORDS: what = "accounts with an empty password field in /etc/shadow:"; break;
    case HD_PASSWD_GROUPS: what = "accounts whose primary group is not in /etc/group:"; break;
    case HD_UNIQUE_USER_NAMES: what = "user names defined more than once in /etc/passwd:"; break;
    case HD_UNIQUE_UIDS: what = "accounts sharing a uid in /etc/passwd:"; break;
    case HD_UNIQUE_GROUP_NAMES: what = "group names defined more than once in /etc/group:"; break;
  }
  if (bad.n == 0) {
    static const char *const ok[] = {"root's primary group is gid 0", "no account has an empty password field",
                                     "every account's primary group exists", "every user name is unique",
                                     "every uid is unique", "every group name is unique"};
    am_compliant(ok[rule], NULL);
  }
  snprintf(msg, sizeof msg, "%s %s", what, bad.msg.p);
  char *details = malloc(bad.json.len + 16);
  sprintf(details, "{\"found\":%s}", hd_list_json(&bad));
  am_non_compliant(msg, details);
}

/* ----------------------------------------------------------- login.defs */

/* hd_login_def finds the last definition of key in /etc/login.defs (as
 * shadow's getdef does): 1 and its value in out, 0 when absent, -1 when
 * the file is missing. */
static HD_UNUSED int hd_login_def(const char *key, char *out, size_t cap) {
  char *text = hd_read("/etc/login.defs");
  if (!text) return -1;
  int found = 0;
  char *pos = text, *line;
  size_t kl = strlen(key);
  while ((line = hd_next_line(&pos))) {
    while (*line == ' ' || *line == '\t') line++;
    if (strncmp(line, key, kl) != 0 || (line[kl] != ' ' && line[kl] != '\t')) continue;
    char *v = line + kl;
    while (*v == ' ' || *v == '\t' || *v == '"') v++;
    size_t n = strcspn(v, " \t\"#");
    if (n >= cap) n = cap - 1;
    memcpy(out, v, n);
    out[n] = 0;
    found = 1;
  }
  free(text);
  return found;
}

/* hd_umask_rule: login.defs UMASK masks at least the bits of param
 * "umask" (an octal string, default want). */
static HD_UNUSED AM_NORETURN void hd_umask_rule(const char *want_default) {
  char want[16], have[32], msg[256];
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  if (am_param_string("umask", want, sizeof want) < 0) snprintf(want, sizeof want, "%s", want_default);
  unsigned w = (unsigned)strtoul(want, NULL, 8);
  int rc = hd_login_def("UMASK", have, sizeof have);
  if (rc < 0) am_not_applicable("/etc/login.defs does not exist", NULL);
  if (rc == 0) am_non_compliant("/etc/login.defs sets no UMASK (the default 022 lets others read new files)", NULL);
  char *end;
  unsigned h = (unsigned)strtoul(have, &end, 8);
  if (*end || !have[0]) {
    snprintf(msg, sizeof msg, "/etc/login.defs UMASK %s is not an octal number", have);
    am_non_compliant(msg, NULL);
  }
  if ((h & w) != w) {
    snprintf(msg, sizeof msg, "/etc/login.defs UMASK %s leaves bits of %s open (want at least %s)", have, want, want);
    am_non_compliant(msg, NULL);
  }
  snprintf(msg, sizeof msg, "/etc/login.defs UMASK %s masks at least %s", have, want);
  am_compliant(msg, NULL);
}

/* ------------------------------------------------------------- software */

/* hd_installed reports whether a package of that name is in the scan's
 * software list (1), not (0), or the list is missing (-1). */
static HD_UNUSED int hd_installed(const char *name) {
  char *v;
  int n = am_fact("software", &v);
  if (n < 0) return -1;
  size_t nl = strlen(name);
  for (char *p = v; (p = strstr(p, "\"name\"")) != NULL;) {
    p += 6;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':') p++;
    if (*p == '"' && strncmp(p + 1, name, nl) == 0 && p[1 + nl] == '"') {
      free(v);
      return 1;
    }
  }
  free(v);
  return 0;
}

/* hd_packages_absent: none of names (NULL-terminated) is installed. */
static HD_UNUSED AM_NORETURN void hd_packages_absent(const char *const names[]) {
  hd_list found = {0};
  for (int i = 0; names[i]; i++) {
    int rc = hd_installed(names[i]);
    if (rc < 0) am_fatal("the scan has no software list");
    if (rc) hd_list_add(&found, names[i]);
  }
  char msg[512];
  if (found.n) {
    snprintf(msg, sizeof msg, "installed, and should not be: %s", found.msg.p);
    char *details = malloc(found.json.len + 16);
    sprintf(details, "{\"installed\":%s}", hd_list_json(&found));
    am_non_compliant(msg, details);
  }
  snprintf(msg, sizeof msg, "not installed: %s", names[0]);
  am_compliant(msg, NULL);
}

/* hd_package_present: name is installed. */
static HD_UNUSED AM_NORETURN void hd_package_present(const char *name) {
  int rc = hd_installed(name);
  char msg[256];
  if (rc < 0) am_fatal("the scan has no software list");
  snprintf(msg, sizeof msg, rc ? "%s is installed" : "%s is not installed", name);
  if (rc) am_compliant(msg, NULL);
  am_non_compliant(msg, NULL);
}

/* hd_service_enabled: package is installed and its unit is wanted by
 * multi-user.target in /etc (what `systemctl enable` writes; a file, so
 * it also tells for a mounted image). */
static HD_UNUSED AM_NORETURN void hd_service_enabled(const char *package, const char *unit) {
  int rc = hd_installed(package);
  char msg[256], link[256];
  if (rc < 0) am_fatal("the scan has no software list");
  if (!rc) {
    snprintf(msg, sizeof msg, "%s is not installed", package);
    am_non_compliant(msg, NULL);
  }
  snprintf(link, sizeof link, "/etc/systemd/system/multi-user.target.wants/%s", unit);
  hd_stat st;
  rc = hd_stat_path(link, &st);
  if (rc == AM_ENOTFOUND) {
    snprintf(msg, sizeof msg, "%s is installed but not enabled (no %s)", unit, link);
    am_non_compliant(msg, NULL);
  }
  if (rc < 0) am_fatal("the metadata of %s: error %d", link, rc);
  snprintf(msg, sizeof msg, "%s is installed and enabled", unit);
  am_compliant(msg, NULL);
}

/* ----------------------------------------------------------------- sshd */

#define HD_SSHD_CONFIG "/etc/ssh/sshd_config"

/* hd_sshd_value finds the value sshd uses for keyword: the first one
 * outside a Match block, in sshd_config with its Include files read in
 * place (glob patterns ending in *.conf under /etc/ssh/sshd_config.d/).
 * 1 found, 0 absent, -1 no sshd_config. */
static int hd__sshd_file(const char *path, const char *keyword, char *out, size_t cap, int depth);

static HD_UNUSED int hd__sshd_include(const char *pattern, const char *keyword, char *out, size_t cap, int depth) {
  char path[512];
  if (pattern[0] != '/') snprintf(path, sizeof path, "/etc/ssh/%s", pattern);
  else snprintf(path, sizeof path, "%s", pattern);
  char *star = strchr(path, '*');
  if (!star) return hd__sshd_file(path, keyword, out, cap, depth + 1) == 1;
  /* dir/prefix*suffix: list dir, sorted, as glob(3) does */
  char *slash = strrchr(path, '/');
  if (!slash || slash > star) return 0;
  *slash = 0;
  const char *dir = path, *pre = slash + 1;
  size_t prel = (size_t)(star - pre);
  const char *suf = star + 1;
  size_t sufl = strlen(suf);
  DIR *d = opendir(dir);
  if (!d) return 0;
  char **names = NULL;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (e->d_name[0] == '.' || l < prel + sufl) continue;
    if (strncmp(e->d_name, pre, prel) || strcmp(e->d_name + l - sufl, suf)) continue;
    names = realloc(names, sizeof *names * (size_t)(n + 1));
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  int found = 0;
  for (int i = 0; i < n && !found; i++) {
    char full[768];
    snprintf(full, sizeof full, "%s/%s", dir, names[i]);
    found = hd__sshd_file(full, keyword, out, cap, depth + 1) == 1;
  }
  return found;
}

static int hd__sshd_file(const char *path, const char *keyword, char *out, size_t cap, int depth) {
  if (depth > 8) return 0;
  char *text = hd_read(path);
  if (!text) return -1;
  char *pos = text, *line;
  int in_match = 0, found = 0;
  while (!found && (line = hd_next_line(&pos))) {
    while (*line == ' ' || *line == '\t') line++;
    if (!*line || *line == '#') continue;
    size_t kl = strcspn(line, " \t=");
    char *v = line + kl;
    while (*v == ' ' || *v == '\t' || *v == '=') v++;
    char *hash = strchr(v, '#');
    if (hash) *hash = 0;
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) v[--vl] = 0;
    if (kl == 5 && strncasecmp(line, "match", 5) == 0) {
      in_match = 1;
      continue;
    }
    if (in_match) continue;
    if (kl == 7 && strncasecmp(line, "include", 7) == 0) {
      char *tok = strtok(v, " \t");
      while (tok && !found) {
        found = hd__sshd_include(tok, keyword, out, cap, depth);
        tok = strtok(NULL, " \t");
      }
      continue;
    }
    if (kl == strlen(keyword) && strncasecmp(line, keyword, kl) == 0) {
      snprintf(out, cap, "%s", v);
      found = 1;
    }
  }
  free(text);
  return found;
}

/* hd_sshd_rule: the effective value of keyword (default def when no line
 * sets it) must satisfy ok(value, limit). Not applicable without
 * openssh-server. */
typedef int (*hd_sshd_ok)(const char *value, long limit);

static HD_UNUSED int hd_sshd_is_no(const char *v, long limit) {
  (void)limit;
  return strcasecmp(v, "no") == 0;
}

static HD_UNUSED int hd_sshd_in_range(const char *v, long limit) {
  char *end;
  long n = strtol(v, &end, 10);
  return *v && !*end && n > 0 && n <= limit;
}

static HD_UNUSED AM_NORETURN void hd_sshd_rule(const char *keyword, const char *def, hd_sshd_ok ok, const char *limit_param,
                                               long limit_default, const char *want) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  long long limit = limit_default;
  if (limit_param) am_param_int(limit_param, &limit);
  int rc = hd_installed("openssh-server");
  if (rc < 0) am_fatal("the scan has no software list");
  if (!rc) am_not_applicable("openssh-server is not installed", NULL);
  char value[256], msg[512];
  rc = hd__sshd_file(HD_SSHD_CONFIG, keyword, value, sizeof value, 0);
  if (rc < 0) am_not_applicable(HD_SSHD_CONFIG " does not exist", NULL);
  int set = rc == 1;
  if (!set) snprintf(value, sizeof value, "%s", def);
  char details[512];
  snprintf(details, sizeof details, "{\"keyword\":\"%s\",\"value\":\"%.200s\",\"set\":%s}", keyword, value, set ? "true" : "false");
  if (ok(value, (long)limit)) {
    snprintf(msg, sizeof msg, "sshd %s %s%s", keyword, value, set ? "" : " (sshd's default)");
    am_compliant(msg, details);
  }
  if (limit_param) snprintf(msg, sizeof msg, "sshd %s is %s%s; want %s %lld", keyword, value, set ? "" : " (sshd's default)", want, limit);
  else snprintf(msg, sizeof msg, "sshd %s is %s%s; want %s", keyword, value, set ? "" : " (sshd's default)", want);
  am_non_compliant(msg, details);
}

/* --------------------------------------------------------------- sysctl */

/* The directories systemd-sysctl and `sysctl --system` read, in priority
 * order: a file name in an earlier directory hides the same name in a
 * later one; files apply in name order, a later assignment winning;
 * /etc/sysctl.conf applies last. */
static const char *const hd_sysctl_dirs[] = {"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
                                             "/lib/sysctl.d", NULL};

/* hd__sysctl_scan sets value (and where) from the assignments of key in
 * the file at path. */
static HD_UNUSED void hd__sysctl_scan(const char *path, const char *key, char *value, size_t cap, char *where, size_t wcap) {
  char *text = hd_read(path);
  if (!text) return;
  char *pos = text, *line;
  size_t kl = strlen(key);
  while ((line = hd_next_line(&pos))) {
    while (*line == ' ' || *line == '\t' || *line == '-') line++;
    if (*line == '#' || *line == ';') continue;
    char *eq = strchr(line, '=');
    if (!eq) continue;
    char *ke = eq;
    while (ke > line && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
    if ((size_t)(ke - line) != kl) continue;
    int same = 1;
    for (size_t i = 0; i < kl && same; i++) {
      char a = line[i] == '/' ? '.' : line[i];
      same = a == key[i];
    }
    if (!same) continue;
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
    if (vl >= cap) vl = cap - 1;
    memcpy(value, v, vl);
    value[vl] = 0;
    snprintf(where, wcap, "%s", path);
  }
  free(text);
}

static HD_UNUSED int hd__cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* hd_sysctl_persisted finds the value key gets at boot: 1 and the value
 * (and the file that sets it), or 0 when no file sets it. */
static HD_UNUSED int hd_sysctl_persisted(const char *key, char *value, size_t cap, char *where, size_t wcap) {
  char *names[512];
  const char *dirs[512];
  int n = 0;
  for (int d = 0; hd_sysctl_dirs[d]; d++) {
    DIR *dir = opendir(hd_sysctl_dirs[d]);
    if (!dir) continue;
    struct dirent *e;
    while ((e = readdir(dir)) && n < 512) {
      size_t l = strlen(e->d_name);
      if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".conf") != 0) continue;
      int dup = 0;
      for (int i = 0; i < n && !dup; i++) dup = strcmp(names[i], e->d_name) == 0;
      if (dup) continue;
      names[n] = strdup(e->d_name);
      dirs[n] = hd_sysctl_dirs[d];
      n++;
    }
    closedir(dir);
  }
  /* sort by name, keeping each name's directory */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
      const char *u = dirs[j];
      dirs[j] = dirs[j - 1];
      dirs[j - 1] = u;
    }
  value[0] = 0;
  for (int i = 0; i < n; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dirs[i], names[i]);
    hd__sysctl_scan(path, key, value, cap, where, wcap);
  }
  hd__sysctl_scan("/etc/sysctl.conf", key, value, cap, where, wcap);
  return value[0] != 0;
}

/* hd_sysctl_rule: kernel parameter key must be want, both now (from
 * /proc/sys, when it can be read: not for a mounted image) and at boot
 * (the sysctl.d files). Remediation writes dropin under /etc/sysctl.d
 * and sets the running value with `sysctl -w key=want`. */
static HD_UNUSED AM_NORETURN void hd_sysctl_rule(const char *key, const char *want, const char *dropin) {
  char proc[256], value[64] = "", where[512] = "", msg[768], now[64] = "";
  snprintf(proc, sizeof proc, "/proc/sys/%s", key);
  for (char *p = proc + 10; *p; p++)
    if (*p == '.') *p = '/';
  char *run = hd_read(proc);
  if (run) {
    size_t n = strcspn(run, " \t\r\n");
    if (n >= sizeof now) n = sizeof now - 1;
    memcpy(now, run, n);
    now[n] = 0;
    free(run);
  }
  int persisted = hd_sysctl_persisted(key, value, sizeof value, where, sizeof where);
  int boot_ok = persisted && strcmp(value, want) == 0;
  int now_ok = !now[0] || strcmp(now, want) == 0;
  char details[1024];
  snprintf(details, sizeof details, "{\"key\":\"%s\",\"want\":\"%s\",\"running\":%s%s%s,\"persisted\":%s%s%s,\"file\":\"%s\"}", key,
           want, now[0] ? "\"" : "", now[0] ? now : "null", now[0] ? "\"" : "", persisted ? "\"" : "", persisted ? value : "null",
           persisted ? "\"" : "", where);
  if (boot_ok && now_ok) {
    if (now[0]) snprintf(msg, sizeof msg, "%s = %s now and at boot (%s)", key, want, where);
    else snprintf(msg, sizeof msg, "%s = %s at boot (%s); the running value is not readable here", key, want, where);
    if (hd_remediating()) am_succeeded(msg, details);
    am_compliant(msg, details);
  }
  if (!hd_remediating()) {
    if (!boot_ok && persisted) snprintf(msg, sizeof msg, "%s is set to %s at boot by %s; want %s", key, value, where, want);
    else if (!boot_ok) snprintf(msg, sizeof msg, "no sysctl file sets %s (want %s at boot)", key, want);
    else snprintf(msg, sizeof msg, "%s is %s now; want %s (the sysctl files set it for the next boot)", key, now, want);
    am_non_compliant(msg, details);
  }
  if (!boot_ok) {
    char path[256], body[256];
    snprintf(path, sizeof path, "/etc/sysctl.d/%s", dropin);
    snprintf(body, sizeof body, "# written by amagent's hardening pack: remove this file to undo\n%s = %s\n", key, want);
    FILE *f = fopen(path, "w");
    if (!f || fputs(body, f) < 0 || fclose(f) != 0) am_fatal("writing %s failed", path);
  }
  if (!now_ok) {
    char arg[128];
    snprintf(arg, sizeof arg, "%s=%s", key, want);
    const char *argv[] = {"sysctl", "-w", arg, NULL};
    hd_run_and_finish(argv, "set now and at boot");
  }
  am_succeeded("set at boot", NULL);
}

#endif /* HARDENING_H */
