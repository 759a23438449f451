#ifndef CD_PUSH_H
#define CD_PUSH_H
/*
 * Pushing images: the work of cd-push, an OCI image layout written by
 * cd-build sent to a registry (order and dry run as publish.h says).
 *
 * Tags (as medius): "<version>-<stamp>" (stamp = YYMMDDhhmm UTC, one clock
 * reading per run, made by the caller), the record's "tags", "<version>",
 * and "latest" when the record's "latest" is true; duplicates dropped.
 */
#include <jv.h>

/*
 * cd-push, for one record (a cd_pool_fn: consumes rec, returns the record
 * to write).  Records with "action":"skip" come back untouched; a record
 * without "layout", or whose "digest" is not what the layout's index.json
 * names, is an error (nothing is sent).  Adds "pushed": {"repository":
 * "<host>/<org>/<name>", "digest", "tags"}.
 *
 * Incremental: when "built" lists fewer arches than "artifacts", the
 * others come from "published.<arch>.digest": taken as they are when the
 * target repository has them, else copied (or mounted) from the source
 * registry, and a new index over all arches (in artifact order) is pushed.
 */
jv cd_push_record(jv rec, void *publish);

/* The tags of a record for stamp, as a new jv array. Borrows rec. */
jv cd_push_tags(jv rec, const char *stamp);

/* Pure: "YYMMDDhhmm" of t (UTC) into out[11]. */
void cd_push_stamp(long long t, char out[11]);

#endif
