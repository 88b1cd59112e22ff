/* hardening-unique-user-names: no user name is defined twice in /etc/passwd. ComplianceAsCode: account_unique_name. */
#include "hardening.h"

int main(void) { hd_account_rule(HD_UNIQUE_USER_NAMES); }
