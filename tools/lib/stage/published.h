#ifndef CD_PUBLISHED_H
#define CD_PUBLISHED_H
/*
 * What a registry publishes for a record, and what must be rebuilt:
 * the logic of cd-current (network) and cd-diff (none).
 *
 * published.<arch> = {"shasum": <the image config's "shasum" label, or
 * null when it has none>, "digest": <the arch's image manifest digest>}.
 * An arch that is not published is absent from the object; a missing
 * repository or tag gives an empty object.
 */
#include <jv.h>

#include "registry/registry.h"

/*
 * Split a --source-registry value ("quay.io/containerdisks",
 * "127.0.0.1:5000") into host and repository prefix (may be "").
 * -1 and cd_seterr() when malformed or when it holds a tag or digest (the
 * message shows spec without any user:password).  Both malloc'd.
 */
int cd_published_parse_source(const char *spec, char **host, char **prefix);

/*
 * Read <prefix>/<name>:<version> through reg for every arch of the
 * record's artifacts and set rec.published.  Consumes rec and returns the
 * new record; on failure (authentication, TLS, unreachable, malformed
 * manifest) the record carries an "error" (with the arch when one arch
 * failed).  rec keeps the contract (cd_record_check: the record loop).
 */
jv cd_published_read(struct cd_registry *reg, const char *prefix, jv rec);

/*
 * The "shasum" label of an image config (borrowed; any JSON value, even
 * jv_invalid()), as a new string, or null when it has none.  Fuzzers and tests call it
 * (tests/fuzz/fuzz-manifest.c).
 */
jv cd_published_shasum(jv config);

/*
 * Decide: "action" build|skip, "reason", "changed" (the arches whose
 * image is missing or whose shasum differs from the upstream checksum, in
 * artifact order).  force: build even when nothing changed.  Consumes
 * rec.  A record without "published" or "artifacts" gets an error.
 */
jv cd_diff_record(jv rec, int force);

#endif
