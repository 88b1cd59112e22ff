/* hardening-unique-uids: no two accounts share a uid in /etc/passwd. ComplianceAsCode: account_unique_id. */
#include "hardening.h"

int main(void) { hd_account_rule(HD_UNIQUE_UIDS); }
