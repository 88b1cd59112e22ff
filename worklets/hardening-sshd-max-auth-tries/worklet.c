/* hardening-sshd-max-auth-tries: sshd allows at most max_auth_tries (default 4) authentication attempts per connection. ComplianceAsCode: sshd_set_max_auth_tries. */
#include "hardening.h"

int main(void) { hd_sshd_rule("MaxAuthTries", "6", hd_sshd_in_range, "max_auth_tries", 4, "at most"); }
