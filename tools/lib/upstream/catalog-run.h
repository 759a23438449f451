#ifndef CD_CATALOG_RUN_H
#define CD_CATALOG_RUN_H
/*
 * Running a loaded catalog (catalog.h): every upstream file of the
 * selected images fetched once, the programs run on them, one record per
 * image made.  Records come out in catalog order: files by file name,
 * images in file order (released images: stable newest first, then
 * prereleases).
 */
#include <stddef.h>
#include <jv.h>

#include "upstream/catalog.h"

/*
 * Fetch every upstream file of the selected images in parallel (through
 * the mirror map), run the programs and call emit(record, ctx) for each
 * image in catalog order (emit consumes the record).
 *
 * An arch whose upstream file cannot be read (no answer, or not a 2xx) is
 * left out of "artifacts" and named in "carried" ({"arch", "reason"}); the
 * other arches are still discovered and the record is no error record.
 * An image none of whose arches can be read, or whose upstream file is
 * malformed or has no matching file, becomes a record with "error" (no
 * arch when its arches share the file that failed).  *failed counts those.
 * An artifact without an upstream checksum gets "http" from one HEAD
 * (ETag, Last-Modified, Content-Length), all such HEADs in parallel.
 *
 * note(warning, msg, ctx), when not NULL, is called before the records
 * with each distinct message of the run: warnings (a release version that
 * cannot be parsed, a HEAD that failed) and, warning 0, notes for -v (an
 * upstream entry a program dropped, and why).
 *
 * Returns 0, or -1 and cd_seterr() when a focus matched nothing (then
 * nothing was emitted).
 */
int cd_catalog_discover(struct cd_catalog *c, const char *const *focus, size_t nfocus,
			void (*emit)(jv rec, void *ctx),
			void (*note)(int warning, const char *msg, void *ctx),
			void *ctx, size_t *failed);

/*
 * cd_catalog_discover without the network: every upstream file of the
 * selected images reads as body (len bytes), as if served with HTTP 200;
 * no HEAD is made.  Fuzzers and tests call it (tests/fuzz/fuzz-catalog.c).
 */
int cd_catalog_discover_body(struct cd_catalog *c, const char *body, size_t len,
			     const char *const *focus, size_t nfocus,
			     void (*emit)(jv rec, void *ctx),
			     void (*note)(int warning, const char *msg, void *ctx),
			     void *ctx, size_t *failed);

#endif
