/* cd-promote: copy verified images from the staging registry to production. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/msg.h"
#include "registry/client.h"
#include "registry/transfer.h"
#include "stage/opts.h"
#include "stage/promote.h"
#include "stage/push.h"
#include "core/banned.h"

enum { OPT_TARGET = CD_OPT_TOOL, OPT_SOURCE };

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-promote --source-registry REGISTRY --target-registry REGISTRY/ORG\n"
		"                  [options] < records.ndjson > records.ndjson\n"
		"\n"
		"Copy each verified record's image (\"verified\".ok true, no \"error\") from\n"
		"\"pushed\".repository@digest to REGISTRY/ORG/<name>: blobs streamed registry to\n"
		"registry (mounted when both are one registry), the manifests, the index last,\n"
		"then every tag of \"pushed\".tags.  Adds \"promoted\": {\"repository\", \"digest\",\n"
		"\"tags\"}.  Records not verified pass through untouched: production keeps\n"
		"its previous image.  Dry run by default: says what it would copy.\n"
		"\n"
		"      --source-registry R  the staging registry cd-push wrote to (required)\n"
		"      --target-registry R  registry and organisation to promote to (required)\n"
		CD_HELP_XFER
		CD_HELP_WORKERS
		CD_HELP_REGISTRY
		CD_HELP_NET
		CD_HELP_BASE
		"\n"
		"At the end one line on stderr: \"copied N blobs (X MiB), skipped M present,\n"
		"mounted K\".\n"
		"\n"
		"exit status: 0 all records promoted or passed, 1 some failed (they carry\n"
		"\"error\"), 2 usage error, 3 malformed input lines, 4 stdin unreadable or\n"
		"stdout unwritable\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target-registry", required_argument, NULL, OPT_TARGET },
		{ "source-registry", required_argument, NULL, OPT_SOURCE },
		CD_OPTS_BASE, CD_OPTS_WORKERS, CD_OPTS_REGISTRY, CD_OPTS_NET, CD_OPTS_XFER, { 0 }
	};
	const char *target = NULL, *source = NULL;
	struct cd_push_opts o = { .dry_run = 1, .xfer = { 0, 4 } };
	int opt;

	cd_msg_init(argv[0]);
	while ((opt = getopt_long(argc, argv, "hqvj:", longopts, NULL)) != -1) {
		if (opt == OPT_TARGET)
			target = optarg;
		else if (opt == OPT_SOURCE)
			source = optarg;
		else if (!cd_opts_xfer(opt, optarg, &o.dry_run, &o.xfer.chunk_size, &o.xfer.parallel) && !cd_opts_common(opt, optarg, usage))
			usage(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	if (!target || !source)
		cd_usage_error("--source-registry and --target-registry are required");
	cd_opts_finish();

	char *dst_prefix, *src_prefix;
	o.dst = cd_opts_registry(target, "--target-registry", &dst_prefix);
	o.src = cd_opts_registry(source, "--source-registry", &src_prefix);
	if (!strcmp(cd_registry_host(o.src), cd_registry_host(o.dst))) {
		cd_registry_free(o.src); /* one client, so blobs can be mounted */
		o.src = o.dst;
	}
	o.dst_prefix = dst_prefix;
	o.src_prefix = src_prefix;

	int status = cd_pool_main(cd_opts.workers, CD_POOL_PASS_ERRORS, cd_promote_record, &o);
	char summary[160];
	cd_xfer_summary("copied", summary, sizeof(summary));
	cd_info("%s%s", summary, o.dry_run ? " (dry run: nothing sent)" : "");
	if (o.src != o.dst)
		cd_registry_free(o.src);
	cd_registry_free(o.dst);
	free(dst_prefix);
	free(src_prefix);
	cd_opts_release();
	return status;
}
