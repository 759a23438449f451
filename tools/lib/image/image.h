#ifndef CD_IMAGE_H
#define CD_IMAGE_H
/*
 * The containerdisk image medius publishes, written into an OCI image
 * layout (layout.h).
 *
 * Per architecture: a config (architecture, os linux, Labels.shasum = the
 * upstream checksum hex, Env = the record's env as sorted "K=V", Entrypoint
 * ["no-entrypoint"], rootfs.diff_ids, one history entry, "created" only from
 * SOURCE_DATE_EPOCH; the CD_LABEL_HTTP label when the arch has http) and a
 * manifest with one layer, annotated (oci.h: arch, shasum, http).  Docker schema 2 media
 * types by default, OCI ones with oci set.  Over several architectures: a
 * Docker manifest list / OCI index with platform {architecture, os} and
 * the same annotations on each descriptor (cd_image_annotations).  All
 * JSON has sorted keys and no whitespace, so the digests are reproducible.
 */
#include <jv.h>

#include "core/digest.h"
#include "image/layer.h"
#include "image/layout.h"

struct cd_image_opts {
	int oci;                 /* OCI media types instead of Docker's */
	enum cd_compression comp;
	long long created;       /* SOURCE_DATE_EPOCH, or -1: no timestamp at all */
	int annotate;            /* cd_image_annotations() on manifests and list descriptors */
};

struct cd_image_arch {
	const char *arch;                   /* borrowed: amd64, arm64, s390x */
	const char *shasum;                 /* borrowed: upstream checksum, hex */
	const char *http;                   /* borrowed: the HTTP validators label (oci.h), or NULL */
	struct cd_layer_result layer;       /* the layer blob already in the layout */
	char manifest[CD_DIGEST_MAX];       /* out: the manifest's digest */
	long long manifest_size;            /* out */
};

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

/*
 * The annotations cdkit puts on an arch's manifest and its index
 * descriptor: {CD_ANN_ARCH: arch, CD_ANN_SHASUM: shasum, CD_ANN_HTTP: http
 * (only when http)}.  A new object.
 */
jv cd_image_annotations(const char *arch, const char *shasum, const char *http);

/* Media types, for callers and tests. */
const char *cd_image_manifest_type(int oci);
const char *cd_image_list_type(int oci);
const char *cd_image_layer_type(int oci, enum cd_compression c);

#endif
