/* hardening-shadow-owner: /etc/shadow (the password hashes) is owned by root. ComplianceAsCode: file_owner_etc_shadow. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chown", "0", "/etc/shadow", NULL};
  hd_file_rule("/etc/shadow", 0, -1, 00, fix);
}
