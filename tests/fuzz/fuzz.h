#ifndef CD_FUZZ_H
#define CD_FUZZ_H
/*
 * What the harnesses share.  Each tests/fuzz/fuzz-<parser>.c defines
 * LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize when it needs set-up),
 * and is built twice: with clang -fsanitize=fuzzer by `make fuzz`, and with
 * tests/fuzz/replay.c by the ordinary compiler, so that `make check`
 * replays the seeds and the regressions through the same code.
 *
 * A harness checks more than "no crash": FUZZ_ASSERT states what the parser
 * promises (a digest it returns is well-formed, a comparison is a total
 * order, ...).  A broken promise aborts, which libFuzzer reports as a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The sanitizers' report channel, which libFuzzer keeps open with -close_fd_mask. */
void __sanitizer_report_error_summary(const char *msg) __attribute__((weak));

static inline void fuzz_fail(const char *file, int line, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "%s:%d: fuzz assertion failed: %s", file, line, what);
	fprintf(stderr, "%s\n", msg);
	if (__sanitizer_report_error_summary)
		__sanitizer_report_error_summary(msg);
	abort();
}

#define FUZZ_ASSERT(cond) do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond); } while (0)

/* A NUL-terminated copy of n bytes of p; caller frees. */
static inline char *fuzz_strndup(const void *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/*
 * Inputs of several parts hold them separated by NUL bytes (no C string or
 * JSON text holds one).  The next part: its start and length, and *data /
 * *size move past it and its NUL.  A missing part is empty.
 */
static inline const uint8_t *fuzz_part(const uint8_t **data, size_t *size, size_t *len)
{
	const uint8_t *p = *data, *nul = *size ? memchr(p, '\0', *size) : NULL;
	*len = nul ? (size_t)(nul - p) : *size;
	*data += *len + (nul != NULL);
	*size -= *len + (nul != NULL);
	return p;
}

/* Is s[0..n) all lowercase hex? */
static inline int fuzz_lowerhex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "sha256:<64 hex>" or "sha512:<128 hex>", lowercase. */
static inline int fuzz_digest_ok(const char *d)
{
	size_t n = strlen(d);
	if (n == 7 + 64 && !strncmp(d, "sha256:", 7))
		return fuzz_lowerhex(d + 7, 64);
	if (n == 7 + 128 && !strncmp(d, "sha512:", 7))
		return fuzz_lowerhex(d + 7, 128);
	return 0;
}

#endif
