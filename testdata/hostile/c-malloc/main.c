/* c-malloc: allocates and touches 1 MiB blocks until malloc fails, then
 * aborts like most programs that run out of memory (abort() is a trap in
 * wasi-libc). The manifest allows 8 MiB: error "memory limit". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kept in a volatile global so that the compiler cannot elide the blocks. */
static char *volatile keep;

int main(void) {
	for (size_t n = 0;; n++) {
		char *p = malloc(1 << 20);
		if (!p) {
			fprintf(stderr, "out of memory after %zu MiB\n", n);
			abort();
		}
		memset(p, 1, 1 << 20);
		keep = p;
	}
}
