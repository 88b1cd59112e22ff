/* hardening-sysctl-suid-dumpable: setuid programs never leave core dumps (fs.suid_dumpable = 0), now and at boot. ComplianceAsCode: sysctl_fs_suid_dumpable. */
#include "hardening.h"

int main(void) { hd_sysctl_rule("fs.suid_dumpable", "0", "zz-amagent-fs.suid_dumpable.conf"); }
