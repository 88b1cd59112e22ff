/* SDK conformance worklet in C. Every SDK in wasm-modules/ has the same
 * worklet, and all of them pass the same cases in tests/: evaluate compares
 * param want_version with fact os.version (fact os.family other than
 * "linux": not applicable) and puts the output of `uname -r` in the
 * details; remediate runs `true`. */
#include "amagent.h"

static void evaluate(void) {
  char want[256], have[256], family[64];
  int rc = am_param_string("want_version", want, sizeof want);
  if (rc == AM_ENOTFOUND || (rc >= 0 && want[0] == 0)) am_fatal("param want_version missing");
  if (rc < 0) am_fatal("param want_version: %s", am_strerror(rc));
  if ((rc = am_fact_string("os.family", family, sizeof family)) < 0)
    am_fatal("fact os.family: %s (%d)", am_strerror(rc), rc);
  if (strcmp(family, "linux") != 0) {
    am_buf d = {0}, m = {0};
    am_buf_puts(&d, "{\"os_family\":");
    am_buf_json_string(&d, family);
    am_buf_puts(&d, "}");
    am_buf_printf(&m, "os.family is %s, not linux", family);
    am_not_applicable(m.p, d.p);
  }
  if ((rc = am_fact_string("os.version", have, sizeof have)) < 0)
    am_fatal("fact os.version: %s (%d)", am_strerror(rc), rc);

  const char *argv[] = {"uname", "-r", NULL};
  am_exec_result r;
  if ((rc = am_exec(argv, NULL, 5000, &r)) < 0)
    am_fatal("exec uname -r: %s (%d)", am_strerror(rc), rc);

  am_buf d = {0}, m = {0};
  am_buf_puts(&d, "{\"want_version\":");
  am_buf_json_string(&d, want);
  am_buf_puts(&d, ",\"os_version\":");
  am_buf_json_string(&d, have);
  am_buf_puts(&d, ",\"uname_r\":");
  am_buf_json_string(&d, r.out);
  am_buf_puts(&d, "}");
  if (strcmp(have, want) == 0) {
    am_buf_printf(&m, "os.version %s matches want_version", have);
    am_compliant(m.p, d.p);
  }
  am_buf_printf(&m, "os.version %s differs from want_version %s", have, want);
  am_non_compliant(m.p, d.p);
}

static void remediate(void) {
  const char *argv[] = {"true", NULL};
  am_exec_result r;
  int rc = am_exec(argv, NULL, 5000, &r);
  if (rc < 0) am_fatal("exec true: %s (%d)", am_strerror(rc), rc);
  char msg[64], details[64];
  snprintf(details, sizeof details, "{\"exit_code\":%d}", r.exit_code);
  if (r.exit_code != 0) {
    snprintf(msg, sizeof msg, "true exited %d", r.exit_code);
    am_failed(msg, details);
  }
  snprintf(msg, sizeof msg, "remediated: true exited %d", r.exit_code);
  am_succeeded(msg, details);
}

int main(void) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  am_log(AM_INFO, "conformance: %s", am_phase());
  if (strcmp(am_phase(), "remediate") == 0) remediate();
  evaluate();
  return 0;
}
