/* What the libFuzzer targets share (test/fuzz/fuzz.c): exits caught, and
 * the input taken apart byte by byte. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A broken invariant: says which, and aborts (libFuzzer keeps the input). */
#define FUZZ_ASSERT(c) do { if (!(c)) { fprintf(stderr, \
	"%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* err(3), errx(3), verr(3), verrx(3) are replaced by the harness: while
 * fuzz_call runs FN, they format their message into fuzz_exit_msg and
 * return to fuzz_call, which gives their status. So a parser that exits
 * on bad input does not end the fuzzer. Elsewhere they behave as libc's. */
#define FUZZ_RETURNED (-1)
int fuzz_call(void (*fn)(void *), void *arg);
extern char fuzz_exit_msg[1024];

/* The input, read from the front. Past its end every byte is 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};
uint8_t fuzz_byte(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
/* Up to MAX bytes into OUT (fewer if the input ends); returns how many. */
size_t fuzz_bytes(struct fuzz_in *in, void *out, size_t max);
/* The rest of the input as a C string (up to its first NUL), malloc'd. */
char *fuzz_string(struct fuzz_in *in);

#endif
