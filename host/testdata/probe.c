/* probe: a test worklet driven by the scan document. It reads the action
 * from the fact "probe.action" and its argument from "probe.arg", then does
 * one thing so that the host's tests can observe it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "amagent.h"

static char buf[1 << 16];

/* fact_str looks up key and returns its JSON value (NUL-terminated) or NULL. */
static char *fact_str(const char *key) {
	int n = amagent_fact(key, (int)strlen(key));
	if (n < 0 || n >= (int)sizeof(buf)) return NULL;
	amagent_response(buf, n);
	buf[n] = 0;
	return buf;
}

/* unquote turns a JSON string into its text, in place (\" and \\ only). */
static char *unquote(char *s) {
	size_t n = strlen(s);
	if (n < 2 || s[0] != '"') return s;
	s[n - 1] = 0;
	char *r = s + 1, *w = s + 1;
	while (*r) {
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\')) r++;
		*w++ = *r++;
	}
	*w = 0;
	return s + 1;
}

static int recurse(int n) {
	volatile char pad[64];
	pad[0] = (char)n;
	return n <= 0 ? pad[0] : recurse(n - 1) + pad[0];
}

int main(void) {
	char *a = fact_str("probe.action");
	if (!a) { puts("no probe.action"); return 4; }
	char action[64];
	snprintf(action, sizeof action, "%s", unquote(a));
	char *argp = fact_str("probe.arg");
	char arg[4096] = "";
	if (argp) snprintf(arg, sizeof arg, "%s", unquote(argp));

	if (!strcmp(action, "exit")) {
		printf("{\"message\": \"exit %s\", \"details\": {\"code\": %s}}", arg, arg);
		return atoi(arg);
	}
	if (!strcmp(action, "plain")) { printf("plain text %s\n", arg); return 0; }
	if (!strcmp(action, "stdin")) {
		size_t n = fread(buf, 1, sizeof buf - 1, stdin);
		buf[n] = 0;
		fwrite(buf, 1, n, stdout);
		return 0;
	}
	if (!strcmp(action, "loop")) { volatile unsigned i = 0; for (;;) i++; }
	if (!strcmp(action, "oom")) {
		static char *volatile keep;
		(void)keep;
		for (;;) {
			char *p = malloc(1 << 20);
			if (!p) { fputs("malloc failed\n", stderr); return 3; }
			memset(p, 1, 1 << 20);
			keep = p;
		}
	}
	if (!strcmp(action, "trap")) __builtin_trap();
	if (!strcmp(action, "recurse")) return recurse(1 << 30);
	if (!strcmp(action, "flood")) { for (;;) fputs("flood flood flood flood flood flood flood\n", stdout); }
	if (!strcmp(action, "stderr")) { fprintf(stderr, "to stderr: %s\n", arg); return 0; }
	if (!strcmp(action, "read")) {
		FILE *f = fopen(arg, "r");
		if (!f) { printf("{\"message\": \"open %s: %s\"}", arg, strerror(errno)); return 1; }
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = 0;
		fclose(f);
		printf("%s", buf);
		return 0;
	}
	if (!strcmp(action, "write")) {
		FILE *f = fopen(arg, "w");
		if (!f) { printf("{\"message\": \"open %s: %s\"}", arg, strerror(errno)); return 1; }
		fputs("written by probe\n", f);
		if (fclose(f) != 0) { printf("close: %s", strerror(errno)); return 1; }
		puts("written");
		return 0;
	}
	if (!strcmp(action, "ls")) {
		/* lists a directory through wasi-libc's opendir */
		extern int probe_ls(const char *);
		return probe_ls(arg);
	}
	if (!strcmp(action, "exec")) {
		int n = amagent_exec(arg, (int)strlen(arg));
		if (n < 0) { printf("{\"message\": \"exec %d\", \"details\": %d}", n, n); return 1; }
		amagent_response(buf, sizeof buf - 1);
		buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = 0;
		printf("{\"message\": \"exec ok\", \"details\": %s}", buf);
		return 0;
	}
	if (!strcmp(action, "fact")) {
		int n = amagent_fact(arg, (int)strlen(arg));
		if (n < 0) { printf("{\"message\": \"fact %d\", \"details\": %d}", n, n); return 1; }
		int got = amagent_response(buf, sizeof buf - 1);
		buf[got] = 0;
		printf("{\"message\": \"fact ok\", \"details\": %s}", buf);
		return 0;
	}
	if (!strcmp(action, "log")) {
		for (int lvl = 0; lvl < 4; lvl++) amagent_log(lvl, arg, (int)strlen(arg));
		return 0;
	}
	if (!strcmp(action, "oob")) {
		/* every host function with out-of-bounds pointers and lengths */
		char *end = (char *)0xfffffff0;
		int r[6];
		r[0] = amagent_fact(end, 100);
		r[1] = amagent_exec(end, 100);
		amagent_fact("probe", 5);
		r[2] = amagent_response(end, 100);
		r[3] = amagent_fact("probe", -1);
		r[4] = amagent_exec("{not json", 9);
		r[5] = amagent_response(buf, -5);
		amagent_log(1, end, 100);
		printf("{\"message\": \"oob\", \"details\": [%d,%d,%d,%d,%d,%d]}", r[0], r[1], r[2], r[3], r[4], r[5]);
		return 0;
	}
	if (!strcmp(action, "slot")) {
		/* the response slot holds the last answer; a short buffer gets a prefix */
		char small[4] = {0};
		int n1 = amagent_fact("probe.arg", 9);
		int c1 = amagent_response(small, 3);
		int n2 = amagent_fact("missing.key", 11);
		int c2 = amagent_response(buf, sizeof buf);
		buf[c2] = 0;
		for (int i = 0; i < 3; i++) if (small[i] == '"') small[i] = '\'';
		printf("{\"message\": \"%.3s\", \"details\": [%d,%d,%d,%d]}", small, n1, c1, n2, c2);
		return 0;
	}
	printf("unknown action %s\n", action);
	return 4;
}
