/*
 * cd-docs: each repository's description (Markdown: virtctl examples, an
 * example VirtualMachine), written to a folder and/or published on Quay.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/datadir.h"
#include "core/msg.h"
#include "stage/docs.h"
#include "stage/opts.h"
#include "core/banned.h"

enum {
	OPT_REGISTRY = CD_OPT_TOOL, OPT_OUTPUT, OPT_CATALOG, OPT_TEMPLATES, OPT_QUAY_API,
	OPT_TOKEN_FILE, OPT_FOCUS,
};

static void usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
		"usage: cd-docs [--registry quay.io/ORG] [--output DIR] [--quay-token-file FILE\n"
		"               --dry-run=false] [options] < records.ndjson > records.ndjson\n"
		"\n"
		"Write each repository's description (Markdown: the default user, virtctl\n"
		"examples, an example VirtualMachine) and publish it on Quay as medius's\n"
		"'docs publish' does: PUT /repository/ORG/NAME, then make it public.  A\n"
		"repository's description is its newest stable record marked \"docs\".\n"
		"Those records get \"described\"; the others pass through untouched.\n"
		"\n"
		"      --registry HOST/ORG  where the images are (default quay.io/containerdisks)\n"
		"      --output DIR         write DIR/NAME.md for each repository\n"
		CD_HELP_DRY_RUN
		"      --quay-token-file FILE  the Quay OAuth token, one line (needed to send)\n"
		"      --quay-api URL       Quay's API (default https://quay.io/api/v1)\n"
		"      --focus NAME:VERSION only this image (repeatable); NAME:* for every\n"
		"                           version of NAME\n"
		"      --catalog PATH       the catalog, for its \"secureboot\" (default: the\n"
		"                           catalog installed beside this binary, else\n"
		"                           DATADIR's, else the source tree's)\n"
		"      --templates DIR      description.jq, NAME.jq, NAME.md (default: the\n"
		"                           catalog's docs/ folder)\n"
		CD_HELP_NET CD_HELP_BASE
		"\n"
		"exit status: 0 fine, 1 some repositories failed (their records carry\n"
		"\"error\"), 2 usage error, 3 malformed input lines, 4 stdin unreadable or\n"
		"stdout unwritable\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "registry", required_argument, NULL, OPT_REGISTRY },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "catalog", required_argument, NULL, OPT_CATALOG },
		{ "templates", required_argument, NULL, OPT_TEMPLATES },
		{ "quay-api", required_argument, NULL, OPT_QUAY_API },
		{ "quay-token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "focus", required_argument, NULL, OPT_FOCUS },
		CD_OPTS_DRY_RUN, CD_OPTS_BASE, CD_OPTS_NET, { 0 }
	};
	struct cd_docs_opts o = {
		.registry = "quay.io/containerdisks",
		.api = "https://quay.io/api/v1",
	};
	char *catalog = NULL, *templates = NULL;
	int c, status;

	cd_msg_init(argv[0]);
	while ((c = cd_getopt(argc, argv, "hqv", longopts)) != -1) {
		switch (c) {
		case OPT_REGISTRY: o.registry = optarg; break;
		case OPT_OUTPUT: o.output = optarg; break;
		case OPT_CATALOG: o.catalog = optarg; break;
		case OPT_TEMPLATES: o.templates = optarg; break;
		case OPT_QUAY_API: o.api = optarg; break;
		case OPT_TOKEN_FILE: o.token_file = optarg; break;
		case OPT_FOCUS:
			o.focus = cd_xrealloc(o.focus, (o.nfocus + 1) * sizeof(*o.focus));
			o.focus[o.nfocus++] = optarg;
			break;
		default:
			if (!cd_opts_common(c, optarg, usage))
				usage(CD_EXIT_USAGE);
		}
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	o.dry_run = cd_opts.dry_run;
	if (!o.dry_run && !o.token_file)
		cd_usage_error("--dry-run=false needs --quay-token-file");
	if (!o.catalog)
		o.catalog = catalog = cd_datadir_path("catalog");
	if (!o.templates)
		o.templates = templates = cd_xasprintf("%s/docs", o.catalog);
	cd_opts_finish();

	status = cd_docs_run(&o);
	free(o.focus);
	free(catalog);
	free(templates);
	cd_opts_release();
	return status;
}
