/* hardening-sshd-user-environment: sshd ignores environment settings users put in ~/.ssh (PermitUserEnvironment no). ComplianceAsCode: sshd_do_not_permit_user_env. */
#include "hardening.h"

int main(void) { hd_sshd_rule("PermitUserEnvironment", "no", hd_sshd_is_no, NULL, 0, "no"); }
