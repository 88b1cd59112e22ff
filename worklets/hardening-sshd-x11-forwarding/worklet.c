/* hardening-sshd-x11-forwarding: sshd does not forward X11 sessions (X11Forwarding no). ComplianceAsCode: sshd_disable_x11_forwarding. */
#include "hardening.h"

int main(void) { hd_sshd_rule("X11Forwarding", "no", hd_sshd_is_no, NULL, 0, "no"); }
