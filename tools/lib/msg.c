#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "banned.h"

static const char *prog = "cdkit";
static int verbosity = 1;
static _Thread_local char errbuf[1024];

void cd_msg_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	prog = slash ? slash + 1 : argv0;
	const char *v = getenv("CD_VERBOSE");
	if (v && *v == '1')
		verbosity = 2;
}

const char *cd_prog(void) { return prog; }
void cd_set_verbosity(int level) { verbosity = level; }
int cd_verbosity(void) { return verbosity; }

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char line[4096];
	int n = snprintf(line, sizeof(line), "%s: %s", prog, prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	/* One write per line, so that messages of parallel workers don't mix. */
	fprintf(stderr, "%s\n", line);
}

void cd_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void cd_warn(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void cd_info(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void cd_debug(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 2)
		return;
	va_start(ap, fmt);
	vreport("debug: ", fmt, ap);
	va_end(ap);
}

void cd_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(CD_EXIT_USAGE);
}

int cd_vseterr(const char *fmt, va_list ap)
{
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	return -1;
}

int cd_seterr(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cd_vseterr(fmt, ap);
	va_end(ap);
	return -1;
}

int cd_adderr(const char *fmt, ...)
{
	char old[sizeof(errbuf)], ctx[512];
	va_list ap;
	memcpy(old, errbuf, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	/* A long message is cut at the end: the context in front matters most. */
	if (snprintf(errbuf, sizeof(errbuf), "%s: %s", ctx, old) >= (int)sizeof(errbuf))
		errbuf[sizeof(errbuf) - 1] = '\0';
	return -1;
}

const char *cd_errmsg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

int cd_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n)
		return cd_seterr("internal error: string too long");
	return r;
}
