#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/banned.h"

static _Thread_local struct cd_err current;

/* Formatted aside first: the arguments may point into current.msg. */
static int set(enum cd_errkind kind, const char *fmt, va_list ap)
{
	char text[CD_ERR_MAX];
	/* A long message is cut at the end: the context in front matters most. */
	vsnprintf(text, sizeof(text), fmt, ap);
	memcpy(current.msg, text, sizeof(text));
	current.kind = kind;
	return -1;
}

int cd_seterr(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(CD_ERR_OTHER, fmt, ap);
	va_end(ap);
	return -1;
}

int cd_seterr_kind(enum cd_errkind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(kind, fmt, ap);
	va_end(ap);
	return -1;
}

int cd_adderr(const char *fmt, ...)
{
	char ctx[512], old[CD_ERR_MAX + 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, ": ", 2);
	memcpy(old + 2, current.msg, sizeof(current.msg));
	return cd_seterr_kind(current.kind, "%s%s", ctx, old);
}

const char *cd_errmsg(void)
{
	return current.msg[0] ? current.msg : "unknown error";
}

enum cd_errkind cd_errkind(void)
{
	return current.kind;
}

void cd_err_save(struct cd_err *e)
{
	*e = current;
}

int cd_err_raise(const struct cd_err *e)
{
	current = *e;
	return -1;
}
