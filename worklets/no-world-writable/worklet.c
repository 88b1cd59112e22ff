/*
 * no-world-writable: an amagent worklet in C. No regular file under the
 * directories in the parameter paths may be writable by everyone.
 *
 * WASI preview 1 reports no permission bits (its filestat has no mode), so
 * a module cannot see world-writable files by walking a mounted directory:
 * it asks `find PATH -xdev -type f -perm -0002 -print` through exec, one
 * run per path, each such argv declared whole in worklet.toml (exec
 * patterns match the whole argv: nothing can be added to it). The
 * remediation runs `chmod o-w FILE...` on what find reported, allowed by
 * the pattern ["chmod", "o-w", "{path}..."]: every FILE must be an
 * absolute path inside a path the remediate phase declares, so no option
 * (--reference=...) and no file elsewhere can be given.
 */
#include "amagent.h"

#define MAX_PATHS 16
#define MAX_PATH_LEN 512
#define MAX_FILES 4096
#define SHOWN 100
#define CHMOD_BATCH 100

static char paths[MAX_PATHS][MAX_PATH_LEN];
static int npaths;

static const char *default_paths[] = {"/etc", "/usr", "/bin", "/sbin", "/boot"};

static char *files[MAX_FILES];
static int nfiles, dropped;

static void read_paths(void) {
  const char *v;
  size_t vl;
  int rc = am_param("paths", &v, &vl);
  if (rc == 0 && !(vl == 4 && memcmp(v, "null", 4) == 0)) {
    for (int i = 0;; i++) {
      char idx[16];
      const char *e;
      size_t el;
      snprintf(idx, sizeof idx, "%d", i);
      if (am_json_find(v, vl, idx, &e, &el) < 0) break;
      if (i >= MAX_PATHS) am_fatal("param paths: more than %d entries", MAX_PATHS);
      if (am_json_string(e, el, paths[i], MAX_PATH_LEN) < 0) am_fatal("param paths: entry %d is not a string", i);
      if (paths[i][0] != '/') am_fatal("param paths: %s is not an absolute path", paths[i]);
      npaths = i + 1;
    }
  } else if (rc < 0 && rc != AM_ENOTFOUND) {
    am_fatal("param paths: %s", am_strerror(rc));
  }
  if (npaths == 0) {
    for (size_t i = 0; i < sizeof default_paths / sizeof *default_paths; i++) strcpy(paths[npaths++], default_paths[i]);
  }
}

static void add_file(const char *s, size_t n) {
  if (n == 0) return;
  if (nfiles >= MAX_FILES) {
    dropped++;
    return;
  }
  char *f = malloc(n + 1);
  if (!f) am_fatal("out of memory");
  memcpy(f, s, n);
  f[n] = 0;
  files[nfiles++] = f;
}

/* scan_path runs find for one path; it returns 1 when the path was
 * searched, 0 when it does not exist, and records problems in errs. */
static int scan_path(const char *path, am_buf *details, am_buf *errs) {
  const char *argv[] = {"find", path, "-xdev", "-type", "f", "-perm", "-0002", "-print", NULL};
  am_exec_result r;
  int rc = am_exec(argv, NULL, 60000, &r);
  if (rc == AM_EDENIED)
    am_fatal("find %s is not allowed: add [\"find\", \"%s\", \"-xdev\", \"-type\", \"f\", \"-perm\", \"-0002\", \"-print\"] to evaluate.exec and remediate.exec, and \"%s/\" to remediate.read, in worklet.toml", path, path, path);
  if (rc < 0) am_fatal("find %s: %s", path, am_strerror(rc));
  int before = nfiles;
  for (const char *p = r.out; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    add_file(p, n);
    p += n + (nl ? 1 : 0);
  }
  int missing = r.exit_code != 0 && nfiles == before && strstr(r.err, "No such file or directory") != NULL;
  const char *status = missing ? "missing" : r.exit_code != 0 ? "partial" : "searched";
  if (details->len > 1) am_buf_puts(details, ",");
  am_buf_puts(details, "{\"path\":");
  am_buf_json_string(details, path);
  am_buf_printf(details, ",\"status\":\"%s\",\"found\":%d}", status, nfiles - before);
  if (!missing && r.exit_code != 0) {
    const char *e = r.err && *r.err ? r.err : "no message";
    const char *nl = strchr(e, '\n');
    am_buf_printf(errs, "%sfind %s exited %d: %.*s", errs->len ? "; " : "", path, r.exit_code,
                  (int)(nl ? nl - e : (long)strlen(e)), e);
  }
  am_exec_free(&r);
  return !missing;
}

static void file_list(am_buf *b) {
  am_buf_puts(b, "[");
  for (int i = 0; i < nfiles && i < SHOWN; i++) {
    if (i) am_buf_puts(b, ",");
    am_buf_json_string(b, files[i]);
  }
  am_buf_puts(b, "]");
}

int main(void) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  char family[32];
  if (am_fact_string("os.family", family, sizeof family) >= 0 && strcmp(family, "linux") != 0 && strcmp(family, "darwin") != 0) {
    am_buf m = {0};
    am_buf_printf(&m, "file modes are checked on Linux and macOS, not %s", family);
    am_not_applicable(m.p, NULL);
  }
  read_paths();
  am_buf per = {0}, errs = {0};
  am_buf_puts(&per, "[");
  int searched = 0;
  for (int i = 0; i < npaths; i++) searched += scan_path(paths[i], &per, &errs);
  am_buf_puts(&per, "]");

  am_buf details = {0}, m = {0};
  am_buf_printf(&details, "{\"paths\":%s,\"total\":%d,\"files\":", per.p, nfiles + dropped);
  file_list(&details);
  am_buf_puts(&details, ",\"errors\":");
  am_buf_json_string(&details, errs.p ? errs.p : "");
  am_buf_puts(&details, "}");
  if (details.oom) am_fatal("out of memory");

  if (searched == 0) am_not_applicable("none of the paths exists on this device", details.p);
  int remediate = strcmp(am_phase(), "remediate") == 0;
  if (!remediate) {
    if (nfiles == 0) {
      am_buf_printf(&m, "no world-writable files under %d path%s", searched, searched == 1 ? "" : "s");
      if (errs.len) am_buf_printf(&m, " (%s)", errs.p);
      am_compliant(m.p, details.p);
    }
    am_buf_printf(&m, "%d world-writable file%s: ", nfiles + dropped, nfiles + dropped == 1 ? "" : "s");
    for (int i = 0; i < nfiles && i < 5; i++) am_buf_printf(&m, "%s%s", i ? ", " : "", files[i]);
    if (nfiles + dropped > 5) am_buf_printf(&m, " and %d more", nfiles + dropped - 5);
    am_non_compliant(m.p, details.p);
  }
  if (nfiles == 0) am_succeeded("no world-writable files, nothing changed", details.p);
  int fixed = 0;
  for (int start = 0; start < nfiles; start += CHMOD_BATCH) {
    int n = nfiles - start < CHMOD_BATCH ? nfiles - start : CHMOD_BATCH;
    const char **argv = calloc((size_t)n + 3, sizeof *argv);
    if (!argv) am_fatal("out of memory");
    argv[0] = "chmod";
    argv[1] = "o-w";
    for (int i = 0; i < n; i++) argv[2 + i] = files[start + i];
    am_exec_result r;
    int rc = am_exec(argv, NULL, 30000, &r);
    free(argv);
    if (rc < 0 || r.exit_code != 0) {
      const char *why = rc < 0 ? am_strerror(rc) : (r.err && *r.err ? r.err : "non-zero exit");
      const char *nl = strchr(why, '\n');
      am_buf_printf(&m, "chmod o-w failed after %d of %d files: %.*s", fixed, nfiles,
                    (int)(nl ? nl - why : (long)strlen(why)), why);
      am_failed(m.p, details.p);
    }
    am_exec_free(&r);
    fixed += n;
  }
  if (dropped) {
    am_buf_printf(&m, "removed world write permission from %d files; %d more remain (run again)", fixed, dropped);
    am_failed(m.p, details.p);
  }
  am_buf_printf(&m, "removed world write permission from %d file%s", fixed, fixed == 1 ? "" : "s");
  am_succeeded(m.p, details.p);
}
