/* cd-build: turn records into containerdisk images (OCI image layouts). */
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/msg.h"
#include "stage/build.h"
#include "stage/opts.h"
#include "core/banned.h"

enum { OPT_OUTPUT = CD_OPT_TOOL, OPT_CACHE, OPT_OCI, OPT_COMPRESSION, OPT_NO_ANNOTATIONS };

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
		"      --no-annotations     no cdkit annotations on the manifests and the list (for a\n"
		"                           registry that refuses them; cd-current then reads the configs)\n"
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
	{ "no-annotations", no_argument, NULL, OPT_NO_ANNOTATIONS },
	CD_OPTS_WORKERS, CD_OPTS_HTTP, CD_OPTS_BASE, { 0 },
};

int main(int argc, char **argv)
{
	struct cd_build_cli cli = { .output = "containerdisks" };
	struct cd_build_run b;
	int opt;

	cd_msg_init(argv[0]);
	while ((opt = getopt_long(argc, argv, "o:j:qvh", longopts, NULL)) != -1) {
		if (cd_opts_common(opt, optarg, usage))
			continue;
		switch (opt) {
		case 'o':
		case OPT_OUTPUT:
			cli.output = optarg;
			break;
		case OPT_CACHE:
			cli.cache = optarg;
			break;
		case OPT_OCI:
			cli.oci = 1;
			break;
		case OPT_NO_ANNOTATIONS:
			cli.no_annotations = 1;
			break;
		case OPT_COMPRESSION:
			if (!cd_build_compression_known(optarg))
				cd_usage_error("invalid value '%s' for --compression: expected gzip, zstd or none", optarg);
			cli.compression = optarg;
			break;
		default:
			usage(CD_EXIT_USAGE);
		}
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	if (cd_build_open(&b, &cli) < 0)
		cd_usage_error("%s", cd_errmsg());
	cd_opts_finish();

	int status = cd_pool_main(cd_opts.workers, CD_POOL_PASS_ERRORS, cd_build_record, &b.o);
	cd_build_close(&b);
	cd_opts_release();
	return status;
}
