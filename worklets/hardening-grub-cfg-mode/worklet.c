/* hardening-grub-cfg-mode: the boot loader's generated configuration is readable by root only (0600). ComplianceAsCode: file_permissions_grub2_cfg. */
#include "hardening.h"

int main(void) {
  static const char *const fix[] = {"chmod", "u-xs,g-rwxs,o-rwxt", "/boot/grub/grub.cfg", NULL};
  hd_file_rule("/boot/grub/grub.cfg", -1, -1, 07177, fix);
}
