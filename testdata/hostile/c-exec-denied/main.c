/* c-exec-denied: exec requests outside the allowlist. The manifest allows
 * the patterns ["sshd","-T"] and ["systemctl","status","{word}"] in evaluate. Every
 * request below must be denied (-2): other programs, a shell, a shorter
 * argv, a different case, a longer element, a path to another binary.
 * Two allowed, recorded requests must answer (>= 0). Prints
 * "denied N/M allowed K/L" plus each unexpected result, exits 0 when all
 * are as expected, 1 otherwise. */
#include <stdio.h>
#include <string.h>

#include "amagent.h"

static const char *denied[] = {
	"[\"rm\",\"-rf\",\"/\"]",
	"[\"/bin/sh\",\"-c\",\"id\"]",
	"[\"sh\",\"-c\",\"sshd -T\"]",
	"[\"bash\",\"-c\",\"sshd -T; id\"]",
	"[\"sshd\"]",
	"[\"sshd\",\"-t\"]",
	"[\"sshdx\",\"-T\"]",
	"[\"sshd\",\"-Tx\"]",
	"[\"sshd -T\"]",
	"[\"/tmp/sshd\",\"-T\"]",
	"[\"systemctl\"]",
	"[\"systemctl\",\"restart\",\"ssh\"]",
	"[\"env\",\"sshd\",\"-T\"]",
};
static const char *allowed[] = {
	"[\"sshd\",\"-T\"]",
	"[\"systemctl\",\"status\",\"ssh\"]",
};

static int run(const char *argv) {
	char req[256];
	int n = snprintf(req, sizeof req, "{\"argv\":%s,\"stdin\":\"\",\"timeout_ms\":1000}", argv);
	return amagent_exec(req, n);
}

int main(void) {
	int nd = sizeof denied / sizeof *denied, na = sizeof allowed / sizeof *allowed;
	int gd = 0, ga = 0;
	static char bad[4096];
	char *b = bad;
	for (int i = 0; i < nd; i++) {
		int rc = run(denied[i]);
		if (rc == -2)
			gd++;
		else
			b += sprintf(b, "; %s returned %d", denied[i], rc);
	}
	for (int i = 0; i < na; i++) {
		int rc = run(allowed[i]);
		if (rc >= 0)
			ga++;
		else
			b += sprintf(b, "; %s returned %d", allowed[i], rc);
	}
	printf("denied %d/%d allowed %d/%d%s", gd, nd, ga, na, bad);
	return gd == nd && ga == na ? 0 : 1;
}
