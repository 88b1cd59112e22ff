/* hardening-crontab-mode: the system crontab is readable and writable by root only (0600). ComplianceAsCode: file_permissions_crontab. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-rwxs,o-rwxt", "/etc/crontab", NULL};
  hd_file_rule("/etc/crontab", -1, -1, 07177, fix);
}
