/* hardening-chrony-installed: chrony keeps the clock synchronised (installed). ComplianceAsCode: package_chrony_installed. */
#include "hardening.h"

int main(void) { hd_package_present("chrony"); }
