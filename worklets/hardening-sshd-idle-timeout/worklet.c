/* hardening-sshd-idle-timeout: sshd checks idle sessions every idle_timeout seconds at most (ClientAliveInterval between 1 and 300 by default). ComplianceAsCode: sshd_set_idle_timeout. */
#include "hardening.h"

int main(void) { hd_sshd_rule("ClientAliveInterval", "0", hd_sshd_in_range, "idle_timeout", 300, "between 1 and"); }
