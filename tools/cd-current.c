/* cd-current: add what the source registry publishes for each record. */
#include <stdio.h>
#include <stdlib.h>

#include "core/loop.h"
#include "core/msg.h"
#include "stage/current.h"
#include "stage/opts.h"
#include "core/banned.h"

enum { OPT_SOURCE = CD_OPT_TOOL };

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-current [options] < records.ndjson > records.ndjson\n"
		"\n"
		"For each record, read <source-registry>/<name>:<version> and add\n"
		"\"published\": {\"<arch>\": {\"shasum\": <label>, \"digest\": <manifest>}}\n"
		"for every architecture of its artifacts that the registry has.  A missing\n"
		"repository, tag or architecture is \"not published\", not an error.\n"
		"\n"
		"      --source-registry R  registry and path to read (default quay.io/containerdisks)\n"
		CD_HELP_FOCUS
		CD_HELP_WORKERS
		CD_HELP_REGISTRY
		CD_HELP_NET
		CD_HELP_BASE
		"\n"
		CD_HELP_REGISTRY_ENV
		"\n"
		"exit status: 0 all records read, 1 some failed (they carry \"error\"),\n"
		"2 usage error, 3 malformed input lines, 4 stdin unreadable or stdout unwritable\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source-registry", required_argument, NULL, OPT_SOURCE },
		CD_OPTS_BASE, CD_OPTS_FOCUS, CD_OPTS_WORKERS, CD_OPTS_REGISTRY, CD_OPTS_NET, { 0 }
	};
	const char *source = "quay.io/containerdisks";
	int opt;

	cd_msg_init(argv[0]);
	while ((opt = cd_getopt(argc, argv, "hqvj:", longopts)) != -1) {
		if (opt == OPT_SOURCE)
			source = optarg;
		else if (!cd_opts_common(opt, optarg, usage))
			usage(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);

	struct cd_current c;
	cd_opts_finish();
	cd_current_open(&c, source);
	int status = cd_pool_main(cd_opts.workers, CD_POOL_PASS_ERRORS, cd_current_record, &c);
	cd_current_close(&c);
	cd_opts_release();
	return status;
}
