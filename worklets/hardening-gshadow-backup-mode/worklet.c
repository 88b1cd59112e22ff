/* hardening-gshadow-backup-mode: the backup copy /etc/gshadow- is mode 0640 or stricter, like the file it copies. ComplianceAsCode: file_permissions_backup_etc_gshadow. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-wxs,o-rwxt", "/etc/gshadow-", NULL};
  hd_file_rule("/etc/gshadow-", -1, -1, 07137, fix);
}
