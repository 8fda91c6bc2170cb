/* hello-shmcount.c: copied from the benchmark harness (hello.c) for bench-shmcount.sh. */
/* hello: minimal program for process start-up cost (spawn_cost.sh).
 * Build plain, -static, and with -DWITH_BSD -lbsd to see what linking libbsd costs. */
#include <stdio.h>
#include <string.h>
#ifdef WITH_BSD
#include <bsd/string.h>
#endif
int main(void) {
    char b[32];
#ifdef WITH_BSD
    strlcpy(b, "hello, world", sizeof b); /* forces a real libbsd dependency */
#else
    snprintf(b, sizeof b, "%s", "hello, world");
#endif
    puts(b);
    return 0;
}
