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
 * image in catalog order (emit consumes the record).  An image whose
 * upstream cannot be read or has no matching file becomes a record with
 * "error".  *failed counts those.  Returns 0, or -1 and cd_seterr() when a
 * focus matched nothing (then nothing was emitted).
 */
int cd_catalog_discover(struct cd_catalog *c, char **focus, size_t nfocus,
			void (*emit)(jv rec, void *ctx), void *ctx, size_t *failed);

/*
 * cd_catalog_discover without the network: every upstream file of the
 * selected images reads as body (len bytes), as if served with HTTP 200.
 * Fuzzers and tests call it (tests/fuzz/fuzz-catalog.c).
 */
int cd_catalog_discover_body(struct cd_catalog *c, const char *body, size_t len,
			     char **focus, size_t nfocus,
			     void (*emit)(jv rec, void *ctx), void *ctx, size_t *failed);

#endif
