/* hardening-shadow-backup-mode: the backup copy /etc/shadow- is mode 0640 or stricter, like the file it copies. ComplianceAsCode: file_permissions_backup_etc_shadow. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-wxs,o-rwxt", "/etc/shadow-", NULL};
  hd_file_rule("/etc/shadow-", -1, -1, 07137, fix);
}
