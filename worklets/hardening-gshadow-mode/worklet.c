/* hardening-gshadow-mode: /etc/gshadow (the group password hashes) is mode 0640 or stricter. ComplianceAsCode: file_permissions_etc_gshadow. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-wxs,o-rwxt", "/etc/gshadow", NULL};
  hd_file_rule("/etc/gshadow", -1, -1, 07137, fix);
}
