/* hardening-sysctl-aslr: address space layout randomisation is fully on (kernel.randomize_va_space = 2), now and at boot. ComplianceAsCode: sysctl_kernel_randomize_va_space. */
#include "hardening.h"

int main(void) { hd_sysctl_rule("kernel.randomize_va_space", "2", "zz-amagent-kernel.randomize_va_space.conf"); }
