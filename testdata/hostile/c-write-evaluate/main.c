/* c-write-evaluate: in the evaluate phase nothing is writable, not even
 * the paths that the manifest declares writable for remediate. It tries
 * to create, truncate, append to, rename, remove and make directories
 * under the declared paths and elsewhere, with libc and with the raw WASI
 * path_open on every preopen; a write counts when it wrote bytes. Then
 * it checks that the declared files still have their recorded content and
 * that no new file appeared ("intact"). Prints "refused N/M intact" plus each write
 * that went through, exits 0 when all were refused, 1 otherwise. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static char done[8192];
static char *dp = done;
static int tried, refused;

static void check(int ok, const char *what, const char *path) {
	tried++;
	if (!ok) {
		refused++;
		return;
	}
	if (dp - done < (long)sizeof done - 256)
		dp += sprintf(dp, "; %s %s", what, path);
}

static void try_open(const char *path, int flags) {
	int fd = open(path, flags, 0644);
	if (fd >= 0) {
		ssize_t n = write(fd, "PermitRootLogin yes\n", 20);
		close(fd);
		check(n > 0, "write", path);
	} else {
		check(0, "", path);
	}
}

static int same(const char *path, const char *want) {
	char buf[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return !strcmp(buf, want);
}

int main(void) {
	static const char *paths[] = {
		"/etc/ssh/sshd_config.d/50-evil.conf",
		"/etc/ssh/sshd_config.d/10-hardening.conf",
		"/etc/ssh/sshd_config",
		"/etc/ssh/sshd_config.d/../sshd_config",
		"/etc/ssh/sshd_config.d/../../passwd",
		"/tmp/amagent-hostile",
		"/etc/cron.d/evil",
		"evil",
	};
	static const int flags[] = {O_WRONLY | O_CREAT, O_WRONLY | O_TRUNC, O_RDWR, O_WRONLY | O_APPEND};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		for (size_t f = 0; f < sizeof flags / sizeof *flags; f++)
			try_open(paths[i], flags[f]);

	check(mkdir("/etc/ssh/sshd_config.d/new", 0755) == 0, "mkdir", "/etc/ssh/sshd_config.d/new");
	check(unlink("/etc/ssh/sshd_config") == 0, "unlink", "/etc/ssh/sshd_config");
	check(unlink("/etc/ssh/sshd_config.d/10-hardening.conf") == 0, "unlink",
	      "/etc/ssh/sshd_config.d/10-hardening.conf");
	check(rename("/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/moved") == 0, "rename",
	      "/etc/ssh/sshd_config");

	static const char *rel[] = {"50-evil.conf", "etc/ssh/sshd_config.d/50-evil.conf", "sshd_config",
	                            "etc/ssh/sshd_config", "../evil"};
	for (__wasi_fd_t pre = 3; pre < 64; pre++) {
		__wasi_prestat_t ps;
		if (__wasi_fd_prestat_get(pre, &ps) != 0)
			continue;
		for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
			__wasi_fd_t out;
			__wasi_errno_t e = __wasi_path_open(pre, 0, rel[i], __WASI_OFLAGS_CREAT,
			                                    __WASI_RIGHTS_FD_WRITE, 0, 0, &out);
			if (e == 0) {
				__wasi_size_t n = 0;
				__wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
				__wasi_errno_t we = __wasi_fd_write(out, &iov, 1, &n);
				(void)__wasi_fd_close(out);
				check(we == 0 && n == 1, "fd_write", rel[i]);
			} else {
				check(0, "", rel[i]);
			}
		}
	}

	/* Whatever the calls above returned, nothing may have changed: the
	 * declared files keep their recorded content, and no new file exists. */
	int intact = same("/etc/ssh/sshd_config", "PermitRootLogin no\nPort 22\n") &&
	             same("/etc/ssh/sshd_config.d/10-hardening.conf", "PasswordAuthentication no\n") &&
	             access("/etc/ssh/sshd_config.d/50-evil.conf", F_OK) != 0 &&
	             access("/etc/ssh/sshd_config.d/moved", F_OK) != 0;
	printf("refused %d/%d %s%s", refused, tried, intact ? "intact" : "changed", done);
	return refused == tried && intact ? 0 : 1;
}
