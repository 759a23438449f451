#ifndef CD_CURRENT_H
#define CD_CURRENT_H
/*
 * What a registry publishes for a record: the work of cd-current.
 *
 * published.<arch> = {"shasum": <the image config's "shasum" label, or
 * null when it has none>, "digest": <the arch's image manifest digest>,
 * "http": <the CD_LABEL_HTTP label, parsed, when the image has it>} for
 * every arch the registry serves under the tag (also those the record does
 * not list).  Read from cdkit's annotations (oci.h) when the image has
 * them: one request per image; else from each arch's config, as medius
 * images are read.  An arch that is not published is absent from the
 * object; a missing repository or tag gives an empty object.
 */
#include <jv.h>

#include "registry/client.h"

/*
 * Read <prefix>/<name>:<version> through reg for every arch of the
 * record's artifacts and set rec.published.  Consumes rec and returns the
 * new record; on failure (authentication, TLS, unreachable, malformed
 * manifest) the record carries an "error" (with the arch when one arch
 * failed).  rec keeps the contract (cd_record_check: the record loop).
 */
jv cd_current_read(struct cd_registry *reg, const char *prefix, jv rec);

/* cd-current's run: the source registry and the repository prefix under it. */
struct cd_current {
	struct cd_registry *reg;
	char *prefix;
};
/*
 * Open the registry source names (a --source-registry value): exits as
 * option parsing does (cd_opts_registry) when it is malformed or its
 * credentials cannot be read.
 */
void cd_current_open(struct cd_current *c, const char *source);
/* A cd_pool_fn over a struct cd_current: cd_current_read() of its registry. */
jv cd_current_record(jv rec, void *current);
void cd_current_close(struct cd_current *c);

/*
 * The "shasum" label of an image config (borrowed; any JSON value, even
 * jv_invalid()), as a new string, or null when it has none.  Fuzzers and
 * tests call it (tests/fuzz/fuzz-manifest.c).
 */
jv cd_current_shasum(jv config);
/*
 * The HTTP validators a labels or annotations object (borrowed) holds
 * under key, parsed: a new object, or jv_invalid() when absent or not a
 * JSON object.
 */
jv cd_current_http(jv labels_or_annotations, const char *key);

#endif
