#ifndef CD_BUILD_H
#define CD_BUILD_H
/*
 * One record in, one containerdisk image out: the work of cd-build.
 *
 * Which records are built: "action":"build", and records without any
 * "action" (cd-build run straight on cd-discover's output builds all).
 * "skip" records come back untouched; any other action is an error.
 * When the record carries "changed" (a non-empty list of arches, from
 * cd-diff) only those artifacts are built.
 *
 * Fields added: "layout" (absolute path of the OCI image layout,
 * <output>/<name>/<version>: see image.h),
 * "digest" (of what the layout's index.json points at: the manifest list /
 * index for a multi-arch record, else the manifest), "built" (the arches
 * built, in record order) and "manifests" ({arch: manifest digest}), so
 * that cd-push can combine freshly built manifests with published ones.
 * A multi-arch record always gets a manifest list, also when only some of
 * its arches were built.
 */
#include <jv.h>

#include "image/image.h"
#include "image/layer.h"
#include "upstream/cache.h"

struct cd_build_opts {
	const char *output;            /* folder the layouts go to (exists) */
	const struct cd_cache *cache;
	struct cd_image_opts image;
	struct cd_layer_opts layer;
};

/* Consumes rec; returns the record to write (with "error" on failure). */
jv cd_build_record(jv rec, void *opts);

/* --- cd-build's run ----------------------------------------------------------- */

/* The command line's choices, as given. */
struct cd_build_cli {
	const char *output;        /* folder of the layouts (made with its parents) */
	const char *cache;         /* NULL: cd_cache_default_dir() */
	const char *compression;   /* NULL: gzip */
	int oci;
	int no_annotations;        /* --no-annotations: image.h's annotations left out */
};

struct cd_build_run {
	struct cd_build_opts o;
	struct cd_cache cache;
	char *output;              /* absolute */
};

/* Is name a layer compression cd-build writes ("gzip", "zstd", "none")? */
int cd_build_compression_known(const char *name);
/*
 * Make b from cli and the environment (SOURCE_DATE_EPOCH): open the cache,
 * make the output folder, sweep the layouts of killed runs out of it.
 * -1 and cd_seterr() when a choice cannot be used: a usage error for the
 * caller to say.
 */
int cd_build_open(struct cd_build_run *b, const struct cd_build_cli *cli);
/* Say how much the cache holds, and free b. */
void cd_build_close(struct cd_build_run *b);

/* SOURCE_DATE_EPOCH: -1 when unset, -2 (cd_seterr) when malformed, else its value. */
long long cd_build_source_date_epoch(void);

#endif
