/* hardening-sysctl-protected-hardlinks: users cannot hard-link files they do not own (fs.protected_hardlinks = 1), now and at boot. ComplianceAsCode: sysctl_fs_protected_hardlinks. */
#include "hardening.h"

int main(void) { hd_sysctl_rule("fs.protected_hardlinks", "1", "zz-amagent-fs.protected_hardlinks.conf"); }
