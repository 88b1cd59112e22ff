/*
 * disk-usage-threshold: an amagent worklet in C. Every mounted file system
 * in the scan's hardware.disks (or only those named by the parameter
 * mountpoints) must be used at most max_percent. Read-only image file
 * systems (squashfs snaps, ISO images: always full) are skipped unless the
 * parameter ignore_fstypes says otherwise; mountpoints named explicitly are
 * always checked. An empty mountpoints list means all file systems. No files, no programs, no
 * remediation: what to delete is not a decision for a compliance check.
 */
#include "amagent.h"

#define MAX_LIST 64
#define MAX_STR 256

typedef struct {
  int n;
  char item[MAX_LIST][MAX_STR];
  int present; /* the parameter was given */
} str_list;

/* list_param reads a list-of-strings parameter; absent leaves the defaults. */
static void list_param(const char *name, str_list *l) {
  const char *v;
  size_t vl;
  int rc = am_param(name, &v, &vl);
  if (rc == AM_ENOTFOUND) return;
  if (rc < 0) am_fatal("param %s: %s", name, am_strerror(rc));
  if (vl == 4 && memcmp(v, "null", 4) == 0) return;
  l->n = 0;
  for (int i = 0;; i++) {
    char idx[16];
    const char *e;
    size_t el;
    snprintf(idx, sizeof idx, "%d", i);
    rc = am_json_find(v, vl, idx, &e, &el);
    if (rc == AM_ENOTFOUND) break;
    if (rc < 0) am_fatal("param %s: not a list of strings", name);
    if (i >= MAX_LIST) am_fatal("param %s: more than %d entries", name, MAX_LIST);
    if (am_json_string(e, el, l->item[i], MAX_STR) < 0) am_fatal("param %s: entry %d is not a string", name, i);
    l->n = i + 1;
  }
  l->present = l->n > 0; /* an empty list is the same as no list */
}

static int in_list(const str_list *l, const char *s) {
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->item[i], s) == 0) return 1;
  return 0;
}

int main(void) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  double max_percent = 90;
  {
    const char *v;
    size_t vl;
    int rc = am_param("max_percent", &v, &vl);
    if (rc == 0 && am_json_number(v, vl, &max_percent) < 0) am_fatal("param max_percent: not a number");
    if (rc < 0 && rc != AM_ENOTFOUND) am_fatal("param max_percent: %s", am_strerror(rc));
    if (max_percent <= 0 || max_percent > 100) am_fatal("param max_percent: %g is not in (0, 100]", max_percent);
  }
  str_list mounts = {0}, ignore = {0};
  ignore.n = 2;
  strcpy(ignore.item[0], "squashfs");
  strcpy(ignore.item[1], "iso9660");
  list_param("mountpoints", &mounts);
  list_param("ignore_fstypes", &ignore);

  char *disks;
  int n = am_fact("hardware.disks", &disks);
  if (n == AM_ENOTFOUND || (n >= 4 && strncmp(disks, "null", 4) == 0))
    am_not_applicable("the scan has no disk information", NULL);
  if (n < 0) am_fatal("fact hardware.disks: %s", am_strerror(n));

  am_buf over = {0}, details = {0};
  int checked = 0, failing = 0;
  int seen[MAX_LIST] = {0};
  double worst = -1;
  char worst_mp[MAX_STR] = "";
  am_buf_printf(&details, "{\"max_percent\":%g,\"filesystems\":[", max_percent);
  for (int i = 0;; i++) {
    char key[64], mp[MAX_STR], fstype[64] = "", device[MAX_STR] = "";
    const char *v;
    size_t vl;
    snprintf(key, sizeof key, "%d", i);
    if (am_json_find(disks, (size_t)n, key, &v, &vl) < 0) break;
    if (am_json_get_string(v, vl, "mountpoint", mp, sizeof mp) < 0) continue;
    am_json_get_string(v, vl, "fstype", fstype, sizeof fstype);
    am_json_get_string(v, vl, "device", device, sizeof device);
    const char *pv;
    size_t pl;
    double used;
    if (am_json_find(v, vl, "used_percent", &pv, &pl) < 0 || am_json_number(pv, pl, &used) < 0) continue;
    if (mounts.present) {
      int found = 0;
      for (int j = 0; j < mounts.n; j++)
        if (strcmp(mounts.item[j], mp) == 0) seen[j] = found = 1;
      if (!found) continue;
    } else if (in_list(&ignore, fstype)) {
      continue;
    }
    int bad = used > max_percent;
    if (checked) am_buf_puts(&details, ",");
    am_buf_puts(&details, "{\"mountpoint\":");
    am_buf_json_string(&details, mp);
    am_buf_puts(&details, ",\"device\":");
    am_buf_json_string(&details, device);
    am_buf_puts(&details, ",\"fstype\":");
    am_buf_json_string(&details, fstype);
    am_buf_printf(&details, ",\"used_percent\":%.2f,\"ok\":%s}", used, bad ? "false" : "true");
    checked++;
    if (used > worst) {
      worst = used;
      snprintf(worst_mp, sizeof worst_mp, "%s", mp);
    }
    if (bad) {
      am_buf_printf(&over, "%s%s %.1f%%", failing ? ", " : "", mp, used);
      failing++;
    }
  }
  am_buf_puts(&details, "],\"missing\":[");
  int missing = 0;
  for (int j = 0; j < mounts.n; j++) {
    if (seen[j]) continue;
    if (missing++) am_buf_puts(&details, ",");
    am_buf_json_string(&details, mounts.item[j]);
  }
  am_buf_puts(&details, "]}");
  if (details.oom || over.oom) am_fatal("out of memory");

  am_buf m = {0};
  if (checked == 0) {
    if (mounts.present) am_not_applicable("none of the mountpoints in the parameter is mounted on this device", details.p);
    am_not_applicable("the scan lists no file system to check", details.p);
  }
  if (failing) {
    am_buf_printf(&m, "%d of %d file system%s used more than %g%%: %s", failing, checked, checked == 1 ? "" : "s", max_percent, over.p);
    am_non_compliant(m.p, details.p);
  }
  am_buf_printf(&m, "%d file system%s at most %g%% used (fullest: %s %.1f%%)", checked, checked == 1 ? "" : "s", max_percent, worst_mp, worst);
  am_compliant(m.p, details.p);
}
