/* hardening-group-group: /etc/group (the group database) belongs to group root (gid 0). ComplianceAsCode: file_groupowner_etc_group. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chgrp", "0", "/etc/group", NULL};
  hd_file_rule("/etc/group", -1, 0, 00, fix);
}
