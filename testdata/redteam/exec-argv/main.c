/* exec-argv: a red-team module that asks the host to run the argv given
 * in the parameter "argv" (a list of strings) and reports what the exec
 * call returned: message "rc=N" (N is the exec return code, -2 when
 * denied); when N >= 0 the details are the exec response
 * {"exit_code", "stdout", "stderr"}. Exit 0 when the call ran, 1 when it
 * did not. Used by host/redteam/exec_test.go and procs_test.go. */
#include "amagent.h"

int main(void) {
  if (!am_input(NULL)) am_fatal("cannot read the input document");
  const char *v;
  size_t vl;
  int rc = am_param("argv", &v, &vl);
  if (rc < 0) am_fatal("param argv: %s", am_strerror(rc));
  am_buf req = {0};
  am_buf_puts(&req, "{\"argv\":");
  am_buf_put(&req, v, vl);
  am_buf_puts(&req, ",\"stdin\":\"\",\"timeout_ms\":10000}");
  if (req.oom) am_fatal("out of memory");
  int32_t n = am__host_exec(req.p, (int32_t)req.len);
  am_buf m = {0};
  am_buf_printf(&m, "rc=%d", (int)n);
  if (n < 0) am_non_compliant(m.p, NULL);
  char *resp = malloc((size_t)n + 1);
  if (!resp) am_fatal("out of memory");
  int32_t got = am__host_response(resp, n);
  resp[got < 0 ? 0 : got] = 0;
  am_compliant(m.p, resp);
}
