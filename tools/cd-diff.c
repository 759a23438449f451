/* cd-diff: decide which records must be rebuilt.  No network. */
#include <stdio.h>
#include <stdlib.h>

#include "core/loop.h"
#include "core/msg.h"
#include "stage/diff.h"
#include "stage/opts.h"
#include "core/banned.h"

enum { OPT_FORCE = CD_OPT_TOOL };

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-diff [--force] < records.ndjson > records.ndjson\n"
		"\n"
		"Compare each record's upstream checksums with what cd-current found\n"
		"published, and add \"action\" (\"build\" or \"skip\"), a human \"reason\", and\n"
		"\"changed\" (the architectures missing or with another checksum).\n"
		"Records that carry \"error\" pass through untouched.\n"
		"\n"
		"      --force              build every record, changed or not\n"
		CD_HELP_BASE
		"\n"
		"exit status: 0 fine, 1 some records failed (they carry \"error\"),\n"
		"2 usage error, 3 malformed input lines, 4 stdin unreadable or stdout unwritable\n");
	exit(status);
}

static jv diff_one(jv rec, void *arg)
{
	return cd_diff_record(rec, *(int *)arg);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		CD_OPTS_BASE, { 0 }
	};
	int opt, force = 0;

	cd_msg_init(argv[0]);
	while ((opt = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (opt == OPT_FORCE)
			force = 1;
		else if (!cd_opts_common(opt, optarg, usage))
			usage(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);

	return cd_pool_main(1, CD_POOL_PASS_ERRORS, diff_one, &force);
}
