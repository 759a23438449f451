/*
 * Two ways libjq 1.6 (Debian 12's libjq1) trips LeakSanitizer, kept out of
 * every harness so that our own leaks still show.  Linked into each one.
 *
 * 1. A started jq program keeps its stack in a block it points to only
 *    from one past its end (jq's stack.h mem_end), which LeakSanitizer
 *    does not count as a reference: a catalog program between two runs
 *    looks leaked.  jq allocates no jv value with jv_mem_realloc (only its
 *    stacks, parser and compiler buffers), so leaks from there are
 *    suppressed.
 * 2. jq 1.6 leaks a value when a JSON text holds two values with no
 *    separator between them inside an array or object ('["a" "b"]',
 *    "Expected separator between values"; fixed in jq 1.7).  This
 *    jv_parse_sized stands in front of jq's: input that makes jq leak is
 *    parsed with LeakSanitizer looking away, any other input as usual.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <jv.h>
#include "core/banned.h"

const char *__lsan_default_suppressions(void);
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

const char *__lsan_default_suppressions(void)
{
	return "leak:jv_mem_realloc\n";
}

static jv (*jq_parse_sized)(const char *, int);

/* Borrow v: is it jq 1.6's leaking parse error? */
static int jq_leaked(jv v)
{
	if (jv_is_valid(v) || !jv_invalid_has_msg(jv_copy(v)))
		return 0;
	jv msg = jv_invalid_get_msg(jv_copy(v));
	int hit = jv_get_kind(msg) == JV_KIND_STRING &&
		  strstr(jv_string_value(msg), "Expected separator between values");
	jv_free(msg);
	return hit;
}

jv jv_parse_sized(const char *s, int len)
{
	if (!jq_parse_sized) {
		jq_parse_sized = (jv (*)(const char *, int))dlsym(RTLD_NEXT, "jv_parse_sized");
		if (!jq_parse_sized)
			abort();
	}
	if (!__lsan_disable)
		return jq_parse_sized(s, len);
	__lsan_disable();
	jv v = jq_parse_sized(s, len);
	int leaked = jq_leaked(v);
	if (!leaked)
		jv_free(v);
	__lsan_enable();
	return leaked ? v : jq_parse_sized(s, len);
}
