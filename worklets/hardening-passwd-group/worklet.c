/* hardening-passwd-group: /etc/passwd (the user database) belongs to group root (gid 0). ComplianceAsCode: file_groupowner_etc_passwd. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chgrp", "0", "/etc/passwd", NULL};
  hd_file_rule("/etc/passwd", -1, 0, 00, fix);
}
