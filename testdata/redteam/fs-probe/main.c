/* fs-probe: a red-team worklet that attacks the file grants. It reads its
 * orders from the params in the stdin document, with a crude extraction
 * (the tests write them): {"mode": "...", "path": "...", "n": N,
 * "marker": "..."}. Modes:
 *   read-loop  open, read and close path n times; counts the reads that
 *              returned marker (a leak) and the opens that failed
 *   write-loop open path for appending n times and write a line
 *   create     fopen(path, "w") once
 *   stat       stat and lstat path
 *   futimens   open path read-only and set its times by descriptor, then
 *              by path
 *   read       read path once
 *   fact       amagent fact(path), the path-metadata fact
 * Prints {"message": "...", "details": {...}} and exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "amagent.h"

static char in[1 << 16];
static char buf[1 << 16];

/* param copies the string value of "key" in the params into out. */
static int param(const char *key, char *out, size_t cap) {
	char pat[64];
	const char *params = strstr(in, "\"params\"");
	if (!params) return 0;
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = strstr(params, pat);
	if (!p) return 0;
	p = strchr(p + strlen(pat), ':');
	if (!p) return 0;
	p++;
	while (*p == ' ') p++;
	if (*p == '"') {
		p++;
		size_t n = 0;
		while (*p && *p != '"' && n + 1 < cap) out[n++] = *p++;
		out[n] = 0;
		return 1;
	}
	size_t n = 0;
	while (*p && *p != ',' && *p != '}' && n + 1 < cap) out[n++] = *p++;
	out[n] = 0;
	return 1;
}

int main(void) {
	size_t got = fread(in, 1, sizeof in - 1, stdin);
	in[got] = 0;
	char mode[32] = "", path[1024] = "", marker[128] = "", num[32] = "1";
	param("mode", mode, sizeof mode);
	param("path", path, sizeof path);
	param("marker", marker, sizeof marker);
	param("n", num, sizeof num);
	long n = atol(num);

	if (!strcmp(mode, "read-loop")) {
		long leaks = 0, refused = 0, ok = 0;
		for (long i = 0; i < n; i++) {
			int fd = open(path, O_RDONLY);
			if (fd < 0) { refused++; continue; }
			ssize_t r = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (r < 0) { refused++; continue; }
			buf[r] = 0;
			ok++;
			if (marker[0] && strstr(buf, marker)) leaks++;
		}
		printf("{\"message\": \"leaks %ld\", \"details\": {\"leaks\": %ld, \"ok\": %ld, \"refused\": %ld}}", leaks, leaks, ok, refused);
		return 0;
	}
	if (!strcmp(mode, "write-loop")) {
		long ok = 0, refused = 0;
		for (long i = 0; i < n; i++) {
			int fd = open(path, O_WRONLY | O_APPEND);
			if (fd < 0) { refused++; continue; }
			if (write(fd, "pwned\n", 6) == 6) ok++;
			close(fd);
		}
		printf("{\"message\": \"wrote %ld\", \"details\": {\"ok\": %ld, \"refused\": %ld}}", ok, ok, refused);
		return 0;
	}
	if (!strcmp(mode, "create") || !strcmp(mode, "read")) {
		FILE *f = fopen(path, mode[0] == 'c' ? "w" : "r");
		if (!f) {
			printf("{\"message\": \"%s: %s\", \"details\": {\"errno\": %d}}", mode, strerror(errno), errno);
			return 0;
		}
		size_t r = 0;
		if (mode[0] == 'c') fputs("created by fs-probe\n", f);
		else r = fread(buf, 1, 64, f);
		buf[r] = 0;
		for (size_t i = 0; i < r; i++) if (buf[i] == '"' || buf[i] == '\\' || buf[i] < ' ') buf[i] = '.';
		int e = fclose(f);
		printf("{\"message\": \"%s ok\", \"details\": {\"errno\": 0, \"close\": %d, \"content\": \"%s\"}}", mode, e, buf);
		return 0;
	}
	if (!strcmp(mode, "stat")) {
		struct stat st, lst;
		int s = stat(path, &st), se = s ? errno : 0;
		int l = lstat(path, &lst), le = l ? errno : 0;
		printf("{\"message\": \"stat %s, lstat %s\", \"details\": {\"stat_errno\": %d, \"lstat_errno\": %d, \"size\": %lld, \"ino\": %llu}}",
		       s ? strerror(se) : "ok", l ? strerror(le) : "ok", se, le,
		       s ? -1LL : (long long)st.st_size, s ? 0ULL : (unsigned long long)st.st_ino);
		return 0;
	}
	if (!strcmp(mode, "futimens")) {
		struct timespec ts[2] = {{.tv_sec = 86400}, {.tv_sec = 86400}};
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			printf("{\"message\": \"open: %s\", \"details\": {\"open_errno\": %d}}", strerror(errno), errno);
			return 0;
		}
		int r1 = futimens(fd, ts), e1 = r1 ? errno : 0;
		close(fd);
		int r2 = utimensat(AT_FDCWD, path, ts, 0), e2 = r2 ? errno : 0;
		printf("{\"message\": \"futimens %s, utimensat %s\", \"details\": {\"futimens_errno\": %d, \"utimensat_errno\": %d}}",
		       r1 ? strerror(e1) : "ok", r2 ? strerror(e2) : "ok", e1, e2);
		return 0;
	}
	if (!strcmp(mode, "fact")) {
		int r = amagent_fact(path, (int)strlen(path));
		if (r < 0) {
			printf("{\"message\": \"fact %d\", \"details\": %d}", r, r);
			return 0;
		}
		int c = amagent_response(buf, sizeof buf - 1);
		buf[c] = 0;
		printf("{\"message\": \"fact ok\", \"details\": %s}", buf);
		return 0;
	}
	printf("{\"message\": \"unknown mode %s\"}", mode);
	return 4;
}
