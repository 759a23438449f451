/*
 * cd-discover: find the latest upstream release of every containerdisk in
 * the catalog and write one record per image (name:version, all arches).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/datadir.h"
#include "core/error.h"
#include "core/msg.h"
#include "stage/discover.h"
#include "stage/opts.h"
#include "core/banned.h"

enum { OPT_CATALOG = CD_OPT_TOOL, OPT_FOCUS };

static void usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
		"usage: cd-discover [--catalog PATH] [--focus NAME:VERSION]... [options]\n"
		"\n"
		"Find the latest upstream release of every image of the catalog and write\n"
		"one NDJSON record per image (name:version, all architectures) on stdout.\n"
		"Reads no input.  An architecture whose upstream cannot be read is carried\n"
		"over (\"carried\"), the others still discovered.  Exit 0 all fine, 1 an\n"
		"image failed (its record carries \"error\") or carried an architecture,\n"
		"2 usage error or a malformed catalog, 4 the catalog cannot be read or\n"
		"stdout cannot be written.  -v names the upstream entries the catalog's\n"
		"programs dropped.\n"
		"\n"
		"      --catalog PATH       a catalog file or folder of *.json (default: the\n"
		"                           catalog installed beside this binary, else\n"
		"                           DATADIR's, else the source tree's)\n"
		"      --focus NAME:VERSION only this image (repeatable); NAME:* for every\n"
		"                           version of NAME\n"
		CD_HELP_HTTP CD_HELP_BASE);
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "catalog", required_argument, NULL, OPT_CATALOG },
		{ "focus", required_argument, NULL, OPT_FOCUS },
		CD_OPTS_BASE, CD_OPTS_HTTP, { 0 }
	};
	const char **focus = NULL;
	char *catalog = NULL;
	size_t nfocus = 0;
	int c;

	cd_msg_init(argv[0]);
	while ((c = cd_getopt(argc, argv, "hqv", longopts)) != -1) {
		switch (c) {
		case OPT_CATALOG:
			free(catalog);
			catalog = cd_xstrdup(optarg);
			break;
		case OPT_FOCUS:
			focus = cd_xrealloc(focus, (nfocus + 1) * sizeof(*focus));
			focus[nfocus++] = optarg;
			break;
		default:
			if (!cd_opts_common(c, optarg, usage))
				usage(CD_EXIT_USAGE);
		}
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	if (!catalog)
		catalog = cd_datadir_path("catalog");
	cd_opts_finish();

	int status = cd_discover_run(catalog, focus, nfocus);
	if (status < 0)
		cd_usage_error("%s", cd_errmsg());
	free(focus);
	free(catalog);
	cd_opts_release();
	return status;
}
