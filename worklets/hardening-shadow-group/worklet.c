/* hardening-shadow-group: /etc/shadow (the password hashes) belongs to group shadow (gid 42). ComplianceAsCode: file_groupowner_etc_shadow. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chgrp", "42", "/etc/shadow", NULL};
  hd_file_rule("/etc/shadow", -1, 42, 00, fix);
}
