/* hardening-group-owner: /etc/group (the group database) is owned by root. ComplianceAsCode: file_owner_etc_group. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chown", "0", "/etc/group", NULL};
  hd_file_rule("/etc/group", 0, -1, 00, fix);
}
