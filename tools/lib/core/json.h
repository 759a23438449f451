#ifndef CD_JSON_H
#define CD_JSON_H
/*
 * Small helpers over jq's jv API (jv.h).  They borrow the object they
 * read: a string returned stays valid while the caller holds obj.
 */
#include <jv.h>

/* Borrowed-field helpers: string value of rec[key] or NULL (no copy kept). */
const char *cd_jv_str(jv obj, const char *key);
/* rec[key] as a number, or def. */
double cd_jv_num(jv obj, const char *key, double def);
/*
 * Sizes from outside: d as a byte count, a whole number from 0 to 2^53
 * (what a double holds exactly), or -1 when it is negative, fractional,
 * larger, NaN or infinite.  Casting such a number is undefined behaviour:
 * every size read from JSON goes through here first.
 */
long long cd_byte_count(double d);
/* rec[key] == true */
int cd_jv_true(jv obj, const char *key);

/*
 * obj's "size" (obj borrowed), a number from outside: 1 and *size when it
 * is a whole number from 0 to CD_SIZE_MAX; 0 when obj has none (*size =
 * -1); -1 when it is anything else (negative, fractional, 1e308, NaN, not
 * a number; *size = -1).  The one way sizes are read from manifests and
 * indexes.
 */
int cd_json_size(jv obj, long long *size);

#endif
