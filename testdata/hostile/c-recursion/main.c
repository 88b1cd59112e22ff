/* c-recursion: unbounded recursion with a 1 KiB local array per frame.
 * Linked with --stack-first, the C stack sits below the data, so running
 * off it is an out-of-bounds access rather than silent corruption; or the
 * engine's call stack is exhausted first. Either way: error "trap: ...". */
#include <stdio.h>

#pragma clang diagnostic ignored "-Winfinite-recursion"
static int deeper(volatile char *prev, int n) {
	volatile char frame[1024];
	frame[0] = (char)n;
	frame[1023] = prev ? prev[0] : 0;
	return deeper(frame, n + 1) + frame[1023];
}

int main(void) {
	printf("%d\n", deeper(0, 0));
	return 0;
}
