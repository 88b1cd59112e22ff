/* hardening-auditd-enabled: the audit daemon is installed and enabled at boot. ComplianceAsCode: service_auditd_enabled. */
#include "hardening.h"

int main(void) { hd_service_enabled("auditd", "auditd.service"); }
