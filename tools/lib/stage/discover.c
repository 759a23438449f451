/* cd-discover's work (discover.h). */
#include <stddef.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "stage/discover.h"
#include "upstream/catalog-run.h"
#include "upstream/catalog.h"
#include "core/banned.h"

struct out {
	struct cd_pool_stats st;
	size_t carried; /* records with architectures carried over */
	int broken;     /* stdout failed: write nothing more */
};

/* Each carried architecture, one line on stderr: the run is not all fine. */
static void report_carried(jv rec, struct out *o)
{
	jv c = jv_object_get(jv_copy(rec), jv_string("carried"));

	if (jv_get_kind(c) == JV_KIND_ARRAY && jv_array_length(jv_copy(c)) > 0) {
		char *id = cd_record_id(rec);
		o->carried++;
		jv_array_foreach(c, i, e) {
			cd_error("%s %s: carried over: %s", id, cd_jv_str(e, "arch") ? cd_jv_str(e, "arch") : "?",
				 cd_jv_str(e, "reason") ? cd_jv_str(e, "reason") : "");
			jv_free(e);
		}
		free(id);
	}
	jv_free(c);
}

static void note(int warning, const char *msg, void *ctx)
{
	(void)ctx;
	if (warning)
		cd_warn("%s", msg);
	else if (cd_verbosity() >= 2)
		cd_info("%s", msg);
}

static void emit(jv rec, void *ctx)
{
	struct out *o = ctx;
	if (o->broken) {
		jv_free(rec);
		return;
	}
	report_carried(rec, o);
	if (cd_pool_emit(rec, &o->st) < 0) {
		cd_error("%s", cd_errmsg());
		o->broken = 1;
	}
}

int cd_discover_run(const char *path, const char *const *focus, size_t nfocus)
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
	if (cd_catalog_discover(&cat, focus, nfocus, emit, note, &out, &failed) < 0) {
		cd_error("%s", cd_errmsg());
		ret = CD_EXIT_USAGE;
	} else {
		ret = out.st.failed || out.carried ? CD_EXIT_FAIL : CD_EXIT_OK;
		if (out.st.failed && !out.broken)
			cd_error("%lu image%s failed", out.st.failed, out.st.failed == 1 ? "" : "s");
		if (out.carried && !out.broken)
			cd_error("%lu image%s carried architectures over", (unsigned long)out.carried,
				 out.carried == 1 ? "" : "s");
	}
	if (!out.broken && cd_record_flush() < 0) {
		cd_error("%s", cd_errmsg());
		out.broken = 1;
	}
	cd_catalog_release(&cat);
	return out.broken ? CD_EXIT_IO : ret;
}
