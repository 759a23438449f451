#ifndef CD_PUSH_H
#define CD_PUSH_H
/*
 * Pushing images: the work of cd-push, an OCI image layout written by
 * cd-build sent to a registry (order and dry run as publish.h says).
 *
 * Tags (as medius): "<version>-<stamp>" (stamp = YYMMDDhhmm UTC, one clock
 * reading per run, made by the caller), the record's "tags", "<version>",
 * and "latest" when the record's "latest" is true; duplicates dropped.
 * Only "<version>" and "latest" float: a unique tag (the stamp tag and the
 * upstream ones) is set only when it names nothing yet or already names
 * this image; one that names another digest is left where it is, said on
 * stderr and in "pushed.held": [{"tag", "digest" (what it names)}], and
 * is not in "pushed.tags" (the tags that name pushed.digest).
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
 * registry, and a new index over all arches (in artifact order, then the
 * "carried" ones: SHARED-FIELDS.md) is pushed, its descriptors annotated
 * from "published" (oci.h).
 */
jv cd_push_record(jv rec, void *publish);

/* The tags of a record for stamp, as a new jv array. Borrows rec. */
jv cd_push_tags(jv rec, const char *stamp);

/* Is tag one of rec's (borrowed) unique tags: neither "<version>" nor "latest"? */
int cd_push_tag_is_unique(jv rec, const char *tag);

/* Pure: "YYMMDDhhmm" of t (UTC) into out[11]. */
void cd_push_stamp(long long t, char out[11]);

#endif
