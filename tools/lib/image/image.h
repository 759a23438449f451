#ifndef CD_IMAGE_H
#define CD_IMAGE_H
/*
 * The containerdisk image medius publishes, written as an OCI image layout
 * (oci-layout, index.json, blobs/sha256/...).
 *
 * Per architecture: a config (architecture, os linux, Labels.shasum = the
 * upstream checksum hex, Env = the record's env as sorted "K=V", Entrypoint
 * ["no-entrypoint"], rootfs.diff_ids, one history entry, "created" only from
 * SOURCE_DATE_EPOCH) and a manifest with one layer.  Docker schema 2 media
 * types by default, OCI ones with oci set.  Over several architectures: a
 * Docker manifest list / OCI index with platform {architecture, os}.  All
 * JSON has sorted keys and no whitespace, so the digests are reproducible.
 *
 * The layout of name:version is <output>/<name>/<version>: a folder per
 * name, one per version in it, so that no two records share one (a name
 * and a version are single folder names, never hidden: cd_layout_begin
 * refuses others).  It is built in a hidden temporary folder
 * <output>/.cd-build.<name>.<version>.XXXXXX and renamed into place only
 * when complete (cd_layout_commit); anything that fails is removed with
 * cd_layout_abort, so no partial image is ever seen under its name.  The
 * temporary folder is flock()ed while in use, so that cd_layout_sweep()
 * removes only those of runs that were killed.
 */
#include <jv.h>

#include "core/digest.h"
#include "image/layer.h"

struct cd_layout {
	char *final;    /* <output>/<name>/<version> */
	char *tmp;      /* <output>/.cd-build.<name>.<version>.XXXXXX while being written */
	int lockfd;     /* flock on the folder while this process owns it */
};

struct cd_image_opts {
	int oci;                 /* OCI media types instead of Docker's */
	enum cd_compression comp;
	long long created;       /* SOURCE_DATE_EPOCH, or -1: no timestamp at all */
};

struct cd_image_arch {
	const char *arch;                   /* borrowed: amd64, arm64, s390x */
	const char *shasum;                 /* borrowed: upstream checksum, hex */
	struct cd_layer_result layer;       /* the layer blob already in the layout */
	char manifest[CD_DIGEST_MAX];       /* out: the manifest's digest */
	long long manifest_size;            /* out */
};

/*
 * Remove temporary layouts under output that no running cd-build holds
 * (left by a killed run).  Only names starting ".cd-build." are touched.
 */
void cd_layout_sweep(const char *output);
/* An empty layout that owns nothing (lockfd -1): safe to release. */
void cd_layout_init(struct cd_layout *l);
/* Create the temporary layout for <output>/<name>/<version>.  -1 and cd_seterr(). */
int cd_layout_begin(struct cd_layout *l, const char *output, const char *name, const char *version);
/* A new temporary blob file in the layout, open for writing; *path is the caller's to free. */
int cd_layout_blob_open(struct cd_layout *l, char **path);
/* Name a finished temporary blob by its digest. */
int cd_layout_blob_commit(struct cd_layout *l, const char *path, const char *digest);
/* Rename the layout into place, making <output>/<name> as needed (replacing an older one). */
int cd_layout_commit(struct cd_layout *l);
/* Remove whatever was written.  Safe after a commit (does nothing). */
void cd_layout_abort(struct cd_layout *l);
void cd_layout_release(struct cd_layout *l);

/* Write the config and manifest of a; env is borrowed (an object of strings, or null). */
int cd_image_add_arch(struct cd_layout *l, const struct cd_image_opts *o, jv env,
		      struct cd_image_arch *a);
/*
 * Write the top of the image and index.json, annotated with ref as
 * org.opencontainers.image.ref.name: a manifest list / index over a[0..n)
 * when list is set, else the single manifest a[0].  digest gets the digest
 * of what index.json points at.
 */
int cd_image_finish(struct cd_layout *l, const struct cd_image_opts *o,
		    const struct cd_image_arch *a, size_t n, int list, const char *ref,
		    char digest[CD_DIGEST_MAX]);

/* Media types, for callers and tests. */
const char *cd_image_manifest_type(int oci);
const char *cd_image_list_type(int oci);
const char *cd_image_layer_type(int oci, enum cd_compression c);

#endif
