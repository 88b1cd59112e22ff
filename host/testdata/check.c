/* check: the benchmark worklet. Compliant when the file named by the fact
 * "check.file" has a line "PermitRootLogin no". */
#include <stdio.h>
#include <string.h>
#include "amagent.h"

int main(void) {
	static char path[256], line[1024];
	int n = amagent_fact("check.file", 10);
	if (n < 2 || n >= (int)sizeof path) return 2;
	amagent_response(path, n);
	path[n - 1] = 0; /* drop the closing quote */
	FILE *f = fopen(path + 1, "r");
	if (!f) { puts("cannot open the file"); return 2; }
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "PermitRootLogin no", 18)) { fclose(f); puts("root login refused"); return 0; }
	}
	fclose(f);
	puts("root login allowed");
	return 1;
}
