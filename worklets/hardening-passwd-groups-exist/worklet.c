/* hardening-passwd-groups-exist: every account's primary group (passwd's gid) is defined in /etc/group. ComplianceAsCode: gid_passwd_group_same. */
#include "hardening.h"

int main(void) { hd_account_rule(HD_PASSWD_GROUPS); }
