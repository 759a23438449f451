/*
 * Checksum files (checksum.c cd_checksum_parse) as upstreams publish them,
 * and the checksum values of catalog programs (cd_checksum_normalize) on
 * each line of the same input.
 */
#include "upstream/checksum.h"
#include "fuzz.h"
#include "core/banned.h"

static void check_normalize(const char *line)
{
	char out[137], again[137];
	if (cd_checksum_normalize(line, out, sizeof(out)) < 0)
		return;
	FUZZ_ASSERT(fuzz_digest_ok(out));
	/* the normal form is normal */
	FUZZ_ASSERT(cd_checksum_normalize(out, again, sizeof(again)) == 0);
	FUZZ_ASSERT(!strcmp(out, again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_checksum_list l = { 0 };
	cd_checksum_parse((const char *)data, size, &l);
	for (size_t i = 0; i < l.n; i++) {
		const struct cd_checksum_entry *e = &l.v[i], *f;
		FUZZ_ASSERT(e->name);
		FUZZ_ASSERT(fuzz_digest_ok(e->digest));
		FUZZ_ASSERT(!strchr(e->name, '\n'));
		FUZZ_ASSERT(e->size >= -1);
		f = cd_checksum_find(&l, e->name);
		FUZZ_ASSERT(f && f <= e && !strcmp(f->name, e->name));
	}
	cd_checksum_list_release(&l);

	char *text = fuzz_strndup(data, size);
	for (char *line = text, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		check_normalize(line);
	}
	free(text);
	return 0;
}
