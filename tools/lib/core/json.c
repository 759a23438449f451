#include <string.h>

#include "core/json.h"
#include "core/limits.h"
#include "core/banned.h"

/*
 * jv_object_get consumes the object; these helpers borrow theirs and rely on
 * the value staying alive inside obj while the caller uses the pointer.
 */
const char *cd_jv_str(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return NULL;
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
	jv_free(v); /* obj still holds a reference, so s stays valid */
	return s;
}

double cd_jv_num(jv obj, const char *key, double def)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return def;
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : def;
	jv_free(v);
	return d;
}

long long cd_byte_count(double d)
{
	if (!(d >= 0 && d <= 9007199254740992.0)) /* 2^53; false for NaN too */
		return -1;
	long long n = (long long)d;
	return (double)n == d ? n : -1;
}

int cd_jv_true(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return 0;
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	int t = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	return t;
}

int cd_json_size(jv obj, long long *size)
{
	*size = -1;
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return 0;
	jv v = jv_object_get(jv_copy(obj), jv_string("size"));
	int kind = jv_get_kind(v), r = 0;
	if (kind == JV_KIND_NUMBER) {
		double d = jv_number_value(v);
		/* Compared before the cast: a cast of 1e308 or NaN is undefined. */
		if (d >= 0 && d <= (double)CD_SIZE_MAX && d == (double)(long long)d) {
			*size = (long long)d;
			r = 1;
		} else {
			r = -1;
		}
	} else if (kind != JV_KIND_INVALID) {
		r = -1;
	}
	jv_free(v);
	return r;
}
