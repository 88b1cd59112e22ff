/* c-read-escape: tries to read what the manifest does not declare. The
 * manifest declares /etc/ssh/sshd_config and the tree
 * /etc/ssh/sshd_config.d/; the recording also holds /etc/passwd,
 * /etc/shadow and /etc/ssh/ssh_host_ed25519_key, which must stay
 * invisible. It tries:
 *   - libc open() of undeclared absolute paths, of paths escaping a
 *     declared one with "..", and of relative paths climbing with "..";
 *   - the raw WASI path_open on every preopened directory with relative
 *     paths that climb out of it;
 *   - listing /, /etc and /etc/ssh, where nothing undeclared may appear.
 * The two declared files must be readable. Prints "blocked N/M readable
 * K/2" plus each leak, exits 0 when nothing leaked, 1 otherwise. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static const char *undeclared[] = {
	"/etc/passwd",
	"/etc/shadow",
	"/etc/ssh/ssh_host_ed25519_key",
	"/etc/ssh/../passwd",
	"/etc/ssh/sshd_config.d/../../passwd",
	"/etc/ssh/sshd_config.d/../ssh_host_ed25519_key",
	"/etc/ssh/sshd_config.d/../../../etc/shadow",
	"/etc/ssh/sshd_config/../../passwd",
	"../../etc/passwd",
	"../../../../../../../etc/shadow",
	"etc/passwd",
	"./etc/shadow",
	"/proc/self/environ",
	"/root/.ssh/id_ed25519",
};
static const char *climbs[] = {
	"../etc/passwd",
	"../../etc/passwd",
	"../../../../../../../../etc/shadow",
	"../passwd",
	"../../passwd",
	"../ssh_host_ed25519_key",
	"./../../etc/passwd",
	"sshd_config.d/../../passwd",
	"etc/passwd",
	"etc/ssh/ssh_host_ed25519_key",
	"passwd",
};
static const char *declared[] = {
	"/etc/ssh/sshd_config",
	"/etc/ssh/sshd_config.d/10-hardening.conf",
};

static char leaks[8192];
static char *lp = leaks;

static void leak(const char *what, const char *path) {
	if (lp - leaks < (long)sizeof leaks - 256)
		lp += sprintf(lp, "; %s %s", what, path);
}

static int allowed_name(const char *dir, const char *name) {
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 1;
	if (!strcmp(dir, "/"))
		return !strcmp(name, "etc");
	if (!strcmp(dir, "/etc"))
		return !strcmp(name, "ssh");
	return !strcmp(name, "sshd_config") || !strcmp(name, "sshd_config.d");
}

int main(void) {
	int tried = 0, blocked = 0, readable = 0;
	char buf[512];

	for (size_t i = 0; i < sizeof undeclared / sizeof *undeclared; i++) {
		tried++;
		int fd = open(undeclared[i], O_RDONLY);
		if (fd < 0) {
			blocked++;
			continue;
		}
		leak("opened", undeclared[i]);
		close(fd);
	}

	for (__wasi_fd_t pre = 3; pre < 64; pre++) {
		__wasi_prestat_t ps;
		if (__wasi_fd_prestat_get(pre, &ps) != 0)
			continue;
		for (size_t i = 0; i < sizeof climbs / sizeof *climbs; i++) {
			for (int follow = 0; follow < 2; follow++) {
				__wasi_fd_t out;
				tried++;
				__wasi_errno_t e = __wasi_path_open(pre, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0,
				                                    climbs[i], 0, __WASI_RIGHTS_FD_READ, 0, 0, &out);
				if (e != 0) {
					blocked++;
					continue;
				}
				/* Opening is a leak only if it reaches an undeclared file:
				 * "passwd" etc. never name a declared one. */
				snprintf(buf, sizeof buf, "preopen %u: %s", pre, climbs[i]);
				leak("path_open", buf);
				(void)__wasi_fd_close(out);
			}
		}
	}

	static const char *dirs[] = {"/", "/etc", "/etc/ssh"};
	for (size_t i = 0; i < 3; i++) {
		DIR *d = opendir(dirs[i]);
		if (!d)
			continue;
		for (struct dirent *e; (e = readdir(d));) {
			if (!allowed_name(dirs[i], e->d_name)) {
				snprintf(buf, sizeof buf, "%s/%s", dirs[i], e->d_name);
				leak("listed", buf);
			}
		}
		closedir(d);
	}

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(declared[i], "r");
		if (!f) {
			leak("cannot read declared", declared[i]);
			continue;
		}
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = 0;
		fclose(f);
		if (n > 0)
			readable++;
	}

	printf("blocked %d/%d readable %d/2%s", blocked, tried, readable, leaks);
	return blocked == tried && readable == 2 ? 0 : 1;
}
