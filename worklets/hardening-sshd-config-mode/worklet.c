/* hardening-sshd-config-mode: sshd's configuration is readable and writable by root only (0600). ComplianceAsCode: file_permissions_sshd_config. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-rwxs,o-rwxt", "/etc/ssh/sshd_config", NULL};
  hd_file_rule("/etc/ssh/sshd_config", -1, -1, 07177, fix);
}
