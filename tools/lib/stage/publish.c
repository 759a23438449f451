/* The command line cd-push and cd-promote share (publish.h). */
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "core/loop.h"
#include "core/error.h"
#include "core/msg.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/transfer.h"
#include "stage/opts.h"
#include "stage/publish.h"
#include "stage/push.h"
#include "core/banned.h"

void cd_publish_cli_init(struct cd_publish_cli *c)
{
	memset(c, 0, sizeof(*c));
	c->o.dry_run = 1;
	c->o.xfer.parallel = 4;
}

int cd_publish_option(struct cd_publish_cli *c, int opt, const char *arg)
{
	switch (opt) {
	case CD_OPT_TARGET_REGISTRY:
		c->target = arg;
		return 1;
	case CD_OPT_SOURCE_REGISTRY:
		c->source = arg;
		return 1;
	case CD_OPT_DRY_RUN:
		c->o.dry_run = arg ? cd_opt_bool("dry-run", arg) : 1;
		return 1;
	case CD_OPT_CHUNK_SIZE:
		c->o.xfer.chunk_size = cd_opt_long("chunk-size", arg, 1, 1L << 40);
		return 1;
	case CD_OPT_PARALLEL:
		c->o.xfer.parallel = (int)cd_opt_long("parallel", arg, 1, 16);
		return 1;
	default:
		return 0;
	}
}

int cd_publish_main(struct cd_publish_cli *c, cd_pool_fn fn, const char *verb)
{
	struct cd_publish *o = &c->o;
	cd_opts_finish();
	o->dst = cd_opts_registry(c->target, "--target-registry", &c->dst_prefix);
	o->dst_prefix = c->dst_prefix;
	o->src = o->dst;
	if (c->source) {
		o->src = cd_opts_registry(c->source, "--source-registry", &c->src_prefix);
		if (!strcmp(cd_registry_host(o->src), cd_registry_host(o->dst))) {
			cd_registry_free(o->src); /* one client, so blobs can be mounted */
			o->src = o->dst;
		}
	}
	o->src_prefix = c->src_prefix ? c->src_prefix : c->dst_prefix;
	cd_push_stamp((long long)time(NULL), c->stamp);
	o->stamp = c->stamp;

	int status = cd_pool_main(cd_opts.workers, CD_POOL_PASS_ERRORS, fn, o);
	char summary[160];
	cd_xfer_summary(verb, summary, sizeof(summary));
	cd_info("%s%s", summary, o->dry_run ? " (dry run: nothing sent)" : "");
	if (o->src != o->dst)
		cd_registry_free(o->src);
	cd_registry_free(o->dst);
	free(c->dst_prefix);
	free(c->src_prefix);
	cd_opts_release();
	return status;
}

int cd_publish_tag(struct cd_registry *dst, const char *repo, jv rec, const char *tag,
		   const struct cd_descriptor *top, const char *body, size_t len, jv *sent, jv *held)
{
	if (cd_push_tag_is_unique(rec, tag)) {
		struct cd_descriptor have;
		if (cd_registry_manifest_head(dst, repo, tag, &have) == 0) {
			if (!strcmp(have.digest, top->digest)) {
				*sent = jv_array_append(*sent, jv_string(tag));
				return 0;
			}
			*held = jv_array_append(*held, JV_OBJECT(jv_string("tag"), jv_string(tag),
								 jv_string("digest"), jv_string(have.digest)));
			cd_warn("%s/%s:%s names %s, not %s: a unique tag is not moved (left where it is)",
				cd_registry_host(dst), repo, tag, have.digest, top->digest);
			return 0;
		}
		if (cd_errkind() != CD_ERR_NOT_FOUND)
			return cd_adderr("tag '%s'", tag);
	}
	if (cd_registry_manifest_put(dst, repo, tag, top->media_type, body, len, NULL) < 0)
		return cd_adderr("tag '%s'", tag);
	*sent = jv_array_append(*sent, jv_string(tag));
	return 0;
}
