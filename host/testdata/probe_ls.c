#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* probe_ls prints the names in dir as a JSON message, sorted by the host. */
int probe_ls(const char *dir) {
	DIR *d = opendir(dir);
	if (!d) { printf("{\"message\": \"opendir %s: %s\"}", dir, strerror(errno)); return 1; }
	printf("{\"message\": \"ls\", \"details\": [");
	struct dirent *e;
	int first = 1;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
		printf("%s\"%s\"", first ? "" : ",", e->d_name);
		first = 0;
	}
	printf("]}");
	closedir(d);
	return 0;
}
