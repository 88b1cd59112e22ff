/* hardening-passwd-mode: /etc/passwd (the user database) is mode 0644 or stricter. ComplianceAsCode: file_permissions_etc_passwd. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-wxs,o-wxt", "/etc/passwd", NULL};
  hd_file_rule("/etc/passwd", -1, -1, 07133, fix);
}
