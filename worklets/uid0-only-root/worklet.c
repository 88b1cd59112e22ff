/* uid0-only-root: only root has UID 0 (CIS "Ensure root is the only UID 0
 * account"). Reads /etc/passwd with the SDK's am_read_file; every other
 * account whose third field is 0 is named in the message and the details.
 * Remediation changes nothing and fails with the accounts to fix by hand. */
#include "amagent.h"

#define PASSWD "/etc/passwd"

int main(void) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  char *text;
  int n = am_read_file(PASSWD, &text);
  if (n == AM_ENOTFOUND) am_fatal(PASSWD " does not exist: cannot tell which accounts have UID 0");
  if (n < 0) am_fatal("read " PASSWD ": %s", am_strerror(n));

  am_buf names = {0};   /* "toor, admin2" for the message */
  am_buf details = {0}; /* ["toor","admin2"] */
  int others = 0, root = 0;
  am_buf_puts(&details, "{\"uid0\":[");
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    if (line[0] == '#' || line[0] == 0) continue;
    /* name:password:uid:gid:gecos:home:shell */
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
    if (!c3) continue; /* not an account line (NIS "+" entries and the like) */
    *c1 = 0;
    *c3 = 0;
    if (strcmp(c2 + 1, "0") != 0) continue;
    if (strcmp(line, "root") == 0) { root = 1; continue; }
    if (others++) { am_buf_puts(&names, ", "); am_buf_puts(&details, ","); }
    am_buf_puts(&names, line);
    am_buf_json_string(&details, line);
  }
  am_buf_printf(&details, "],\"root_is_uid0\":%s}", root ? "true" : "false");
  free(text);

  char msg[512];
  int remediate = strcmp(am_phase(), "remediate") == 0;
  if (others == 0 && remediate) am_succeeded("only root has UID 0: nothing to do", details.p);
  if (others == 0 && !root) am_non_compliant("no account has UID 0, not even root", details.p);
  if (others == 0) am_compliant("only root has UID 0", details.p);
  if (remediate) {
    snprintf(msg, sizeof msg, "not changed automatically: remove %s or give %s a UID of its own (usermod -u)",
             names.p, others > 1 ? "each" : "it");
    am_failed(msg, details.p);
  }
  snprintf(msg, sizeof msg, "%d account%s besides root ha%s UID 0: %s", others, others > 1 ? "s" : "",
           others > 1 ? "ve" : "s", names.p);
  am_non_compliant(msg, details.p);
}
