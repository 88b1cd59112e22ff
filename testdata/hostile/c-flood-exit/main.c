/* c-flood-exit: writes 1 MiB to stdout, then exits 0. The manifest's
 * output limit is 4 KiB: the run is compliant, and its message is the
 * first 4 KiB at most (truncated, flagged), never the whole 1 MiB. */
#include <stdio.h>
#include <string.h>

int main(void) {
	static char line[1024];
	memset(line, 'B', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	for (int i = 0; i < 1024; i++)
		fwrite(line, 1, sizeof line, stdout);
	return 0;
}
