/* cd-build: turn records into containerdisk images (OCI image layouts). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/progress.h"
#include "image/layer.h"
#include "image/layout.h"
#include "stage/build.h"
#include "stage/opts.h"
#include "upstream/cache.h"
#include "core/banned.h"

enum { OPT_OUTPUT = CD_OPT_TOOL, OPT_CACHE, OPT_OCI, OPT_COMPRESSION };

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-build [options] < records.ndjson > records.ndjson\n"
		"\n"
		"Download, verify and build the containerdisk image of every record with\n"
		"\"action\":\"build\" (or no action) as an OCI image layout under --output;\n"
		"adds \"layout\", \"digest\", \"built\" and \"manifests\" to the record.\n"
		"Records with \"action\":\"skip\" or an \"error\" pass untouched.\n"
		"\n"
		"  -o, --output DIR         where the image layouts go (default ./containerdisks)\n"
		"      --cache DIR          download cache (default $XDG_CACHE_HOME/cdkit)\n"
		"      --oci                OCI media types (default: Docker schema 2, as medius)\n"
		"      --compression C      layer compression: gzip (default), zstd (--oci only), none\n"
		CD_HELP_WORKERS CD_HELP_HTTP CD_HELP_BASE
		"\n"
		"SOURCE_DATE_EPOCH, when set, becomes the image's creation time and the\n"
		"layer's file times (else none and 0): the same input gives the same digests.\n");
	exit(status);
}

static const struct option longopts[] = {
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "oci", no_argument, NULL, OPT_OCI },
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	CD_OPTS_WORKERS, CD_OPTS_HTTP, CD_OPTS_BASE, { 0 },
};

/* mkdir -p the output folder and return its absolute path. */
static char *output_dir(const char *dir)
{
	char *p = cd_xstrdup(dir), abs[PATH_MAX];
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		cd_usage_error("cannot create '%s': %s", dir, strerror(errno));
	if (!realpath(p, abs))
		cd_usage_error("cannot use '%s': %s", dir, strerror(errno));
	free(p);
	return cd_xstrdup(abs);
}

static void report_cache(const struct cd_cache *c)
{
	long long bytes;
	long files;
	char h[32];
	cd_cache_usage(c, &bytes, &files);
	cd_progress_human(bytes, h, sizeof(h));
	cd_progress_note("cache '%s': %s in %ld file%s", c->dir, h, files, files == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
	struct cd_build_opts o = { .layer = { .comp = CD_COMP_GZIP } };
	struct cd_cache cache = { 0 };
	const char *output = "containerdisks";
	char *cache_dir = NULL;
	int opt;

	cd_msg_init(argv[0]);
	while ((opt = getopt_long(argc, argv, "o:j:qvh", longopts, NULL)) != -1) {
		if (cd_opts_common(opt, optarg, usage))
			continue;
		switch (opt) {
		case 'o':
		case OPT_OUTPUT:
			output = optarg;
			break;
		case OPT_CACHE:
			free(cache_dir);
			cache_dir = cd_xstrdup(optarg);
			break;
		case OPT_OCI:
			o.image.oci = 1;
			break;
		case OPT_COMPRESSION:
			if (cd_compression_parse(optarg, &o.layer.comp) < 0)
				cd_usage_error("invalid value '%s' for --compression: expected gzip, zstd or none", optarg);
			break;
		default:
			usage(CD_EXIT_USAGE);
		}
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	if (o.layer.comp == CD_COMP_ZSTD && !o.image.oci)
		cd_usage_error("--compression zstd needs --oci (Docker schema 2 has no zstd layers)");
	o.image.comp = o.layer.comp;
	o.image.created = cd_build_source_date_epoch();
	if (o.image.created == -2)
		cd_usage_error("%s", cd_errmsg());
	o.layer.mtime = o.image.created > 0 ? o.image.created : 0;
	if (!cache_dir && !(cache_dir = cd_cache_default_dir()))
		cd_usage_error("no --cache given and neither XDG_CACHE_HOME nor HOME is set");
	if (cd_cache_open(&cache, cache_dir) < 0)
		cd_usage_error("%s", cd_errmsg());
	char *out = output_dir(output);
	cd_layout_sweep(out);
	o.output = out;
	o.cache = &cache;
	cd_opts_finish();

	int status = cd_pool_main(cd_opts.workers, CD_POOL_PASS_ERRORS, cd_build_record, &o);
	report_cache(&cache);
	cd_cache_release(&cache);
	cd_opts_release();
	free(cache_dir);
	free(out);
	return status;
}
