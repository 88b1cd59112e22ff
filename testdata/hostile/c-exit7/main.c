/* c-exit7: returns 7 from main: error "exit 7". */
#include <stdio.h>

int main(void) {
	puts("returning 7");
	return 7;
}
