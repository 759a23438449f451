/* cd-diff: decide which records must be rebuilt.  No network. */
#include <stdio.h>
#include <stdlib.h>

#include "core/loop.h"
#include "core/msg.h"
#include "stage/diff.h"
#include "stage/opts.h"
#include "core/banned.h"

enum { OPT_FORCE = CD_OPT_TOOL, OPT_ALLOW_ARCH_REMOVAL };

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-diff [--force] [--allow-arch-removal] < records.ndjson > records.ndjson\n"
		"\n"
		"Compare each record's upstream checksums with what cd-current found\n"
		"published, and add \"action\" (\"build\" or \"skip\"), a human \"reason\", and\n"
		"\"changed\" (the architectures missing or with another checksum).  An\n"
		"artifact without an upstream checksum is compared by its HTTP validators\n"
		"(\"http\") with the image's.  An architecture the registry serves that\n"
		"upstream no longer lists is kept (added to \"carried\"; the exit status is\n"
		"then 1 so that CI shows it).\n"
		"Records that carry \"error\" pass through untouched.\n"
		"\n"
		"      --force              build every record, changed or not\n"
		"      --allow-arch-removal rebuild without an architecture upstream no longer lists\n"
		CD_HELP_BASE
		"\n"
		"exit status: 0 fine, 1 some records failed (they carry \"error\") or got\n"
		"architectures carried because upstream no longer lists them,\n"
		"2 usage error, 3 malformed input lines, 4 stdin unreadable or stdout unwritable\n");
	exit(status);
}

struct run {
	struct cd_diff_opts o;
	unsigned long carried;   /* records this run added carried arches to (one worker) */
};

static jv diff_one(jv rec, void *arg)
{
	struct run *run = arg;
	int before = cd_diff_carried(rec);
	rec = cd_diff_record(rec, &run->o);
	if (cd_diff_carried(rec) > before)
		run->carried++;
	return rec;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "allow-arch-removal", no_argument, NULL, OPT_ALLOW_ARCH_REMOVAL },
		CD_OPTS_BASE, { 0 }
	};
	int opt;
	struct run run = { { 0, 0 }, 0 };

	cd_msg_init(argv[0]);
	while ((opt = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (opt == OPT_FORCE)
			run.o.force = 1;
		else if (opt == OPT_ALLOW_ARCH_REMOVAL)
			run.o.allow_arch_removal = 1;
		else if (!cd_opts_common(opt, optarg, usage))
			usage(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);

	int status = cd_pool_main(1, CD_POOL_PASS_ERRORS, diff_one, &run);
	if (status == 0 && run.carried) {
		cd_warn("%lu image%s kept an architecture upstream no longer lists (\"carried\"; --allow-arch-removal drops it)",
			run.carried, run.carried == 1 ? "" : "s");
		status = 1;
	}
	return status;
}
