#ifndef CD_PUSH_H
#define CD_PUSH_H
/*
 * Publishing images: the work of cd-push (an OCI image layout written by
 * cd-build into a registry) and cd-promote (a verified image from one
 * registry into another).  The wire is registry.h's; blobs move with xfer.h.
 *
 * Order, so that a tag never names an incomplete image: every blob, then
 * each architecture's manifest by digest, then the index by digest, and
 * only then the tags.  An interrupted run leaves at most untagged blobs
 * and manifests, which the next run finds (HEAD) and does not send again.
 *
 * Tags (as medius): "<version>-<stamp>" (stamp = YYMMDDhhmm UTC, one clock
 * reading per run, made by the caller), the record's "tags", "<version>",
 * and "latest" when the record's "latest" is true; duplicates dropped.
 *
 * Dry run: nothing is sent (not even a HEAD) and the record gets no
 * "pushed"/"promoted" field, because later stages take that field to mean
 * "this image is in the registry"; what would be done is said on stderr.
 */
#include <jv.h>

#include "registry/client.h"
#include "registry/transfer.h"

struct cd_push_opts {
	struct cd_registry *dst;     /* target registry (borrowed) */
	const char *dst_prefix;      /* "<org>": repositories are <org>/<name> */
	struct cd_registry *src;     /* source registry (published manifests), or NULL */
	const char *src_prefix;
	const char *stamp;           /* "YYMMDDhhmm" */
	int dry_run;
	struct cd_xfer_opts xfer;
};

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
jv cd_push_record(jv rec, void *opts);

/* The tags of a record for stamp, as a new jv array. Borrows rec. */
jv cd_push_tags(jv rec, const char *stamp);

/* Pure: "YYMMDDhhmm" of t (UTC) into out[11]. */
void cd_push_stamp(long long t, char out[11]);

#endif
