/* hardening-root-gid: root's primary group is gid 0. ComplianceAsCode: accounts_root_gid_zero. */
#include "hardening.h"

int main(void) { hd_account_rule(HD_ROOT_GID); }
