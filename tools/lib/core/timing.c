#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timing.h"
#include "core/banned.h"

int cd_timing_enabled(void)
{
	const char *v = getenv("CD_TIMINGS");
	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

double cd_timing_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

jv cd_timing_stamp(jv rec, const char *tool, double seconds)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT || !cd_timing_enabled())
		return rec;
	if (!(seconds >= 0))
		seconds = 0;
	jv s = jv_object_get(jv_copy(rec), jv_string("seconds"));
	if (jv_get_kind(s) != JV_KIND_OBJECT) {
		jv_free(s);
		s = jv_object();
	}
	s = jv_object_set(s, jv_string(tool), jv_number(round(seconds * 1000.0) / 1000.0));
	return jv_object_set(rec, jv_string("seconds"), s);
}

double cd_timing_total(jv rec)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return -1;
	jv s = jv_object_get(jv_copy(rec), jv_string("seconds"));
	double total = -1;
	if (jv_get_kind(s) == JV_KIND_OBJECT) {
		total = 0;
		jv_object_foreach(s, k, v) {
			if (jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 0)
				total += jv_number_value(v);
			jv_free(k);
			jv_free(v);
		}
	}
	jv_free(s);
	return total;
}
