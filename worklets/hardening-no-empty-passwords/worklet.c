/* hardening-no-empty-passwords: no account in /etc/shadow has an empty password field (a login with no password). ComplianceAsCode: no_empty_passwords_etc_shadow. */
#include "hardening.h"

int main(void) { hd_account_rule(HD_EMPTY_PASSWORDS); }
