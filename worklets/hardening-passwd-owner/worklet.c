/* hardening-passwd-owner: /etc/passwd (the user database) is owned by root. ComplianceAsCode: file_owner_etc_passwd. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chown", "0", "/etc/passwd", NULL};
  hd_file_rule("/etc/passwd", 0, -1, 00, fix);
}
