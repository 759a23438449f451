/*
 * cd-discover: find the latest upstream release of every containerdisk in
 * the catalog and write one record per image (name:version, all arches).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/msg.h"
#include "stage/opts.h"
#include "upstream/catalog-run.h"
#include "upstream/catalog.h"
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
		"Reads no input.  Exit 0 all fine, 1 an image failed (its record carries\n"
		"\"error\"), 2 usage error or a malformed catalog, 4 the catalog cannot be\n"
		"read or stdout cannot be written.\n"
		"\n"
		"      --catalog PATH       a catalog file or folder of *.json (default: the\n"
		"                           installed catalog, else pipelines/catalog of the\n"
		"                           source tree this binary was built in)\n"
		"      --focus NAME:VERSION only this image (repeatable); NAME:* for every\n"
		"                           version of NAME\n"
		CD_HELP_HTTP CD_HELP_BASE);
	exit(status);
}

static int is_dir(const char *p)
{
	struct stat st;
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* The installed catalog, else the one of the source tree next to bin/. */
static char *default_catalog(void)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (is_dir(CD_DATADIR "/catalog"))
		return cd_xstrdup(CD_DATADIR "/catalog");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/'))) {
			char *p;
			*slash = '\0';
			p = cd_xasprintf("%s/../pipelines/catalog", exe);
			if (is_dir(p))
				return p;
			free(p);
		}
	}
	return cd_xstrdup(CD_DATADIR "/catalog");
}

struct out {
	struct cd_pool_stats st;
	int broken;     /* stdout failed: write nothing more */
};

static void emit(jv rec, void *ctx)
{
	struct out *o = ctx;
	if (o->broken) {
		jv_free(rec);
		return;
	}
	if (cd_pool_emit(rec, &o->st) < 0) {
		cd_error("%s", cd_errmsg());
		o->broken = 1;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "catalog", required_argument, NULL, OPT_CATALOG },
		{ "focus", required_argument, NULL, OPT_FOCUS },
		CD_OPTS_BASE, CD_OPTS_HTTP, { 0 }
	};
	struct cd_catalog cat;
	struct out out = { 0 };
	char **focus = NULL, *catalog = NULL;
	size_t nfocus = 0, failed = 0, i;
	int c, ret;

	cd_msg_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
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
		catalog = default_catalog();
	cd_opts_finish();

	if ((ret = cd_catalog_load(&cat, catalog)) < 0) {
		if (ret != CD_CATALOG_UNREADABLE)
			cd_usage_error("%s", cd_errmsg());
		cd_error("%s", cd_errmsg());
		cd_catalog_release(&cat);
		free(focus);
		free(catalog);
		cd_opts_release();
		return CD_EXIT_IO;
	}
	if (cd_catalog_focus(&cat, focus, nfocus) < 0)
		cd_usage_error("%s", cd_errmsg());
	ret = cd_catalog_discover(&cat, focus, nfocus, emit, &out, &failed);
	if (ret < 0) {
		cd_error("%s", cd_errmsg());
		ret = CD_EXIT_USAGE;
	} else {
		ret = out.st.failed ? CD_EXIT_FAIL : CD_EXIT_OK;
		if (out.st.failed && !out.broken)
			cd_error("%lu image%s failed", out.st.failed, out.st.failed == 1 ? "" : "s");
	}
	if (!out.broken && cd_record_flush() < 0) {
		cd_error("%s", cd_errmsg());
		out.broken = 1;
	}
	if (out.broken)
		ret = CD_EXIT_IO;
	cd_catalog_release(&cat);
	for (i = 0; i < nfocus; i++)
		focus[i] = NULL;
	free(focus);
	free(catalog);
	cd_opts_release();
	return ret;
}
