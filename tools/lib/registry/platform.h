#ifndef CD_PLATFORM_H
#define CD_PLATFORM_H
/*
 * The image of one platform, linux/<arch>, of what a tag or digest names
 * in a registry: its manifest and its config.  What cd-current reads.
 */
#include <jv.h>

#include "core/digest.h"
#include "registry/client.h"
#include "registry/manifest.h"

/* One architecture's image: its manifest and parsed config. */
struct cd_image {
	struct cd_manifest manifest;   /* the image manifest (not the index) */
	char config_digest[CD_DIGEST_MAX];
	jv config;                     /* the config blob, parsed; owned (jv_invalid() when none) */
};
void cd_image_init(struct cd_image *img);
void cd_image_release(struct cd_image *img);

/*
 * The linux/<arch> image of top (a manifest fetched from repo): through
 * the index or list when top is one (first entry whose platform matches),
 * else top itself when its config's architecture is arch.
 * 1 found, 0 arch not in it (not an error; kind CD_ERR_NOT_FOUND), -1 error.
 */
int cd_registry_image_for_arch(struct cd_registry *r, const char *repo,
			       const struct cd_manifest *top, const char *arch,
			       struct cd_image *out);

#endif
