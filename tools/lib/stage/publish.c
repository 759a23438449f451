/* The command line cd-push and cd-promote share (publish.h). */
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/error.h"
#include "core/msg.h"
#include "core/progress.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/transfer.h"
#include "stage/opts.h"
#include "stage/publish.h"
#include "stage/push.h"
#include "core/banned.h"

long cd_publish_unpushed;

/* Blobs this big get a progress bar (a config or a small layer would only be noise). */
#define SHOW_MIN (1LL << 20)

static void *show_start(const char *repo, const struct cd_xfer_blob *b)
{
	char label[256];
	if (b->size < SHOW_MIN)
		return NULL;
	/* "containerdisks/fedora sha256:0123456789ab" */
	cd_snprintf_cut(label, sizeof(label), "%s %.19s", repo, b->digest);
	return cd_progress_start(label, b->size);
}

static void show_update(void *bar, long long sent, long long total)
{
	cd_progress_update(bar, sent, total);
}

static void show_end(void *bar, int ok)
{
	if (ok)
		cd_progress_done(bar, "sent");
	else
		cd_progress_abort(bar);
}

static const struct cd_xfer_show publish_show = { show_start, show_update, show_end };

static void cli_init(struct cd_publish_cli *c)
{
	memset(c, 0, sizeof(*c));
	c->o.xfer.parallel = 4;
	c->o.xfer.show = &publish_show;
}

static int cli_option(struct cd_publish_cli *c, int opt, const char *arg)
{
	switch (opt) {
	case CD_OPT_TARGET_REGISTRY:
		c->target = arg;
		return 1;
	case CD_OPT_SOURCE_REGISTRY:
		c->source = arg;
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

void cd_publish_parse(struct cd_publish_cli *c, int argc, char **argv, void (*usage)(int status))
{
	static const struct option longopts[] = {
		CD_OPTS_PUBLISH, CD_OPTS_BASE, CD_OPTS_FOCUS, CD_OPTS_WORKERS, CD_OPTS_REGISTRY,
		CD_OPTS_REGISTRY_SIDES, CD_OPTS_NET,
		{ 0 }
	};
	int opt;

	cli_init(c);
	while ((opt = cd_getopt(argc, argv, "hqvj:", longopts)) != -1)
		if (!cli_option(c, opt, optarg) && !cd_opts_common(opt, optarg, usage))
			usage(CD_EXIT_USAGE);
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	c->o.dry_run = cd_opts.dry_run;
}

int cd_publish_main(struct cd_publish_cli *c, cd_pool_fn fn, const char *verb)
{
	struct cd_publish *o = &c->o;
	cd_opts_finish();
	o->dst = cd_opts_registry_side(c->target, "--target-registry", CD_SIDE_DST, &c->dst_prefix);
	o->dst_prefix = c->dst_prefix;
	o->src = o->dst;
	if (c->source) {
		o->src = cd_opts_registry_side(c->source, "--source-registry", CD_SIDE_SRC, &c->src_prefix);
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
	if (cd_publish_unpushed)
		cd_info("%ld record%s never pushed (cd-push ran as a dry run?): nothing to %s for %s",
			cd_publish_unpushed, cd_publish_unpushed == 1 ? " was" : "s were", "promote",
			cd_publish_unpushed == 1 ? "it" : "them");
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
