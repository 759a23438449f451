/* cd-discover's work (discover.h). */
#include <stddef.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/msg.h"
#include "stage/discover.h"
#include "upstream/catalog-run.h"
#include "upstream/catalog.h"
#include "core/banned.h"

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

int cd_discover_run(const char *path, char **focus, size_t nfocus)
{
	struct cd_catalog cat;
	struct out out = { 0 };
	size_t failed = 0;
	int ret = cd_catalog_load(&cat, path);

	if (ret < 0 || cd_catalog_focus(&cat, focus, nfocus) < 0) {
		cd_catalog_release(&cat);
		if (ret != CD_CATALOG_UNREADABLE)
			return -1;
		cd_error("%s", cd_errmsg());
		return CD_EXIT_IO;
	}
	if (cd_catalog_discover(&cat, focus, nfocus, emit, &out, &failed) < 0) {
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
	cd_catalog_release(&cat);
	return out.broken ? CD_EXIT_IO : ret;
}
