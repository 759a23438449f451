#ifndef CD_MANIFEST_H
#define CD_MANIFEST_H
/*
 * Manifests in a registry: read (GET, HEAD), written (PUT), deleted, and
 * the parts of their bodies the tools read (pure: fuzzed and unit-tested).
 * Errors as client.h says.
 */
#include <stddef.h>
#include <jv.h>

#include "core/digest.h"
#include "core/limits.h"
#include "registry/client.h"

/* A manifest as served: the exact bytes (the digest is over them). */
struct cd_manifest {
	char *body;                          /* NUL-terminated, owned */
	size_t len;
	char media_type[CD_MEDIA_TYPE_MAX];  /* Content-Type, else the body's mediaType */
	char digest[CD_DIGEST_MAX];          /* sha256 (or the algorithm asked for) of body */
};
void cd_manifest_release(struct cd_manifest *m);

struct cd_descriptor {
	char media_type[CD_MEDIA_TYPE_MAX];
	char digest[CD_DIGEST_MAX];
	long long size;                      /* -1 when unknown (or not a byte count) */
};

/*
 * GET the manifest repo:ref (ref: a tag or a digest), accepting OCI
 * manifest, OCI index, Docker schema 2 and Docker manifest list.
 */
int cd_registry_manifest_get(struct cd_registry *r, const char *repo, const char *ref,
			     struct cd_manifest *out);
/* HEAD: media type, digest (Docker-Content-Digest) and size without the body. */
int cd_registry_manifest_head(struct cd_registry *r, const char *repo, const char *ref,
			      struct cd_descriptor *out);
/*
 * PUT body as manifest repo:ref (ref: a tag, or NULL/the digest to push by
 * digest) with the given Content-Type.  digest_out (may be NULL) gets the
 * sha256 of body; a Docker-Content-Digest answer that differs is an error.
 */
int cd_registry_manifest_put(struct cd_registry *r, const char *repo, const char *ref,
			     const char *media_type, const void *body, size_t len,
			     char digest_out[CD_DIGEST_MAX]);
/* DELETE a manifest by digest (registries refuse deletion by tag).  Tests call it. */
int cd_registry_manifest_delete(struct cd_registry *r, const char *repo, const char *digest);

/* --- bodies (pure) -------------------------------------------------------- */

/* Is this media type an index / manifest list (1) or not (0)? */
int cd_manifest_is_index(const char *media_type);
/*
 * Find the linux/<arch> entry of an index or list body: 1 found (*out
 * filled), 0 none, -1 not a valid index.
 */
int cd_manifest_index_find(const char *body, size_t len, const char *arch,
			   struct cd_descriptor *out);
/* The config descriptor of an image manifest body: 0, or -1 malformed. */
int cd_manifest_config(const char *body, size_t len, struct cd_descriptor *out);

#endif
