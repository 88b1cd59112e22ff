/* hardening-no-rsh-server: no rsh/rlogin server is installed (host-based trust, no encryption). ComplianceAsCode: package_rsh-server_removed. */
#include "hardening.h"

int main(void) {
  static const char *const names[] = {"rsh-server", "rsh-redone-server", NULL};
  hd_packages_absent(names);
}
