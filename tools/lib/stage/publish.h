#ifndef CD_PUBLISH_H
#define CD_PUBLISH_H
/*
 * Publishing images, what cd-push (push.h: an OCI image layout written by
 * cd-build, into a registry) and cd-promote (promote.h: a verified image
 * from one registry into another) share: their settings and their whole
 * command line.  The wire is registry/'s; blobs move with
 * registry/transfer.h.
 *
 * Order, so that a tag never names an incomplete image: every blob, then
 * each architecture's manifest by digest, then the index by digest, and
 * only then the tags.  An interrupted run leaves at most untagged blobs
 * and manifests, which the next run finds (HEAD) and does not send again.
 *
 * Dry run: nothing is sent (not even a HEAD) and the record gets no
 * "pushed"/"promoted" field, because later stages take that field to mean
 * "this image is in the registry"; what would be done is said on stderr.
 */
#include <jv.h>

#include "core/loop.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/transfer.h"
#include "stage/opts.h"
#include "stage/push.h"

struct cd_publish {
	struct cd_registry *dst;     /* target registry (borrowed) */
	const char *dst_prefix;      /* "<org>": repositories are <org>/<name> */
	struct cd_registry *src;     /* source registry; dst itself when both are one host */
	const char *src_prefix;
	const char *stamp;           /* "YYMMDDhhmm": when cd-push tags */
	int dry_run;
	struct cd_xfer_opts xfer;
};

/*
 * Set tag on repo to the manifest top (body, len) in dst.  A unique tag
 * (cd_push_tag_is_unique: neither "<version>" nor "latest" of rec,
 * borrowed) is set only when it names nothing yet (HEAD) or already names
 * top: one that names another digest is left where it is, appended to
 * *held as {"tag", "digest"} and said on stderr.  A tag that names top
 * afterwards is appended to *sent.  0, or -1 (cd_seterr) when the registry
 * failed.
 */
int cd_publish_tag(struct cd_registry *dst, const char *repo, jv rec, const char *tag,
		   const struct cd_descriptor *top, const char *body, size_t len, jv *sent, jv *held);

/* --- the command line of both tools ----------------------------------------- */

#define CD_OPTS_PUBLISH                                                           \
	{ "target-registry", required_argument, NULL, CD_OPT_TARGET_REGISTRY },   \
	{ "source-registry", required_argument, NULL, CD_OPT_SOURCE_REGISTRY },   \
	CD_OPTS_XFER

/*
 * Records that reached cd-promote without "pushed": cd-push ran as a dry
 * run (or not at all), so there is nothing to promote and nothing wrong.
 * Counted (atomic) and said in one line at the end, not one warning each.
 */
extern long cd_publish_unpushed;

struct cd_publish_cli {
	const char *target, *source; /* the flags' values */
	struct cd_publish o;
	char *dst_prefix, *src_prefix;
	char stamp[11];
};

/*
 * cd-push's and cd-promote's command line, which is one: --target-registry,
 * --source-registry, CD_OPTS_XFER and the common groups, into c.  A bad
 * option or a stray argument calls usage(2); --help calls usage(0).
 */
void cd_publish_parse(struct cd_publish_cli *c, int argc, char **argv, void (*usage)(int status));
/*
 * After option parsing: open the registries (one client when both flags
 * name one host, so that blobs are mounted; no --source-registry: the
 * target), run fn over the records of stdin with the command line's
 * workers, say "<verb> N blobs (X MiB), skipped M present, mounted K",
 * free what was opened.  The tool's exit status.
 */
int cd_publish_main(struct cd_publish_cli *c, cd_pool_fn fn, const char *verb);

#endif
