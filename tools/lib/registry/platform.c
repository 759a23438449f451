/* The image of one platform (platform.h). */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/oci.h"
#include "registry/blob.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/platform.h"
#include "core/banned.h"

void cd_image_init(struct cd_image *img)
{
	memset(img, 0, sizeof(*img));
	img->config = jv_invalid();
}

void cd_image_release(struct cd_image *img)
{
	cd_manifest_release(&img->manifest);
	jv_free(img->config);
	cd_image_init(img);
}

static void copy_manifest(struct cd_manifest *dst, const struct cd_manifest *src)
{
	*dst = *src;
	dst->body = cd_xmalloc(src->len + 1);
	memcpy(dst->body, src->body, src->len);
	dst->body[src->len] = '\0';
}

int cd_registry_image_for_arch(struct cd_registry *r, const char *repo,
			       const struct cd_manifest *top, const char *arch,
			       struct cd_image *out)
{
	cd_image_init(out);
	char *what = cd_xasprintf("%s/%s@%s", cd_registry_host(r), repo, top->digest);
	int index = cd_manifest_is_index(top->media_type), ret = 1;
	if (index) {
		struct cd_descriptor d;
		int f = cd_manifest_index_find(top->body, top->len, arch, &d);
		if (f < 0) {
			ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: %s", what, cd_errmsg());
		} else if (f == 0) {
			ret = 0;
			cd_seterr_kind(CD_ERR_NOT_FOUND, "%s: no image for linux/%s", what, arch);
		} else if (cd_registry_manifest_get(r, repo, d.digest, &out->manifest) < 0) {
			ret = -1;
		} else if (cd_manifest_is_index(out->manifest.media_type)) {
			ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: linux/%s entry is an index, not an image", what, arch);
		}
	} else if (!strcmp(top->media_type, CD_MT_OCI_MANIFEST) || !strcmp(top->media_type, CD_MT_DOCKER_MANIFEST)) {
		copy_manifest(&out->manifest, top);
	} else {
		ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: unsupported manifest type '%.100s'", what, top->media_type);
	}
	struct cd_descriptor cfg;
	char *body = NULL;
	size_t len = 0;
	if (ret == 1 && cd_manifest_config(out->manifest.body, out->manifest.len, &cfg) < 0)
		ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: %s", what, cd_errmsg());
	if (ret == 1 && cd_registry_blob_get_mem(r, repo, cfg.digest, CD_MANIFEST_MAX, &body, &len) < 0)
		ret = -1;
	if (ret == 1) {
		memcpy(out->config_digest, cfg.digest, sizeof(cfg.digest));
		out->config = jv_parse_sized(body, (int)len);
		if (jv_get_kind(out->config) != JV_KIND_OBJECT) {
			ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: image config %s is not a JSON object", what, cfg.digest);
		} else if (!index) {
			const char *a = cd_jv_str(out->config, "architecture");
			if (!a || strcmp(a, arch)) {
				ret = 0;
				cd_seterr_kind(CD_ERR_NOT_FOUND, "%s: single image is for '%s', not '%s'", what, a ? a : "?", arch);
			}
		}
	}
	free(body);
	if (ret != 1)
		cd_image_release(out);
	free(what);
	return ret;
}
