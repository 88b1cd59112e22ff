/* hardening-unique-group-names: no group name is defined twice in /etc/group. ComplianceAsCode: group_unique_name. */
#include "hardening.h"

int main(void) { hd_account_rule(HD_UNIQUE_GROUP_NAMES); }
