#ifndef CD_TRANSFER_H
#define CD_TRANSFER_H
/*
 * Moving blobs and manifests into a registry: the write side shared by
 * cd-push (from an OCI image layout) and cd-promote (from another
 * registry).  Only registry.h speaks the wire.
 *
 * A blob goes up at most once: HEAD first (present: skipped); then a
 * cross-repository mount when a repository of the same registry is known to
 * hold it (the mount's POST doubles as the upload session when the registry
 * answers 202); else one streaming monolithic PUT, or PATCH chunks of
 * chunk_size bytes when asked, or when the registry refuses the monolithic
 * PUT.  Blobs of one image go up in parallel (cd_xfer_blobs).
 *
 * Counters are process-wide (atomic), for the closing summary line.
 */
#include <jv.h>

#include "core/digest.h"
#include "registry/manifest.h"

struct cd_xfer_stats {
	long long pushed, pushed_bytes;  /* blobs uploaded and their bytes */
	long long skipped;               /* blobs already in the repository */
	long long mounted;               /* blobs mounted from another repository */
	long long copied_bytes;          /* bytes streamed registry to registry (in pushed_bytes too) */
};
extern struct cd_xfer_stats cd_xfer_stats;

/* Where one blob comes from. */
struct cd_xfer_blob {
	char digest[CD_DIGEST_MAX];
	long long size;
	const char *file;            /* borrowed: a file holding it (layout blob), or NULL */
	struct cd_registry *src;     /* borrowed: else this registry ... */
	const char *src_repo;        /* borrowed: ... and repository */
	const char *mount_from;      /* borrowed: a repository of the target registry that
	                                may hold it (NULL: none known) */
};

/*
 * How the caller shows a blob going up (a progress bar: this layer prints
 * nothing).  start gives a handle for update and end, which end releases,
 * or NULL when this blob is not shown; it is called only for blobs that
 * are sent (not present, not mounted).
 */
struct cd_xfer_show {
	void *(*start)(const char *repo, const struct cd_xfer_blob *b);
	void (*update)(void *bar, long long sent, long long total);
	void (*end)(void *bar, int ok);
};

struct cd_xfer_opts {
	long long chunk_size;        /* > 0: upload in PATCH chunks of this size */
	int parallel;                /* blobs at once (>= 1) */
	const struct cd_xfer_show *show; /* NULL: not shown */
};

/*
 * Put n blobs into dst/repo, at most o->parallel at once.  0, or -1 with
 * cd_seterr() naming the first blob that failed (the others are still
 * finished or abandoned cleanly).
 */
int cd_xfer_blobs(struct cd_registry *dst, const char *repo, const struct cd_xfer_blob *b,
		  size_t n, const struct cd_xfer_opts *o);

/*
 * Copy image manifest src_repo@digest (not an index) with its config and
 * layers from src to dst/repo, the manifest last and by digest; mount_from
 * as in struct cd_xfer_blob.  desc gets the manifest's descriptor.
 * Does nothing but a HEAD when dst already has the manifest.
 */
int cd_xfer_image(struct cd_registry *dst, const char *repo, struct cd_registry *src,
		  const char *src_repo, const char *digest, const char *mount_from,
		  const struct cd_xfer_opts *o, struct cd_descriptor *desc);

/*
 * The layers and config of an image manifest body as blob descriptors
 * (digest and size; the other fields zeroed).  *n at most max.
 * 0, or -1 when the body is not an image manifest.
 */
int cd_xfer_manifest_blobs(const char *body, size_t len, struct cd_xfer_blob *out,
			   size_t max, size_t *n);

/* "sent 3 blobs (512.0 MiB), skipped 2 present, mounted 1": the summary, into buf. */
void cd_xfer_summary(const char *verb, char *buf, size_t n);

#endif
