/* hardening-gshadow-group: /etc/gshadow (the group password hashes) belongs to group shadow (gid 42). ComplianceAsCode: file_groupowner_etc_gshadow. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chgrp", "42", "/etc/gshadow", NULL};
  hd_file_rule("/etc/gshadow", -1, 42, 00, fix);
}
