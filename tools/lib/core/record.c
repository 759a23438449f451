#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/banned.h"

int cd_record_has_error(jv rec)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return 0;
	jv e = jv_object_get(jv_copy(rec), jv_string("error"));
	int has = jv_get_kind(e) != JV_KIND_INVALID && jv_get_kind(e) != JV_KIND_NULL;
	jv_free(e);
	return has;
}

char *cd_record_id(jv rec)
{
	const char *n = cd_jv_str(rec, "name"), *v = cd_jv_str(rec, "version");
	return cd_xasprintf("%s:%s", n ? n : "?", v ? v : "?");
}

int cd_record_focus_check(const char *f)
{
	const char *colon = strchr(f, ':');
	if (!colon || colon == f || !colon[1] || strchr(colon + 1, ':'))
		return cd_seterr("malformed focus '%s': want name:version or 'name:*'", f);
	return 0;
}

/* Does focus f name name:version (version NULL: name at any version)? */
static int focus_is(const char *f, const char *name, const char *version)
{
	const char *colon = strchr(f, ':');
	size_t nlen = colon ? (size_t)(colon - f) : strlen(f);
	if (!name || !colon || strlen(name) != nlen || memcmp(name, f, nlen))
		return 0;
	return !version || !strcmp(colon + 1, "*") || !strcmp(colon + 1, version);
}

int cd_record_in_focus(const char *const *focus, size_t n, const char *name, const char *version,
		       unsigned char *hit)
{
	int in = !n;
	for (size_t k = 0; k < n; k++)
		if (focus_is(focus[k], name, version)) {
			if (hit)
				hit[k] = 1;
			in = 1;
		}
	return in;
}

jv cd_record_set_error(jv rec, const char *arch, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jv e = jv_object();
	e = jv_object_set(e, jv_string("tool"), jv_string(cd_prog()));
	if (arch)
		e = jv_object_set(e, jv_string("arch"), jv_string(arch));
	e = jv_object_set(e, jv_string("message"), jv_string(msg));
	return jv_object_set(rec, jv_string("error"), e);
}

char *cd_record_failure(jv rec)
{
	char *id = cd_record_id(rec);
	jv e = jv_object_get(jv_copy(rec), jv_string("error"));
	const char *arch = cd_jv_str(e, "arch"), *msg = cd_jv_str(e, "message");
	char *line = cd_xasprintf("%s%s%s: %s", id, arch ? " " : "", arch ? arch : "", msg ? msg : "failed");
	jv_free(e);
	free(id);
	return line;
}

