/* cd-push: upload each built record's image layout to the target registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/loop.h"
#include "core/msg.h"
#include "registry/client.h"
#include "registry/transfer.h"
#include "stage/opts.h"
#include "stage/push.h"
#include "core/banned.h"

enum { OPT_TARGET = CD_OPT_TOOL, OPT_SOURCE };

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-push --target-registry REGISTRY/ORG [options] < records.ndjson > records.ndjson\n"
		"\n"
		"Push the OCI image layout of each built record (\"layout\", from cd-build) to\n"
		"REGISTRY/ORG/<name>: blobs (skipping those present, mounting those the source\n"
		"repository has), the manifests and the index by digest, then the tags\n"
		"<version>-<YYMMDDhhmm>, the record's \"tags\", <version>, and \"latest\" when the\n"
		"record says so.  Adds \"pushed\": {\"repository\", \"digest\", \"tags\"}.\n"
		"Dry run by default: says what it would push and changes nothing.\n"
		"\n"
		"      --target-registry R  registry and organisation to push to (required)\n"
		"      --source-registry R  where the record's \"published\" images are, for\n"
		"                           arches not rebuilt (default: the target)\n"
		CD_HELP_XFER
		CD_HELP_WORKERS
		CD_HELP_REGISTRY
		CD_HELP_NET
		CD_HELP_BASE
		"\n"
		"At the end one line on stderr: \"pushed N blobs (X MiB), skipped M present,\n"
		"mounted K\".\n"
		"\n"
		"exit status: 0 all records pushed or passed, 1 some failed (they carry\n"
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
	char stamp[11];
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
	if (!target)
		cd_usage_error("--target-registry is required");
	cd_opts_finish();

	char *dst_prefix, *src_prefix = NULL;
	o.dst = cd_opts_registry(target, "--target-registry", &dst_prefix);
	o.dst_prefix = dst_prefix;
	if (source) {
		o.src = cd_opts_registry(source, "--source-registry", &src_prefix);
		if (!strcmp(cd_registry_host(o.src), cd_registry_host(o.dst))) {
			cd_registry_free(o.src); /* one client, so blobs can be mounted */
			o.src = NULL;
		}
	}
	o.src_prefix = src_prefix ? src_prefix : dst_prefix;
	cd_push_stamp((long long)time(NULL), stamp);
	o.stamp = stamp;

	int status = cd_pool_main(cd_opts.workers, CD_POOL_PASS_ERRORS, cd_push_record, &o);
	char summary[160];
	cd_xfer_summary("pushed", summary, sizeof(summary));
	cd_info("%s%s", summary, o.dry_run ? " (dry run: nothing sent)" : "");
	cd_registry_free(o.dst);
	if (o.src)
		cd_registry_free(o.src);
	free(dst_prefix);
	free(src_prefix);
	cd_opts_release();
	return status;
}
