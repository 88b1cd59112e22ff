/* hardening-sysctl-protected-symlinks: symbolic links in sticky world-writable folders are followed only by their owner (fs.protected_symlinks = 1), now and at boot. ComplianceAsCode: sysctl_fs_protected_symlinks. */
#include "hardening.h"

int main(void) { hd_sysctl_rule("fs.protected_symlinks", "1", "zz-amagent-fs.protected_symlinks.conf"); }
