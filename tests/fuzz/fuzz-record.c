/*
 * The record reader (record.c cd_reader_next), fed through a FILE as the
 * tools read stdin, and what every record then meets in cd-diff
 * (published.c cd_diff_record).  Byte 0 picks the line limit (small ones
 * reach the over-long path) and cd-diff's --force; the rest is the stream.
 */
#include <jv.h>

#include "fuzz.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/record.h"
#include "stage/diff.h"
#include "core/banned.h"

static void check_diff(jv rec, int force)
{
	struct cd_diff_opts o = { force, force };
	jv out = cd_diff_record(rec, &o);
	FUZZ_ASSERT(jv_get_kind(out) == JV_KIND_OBJECT);
	if (!cd_record_has_error(out)) {
		const char *action = cd_jv_str(out, "action");
		FUZZ_ASSERT(action && (!strcmp(action, "build") || !strcmp(action, "skip")));
		FUZZ_ASSERT(cd_jv_str(out, "reason"));
		if (force)
			FUZZ_ASSERT(!strcmp(action, "build"));
	}
	jv_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* fmemopen refuses size 0: an empty stream is byte 0 read away */
	FILE *fp = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : fmemopen((void *)data, 1, "r");
	if (!fp)
		return 0;
	if (size == 1)
		fgetc(fp);
	struct cd_reader r;
	cd_reader_init(&r, fp, "fuzz");
	if (data[0] < 128)
		r.max = 1 + (size_t)data[0] * 8;
	unsigned long records = 0;
	jv rec;
	int got;
	while ((got = cd_reader_next(&r, &rec)) == 1) {
		FUZZ_ASSERT(jv_get_kind(rec) == JV_KIND_OBJECT);
		char *id = cd_record_id(rec);
		FUZZ_ASSERT(id && strchr(id, ':'));
		free(id);
		(void)cd_record_has_error(rec);
		check_diff(rec, data[0] & 1);
		records++;
	}
	FUZZ_ASSERT(got == 0);
	FUZZ_ASSERT(records + (unsigned long)r.malformed <= r.lineno);
	cd_reader_release(&r);
	fclose(fp);
	return 0;
}
