/* hardening-sshd-root-login: sshd refuses logins as root (PermitRootLogin no). ComplianceAsCode: sshd_disable_root_login. */
#include "hardening.h"

int main(void) { hd_sshd_rule("PermitRootLogin", "prohibit-password", hd_sshd_is_no, NULL, 0, "no"); }
