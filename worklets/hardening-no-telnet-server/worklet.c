/* hardening-no-telnet-server: no telnet server is installed (telnet sends passwords in clear). ComplianceAsCode: package_telnetd_removed. */
#include "hardening.h"

int main(void) {
  static const char *const names[] = {"telnetd", "inetutils-telnetd", "telnetd-ssl", NULL};
  hd_packages_absent(names);
}
