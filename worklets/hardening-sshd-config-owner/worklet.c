/* hardening-sshd-config-owner: sshd's configuration is owned by root. ComplianceAsCode: file_owner_sshd_config. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chown", "0", "/etc/ssh/sshd_config", NULL};
  hd_file_rule("/etc/ssh/sshd_config", 0, -1, 00, fix);
}
