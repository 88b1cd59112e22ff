/* hardening-gshadow-owner: /etc/gshadow (the group password hashes) is owned by root. ComplianceAsCode: file_owner_etc_gshadow. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chown", "0", "/etc/gshadow", NULL};
  hd_file_rule("/etc/gshadow", 0, -1, 00, fix);
}
