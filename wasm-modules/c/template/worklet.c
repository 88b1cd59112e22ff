/* Worklet template in C: copy the directory, change the name in
 * worklet.toml, set SDK in build.sh, and write the check. It reports
 * compliant when no reboot is pending (fact reboot_required), or when param
 * allow_pending is true; not applicable outside Linux. */
#include "amagent.h"

int main(void) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  if (strcmp(am_phase(), "remediate") == 0) {
    /* Run allow-listed programs with am_exec(argv, stdin, timeout_ms, &r),
     * then am_succeeded(...) or am_failed(...). */
    am_failed("no remediation: reboot the device in a maintenance window", NULL);
  }

  int allow = 0, pending = 0, rc;
  rc = am_param_bool("allow_pending", &allow);
  if (rc < 0 && rc != AM_ENOTFOUND) am_fatal("param allow_pending: %s", am_strerror(rc));

  char family[64];
  if ((rc = am_fact_string("os.family", family, sizeof family)) < 0)
    am_fatal("fact os.family: %s (%d)", am_strerror(rc), rc);
  if (strcmp(family, "linux") != 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "only for linux, this is %s", family);
    am_not_applicable(msg, NULL);
  }
  if ((rc = am_fact_bool("reboot_required", &pending)) < 0)
    am_fatal("fact reboot_required: %s (%d)", am_strerror(rc), rc);
  am_log(AM_DEBUG, "reboot_required=%d allow_pending=%d", pending, allow);

  const char *details = pending ? "{\"reboot_required\":true}" : "{\"reboot_required\":false}";
  if (!pending) am_compliant("no reboot pending", details);
  if (allow) am_compliant("reboot pending, allowed by allow_pending", details);
  am_non_compliant("reboot pending", details);
}
