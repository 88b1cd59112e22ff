/* hardening-login-defs-umask: the UMASK in /etc/login.defs masks at least the bits of umask (default 027: new home directories and files are not readable by others). ComplianceAsCode: accounts_umask_etc_login_defs. */
#include "hardening.h"

int main(void) { hd_umask_rule("027"); }
