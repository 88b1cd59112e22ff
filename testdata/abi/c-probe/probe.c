/* c-probe: an ABI v1 conformance worklet in C, written from shared/ABI.md
 * only. Its behaviour is chosen by the "mode" parameter of the input
 * document; see ../README.md for the modes and what each one checks.
 * The same modes are implemented by ../go-probe, so that the same cases
 * run against both. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amagent.h"

extern char **environ;

/* ---- a small JSON reader over the raw input text ---- */

static const char *ws(const char *p) {
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* skip returns the first byte after the JSON value at p, or NULL. */
static const char *skip(const char *p) {
	p = ws(p);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p == '"' ? p + 1 : NULL;
	}
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = skip(p); /* key */
				if (!p)
					return NULL;
				p = ws(p);
				if (*p != ':')
					return NULL;
				p++;
			}
			p = skip(p);
			if (!p)
				return NULL;
			p = ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	if (!*p)
		return NULL;
	while (*p && !strchr(",}] \t\r\n", *p))
		p++;
	return p;
}

/* get finds key in the object at obj; it returns the value's start and sets
 * *end to the byte after it, or returns NULL. Keys are compared raw. */
static const char *get(const char *obj, const char *key, const char **end) {
	const char *p = ws(obj);
	size_t kl = strlen(key);
	if (!p || *p != '{')
		return NULL;
	p = ws(p + 1);
	while (*p == '"') {
		const char *k = p + 1, *ke = skip(p);
		if (!ke)
			return NULL;
		p = ws(ke);
		if (*p != ':')
			return NULL;
		const char *v = ws(p + 1), *ve = skip(v);
		if (!ve)
			return NULL;
		if ((size_t)(ke - 1 - k) == kl && memcmp(k, key, kl) == 0) {
			*end = ve;
			return v;
		}
		p = ws(ve);
		if (*p != ',')
			return NULL;
		p = ws(p + 1);
	}
	return NULL;
}

/* str decodes the JSON string at v (simple escapes only) into a new buffer. */
static char *str(const char *v) {
	if (!v || *v != '"')
		return NULL;
	const char *e = skip(v);
	char *out = malloc(e - v), *o = out;
	for (const char *p = v + 1; p < e - 1; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'u': *o++ = (char)strtol((char[]){p[1], p[2], p[3], p[4], 0}, NULL, 16); p += 4; break;
		default: *o++ = *p;
		}
	}
	*o = 0;
	return out;
}

/* path looks up a dotted path from the top-level object. */
static const char *path(const char *doc, const char *dotted, const char **end) {
	char buf[256];
	const char *cur = doc, *e = NULL;
	snprintf(buf, sizeof buf, "%s", dotted);
	for (char *part = strtok(buf, "."); part; part = strtok(NULL, ".")) {
		cur = get(cur, part, &e);
		if (!cur)
			return NULL;
	}
	*end = e;
	return cur;
}

static char *pstr(const char *doc, const char *dotted) {
	const char *e;
	return str(path(doc, dotted, &e));
}

/* ---- output ---- */

static void put_json_string(const char *s, size_t n) {
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* result prints {"message": msg, "details": details} and exits with code. */
static void result(int code, const char *msg, const char *details) {
	fputs("{\"message\":", stdout);
	put_json_string(msg, strlen(msg));
	printf(",\"details\":%s}\n", details ? details : "null");
	exit(code);
}

static char *slurp_stdin(void) {
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	for (;;) {
		ssize_t r = read(0, b + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (cap - n < 2)
			b = realloc(b, cap *= 2);
	}
	b[n] = 0;
	return b;
}

/* take copies the response slot (of length n) into a new buffer. */
static char *take(int32_t n) {
	char *b = malloc((size_t)n + 1);
	int32_t got = amagent_response(b, n);
	b[got < 0 ? 0 : got] = 0;
	return b;
}

static char msg[1024];
static char det[65536];

int main(int argc, char **argv) {
	char *in = slurp_stdin();
	char *mode = pstr(in, "params.mode");
	const char *phase = argc > 1 ? argv[1] : "";
	if (!mode)
		result(1, "no params.mode in the input document", NULL);

	if (!strcmp(mode, "exit")) {
		const char *e, *v = path(in, "params.code", &e);
		int code = v ? atoi(v) : 0;
		snprintf(msg, sizeof msg, "exit %d in %s", code, phase);
		snprintf(det, sizeof det, "{\"code\":%d,\"phase\":\"%s\"}", code, phase);
		result(code, msg, det);
	}

	if (!strcmp(mode, "plain")) {
		char *t = pstr(in, "params.text");
		fputs(t ? t : "", stdout);
		return 0;
	}

	if (!strcmp(mode, "stderr")) {
		char *t = pstr(in, "params.text");
		fputs(t ? t : "", stderr);
		result(0, "wrote stderr", NULL);
	}

	if (!strcmp(mode, "env")) {
		/* argv must be [name, phase]; env exactly AMAGENT_ABI=1 and
		 * AMAGENT_PHASE=<phase>, in any order. */
		char *name = pstr(in, "worklet.name");
		char *inphase = pstr(in, "phase");
		char want[64];
		int n = 0, abi = 0, ph = 0, other = 0;
		char *d = det;
		d += sprintf(d, "{\"argv\":[");
		for (int i = 0; i < argc; i++) {
			if (i)
				*d++ = ',';
			d += sprintf(d, "\"%s\"", argv[i]);
		}
		d += sprintf(d, "],\"env\":[");
		snprintf(want, sizeof want, "AMAGENT_PHASE=%s", phase);
		for (char **e = environ; e && *e; e++, n++) {
			if (n)
				*d++ = ',';
			d += sprintf(d, "\"%s\"", *e);
			if (!strcmp(*e, "AMAGENT_ABI=1"))
				abi++;
			else if (!strcmp(*e, want))
				ph++;
			else
				other++;
		}
		sprintf(d, "]}");
		if (argc != 2)
			result(1, "argv does not have 2 elements", det);
		if (!name || strcmp(argv[0], name))
			result(1, "argv[0] is not worklet.name", det);
		if (strcmp(phase, "evaluate") && strcmp(phase, "remediate"))
			result(1, "argv[1] is not a phase", det);
		if (!inphase || strcmp(inphase, phase))
			result(1, "argv[1] differs from the input document's phase", det);
		if (abi != 1 || ph != 1 || other)
			result(1, "environment is not exactly AMAGENT_ABI and AMAGENT_PHASE", det);
		result(0, "env ok", det);
	}

	if (!strcmp(mode, "stdin")) {
		/* Echo parts of the input document back as details. */
		const char *e1, *e2, *e3, *e4, *e5;
		const char *abi = path(in, "abi", &e1), *w = path(in, "worklet", &e2);
		const char *p = path(in, "params", &e3), *h = path(in, "scan.hostname", &e4);
		const char *s = path(in, "scan", &e5);
		if (!abi || !w || !p || !h || !s)
			result(1, "input document lacks abi, worklet, params or scan.hostname", NULL);
		snprintf(det, sizeof det, "{\"abi\":%.*s,\"worklet\":%.*s,\"params\":%.*s,\"hostname\":%.*s}",
		         (int)(e1 - abi), abi, (int)(e2 - w), w, (int)(e3 - p), p, (int)(e4 - h), h);
		char *host = str(h);
		snprintf(msg, sizeof msg, "hostname %s", host ? host : "?");
		result(strncmp(abi, "1", 1) ? 1 : 0, msg, det);
	}

	if (!strcmp(mode, "fact")) {
		char *key = pstr(in, "params.key");
		int32_t n = amagent_fact(key, (int32_t)strlen(key));
		snprintf(msg, sizeof msg, "fact %s %d", key, n);
		if (n < 0)
			result(1, msg, NULL);
		result(0, msg, take(n));
	}

	if (!strcmp(mode, "slot")) {
		/* fact, then response with a small buffer, then the full one, then a
		 * second fact that replaces the slot, then a missing key. */
		char small[3], full[256], again[256];
		int32_t l1 = amagent_fact("os.version", 10);
		int32_t s = amagent_response(small, sizeof small);
		int32_t f = amagent_response(full, sizeof full);
		int32_t l2 = amagent_fact("reboot_required", 15);
		int32_t r = amagent_response(again, sizeof again);
		int32_t miss = amagent_fact("no.such.key", 11);
		int ok = l1 > 0 && s == (l1 < 3 ? l1 : 3) && f == l1 && memcmp(small, full, (size_t)s) == 0 &&
		         r == l2 && l2 > 0 && miss == -1;
		snprintf(det, sizeof det,
		         "{\"len\":%d,\"short\":%d,\"full\":%d,\"replaced\":%d,\"copied\":%d,\"missing\":%d,"
		         "\"value\":%.*s,\"replaced_value\":%.*s}",
		         l1, s, f, l2, r, miss, f > 0 ? f : 4, f > 0 ? full : "null", r > 0 ? r : 4,
		         r > 0 ? again : "null");
		result(ok ? 0 : 1, ok ? "slot ok" : "slot rule violated", det);
	}

	if (!strcmp(mode, "exec")) {
		const char *e, *av = path(in, "params.argv", &e);
		if (!av)
			result(1, "no params.argv", NULL);
		char *req = malloc((size_t)(e - av) + 64);
		int rl = sprintf(req, "{\"argv\":%.*s,\"stdin\":\"\",\"timeout_ms\":5000}", (int)(e - av), av);
		int32_t n = amagent_exec(req, rl);
		snprintf(msg, sizeof msg, "exec %d", n);
		if (n < 0)
			result(1, msg, NULL);
		result(0, msg, take(n));
	}

	if (!strcmp(mode, "read")) {
		char *p = pstr(in, "params.path");
		FILE *f = fopen(p, "r");
		if (!f) {
			snprintf(msg, sizeof msg, "read %s failed: %s", p, strerror(errno));
			result(1, msg, NULL);
		}
		static char buf[32768];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		snprintf(msg, sizeof msg, "read %s %zu bytes", p, n);
		fputs("{\"message\":", stdout);
		put_json_string(msg, strlen(msg));
		fputs(",\"details\":", stdout);
		put_json_string(buf, n);
		fputs("}\n", stdout);
		return 0;
	}

	if (!strcmp(mode, "write")) {
		char *p = pstr(in, "params.path"), *t = pstr(in, "params.text");
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			snprintf(msg, sizeof msg, "write %s failed: %s", p, strerror(errno));
			result(1, msg, NULL);
		}
		ssize_t n = write(fd, t, strlen(t));
		close(fd);
		snprintf(msg, sizeof msg, "write %s %zd bytes", p, n);
		result(n == (ssize_t)strlen(t) ? 0 : 1, msg, NULL);
	}

	if (!strcmp(mode, "log")) {
		static const char *m[] = {"probe debug", "probe info", "probe warn", "probe error"};
		for (int l = 0; l < 4; l++)
			amagent_log(l, m[l], (int32_t)strlen(m[l]));
		result(0, "logged 4 lines", NULL);
	}

	if (!strcmp(mode, "time")) {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(msg, sizeof msg, "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(det, sizeof det, "{\"unix\":%lld}", (long long)now);
		result(0, msg, det);
	}

	snprintf(msg, sizeof msg, "unknown mode %s", mode);
	result(1, msg, NULL);
}
