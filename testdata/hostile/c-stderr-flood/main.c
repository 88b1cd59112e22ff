/* c-stderr-flood: writes 1 MiB to stderr (which goes to the agent log,
 * capped like stdout), then prints "stderr flooded" and exits 0:
 * compliant, and the host keeps at most its output limit of stderr. */
#include <stdio.h>
#include <string.h>

int main(void) {
	static char line[1024];
	memset(line, 'E', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	for (int i = 0; i < 1024; i++)
		fwrite(line, 1, sizeof line, stderr);
	fputs("stderr flooded", stdout);
	return 0;
}
