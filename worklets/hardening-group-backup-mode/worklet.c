/* hardening-group-backup-mode: the backup copy /etc/group- is mode 0644 or stricter, like the file it copies. ComplianceAsCode: file_permissions_backup_etc_group. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-wxs,o-wxt", "/etc/group-", NULL};
  hd_file_rule("/etc/group-", -1, -1, 07133, fix);
}
