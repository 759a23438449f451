#ifndef CD_CATALOG_H
#define CD_CATALOG_H
/*
 * The catalog: which containerdisks exist and how to find their latest
 * upstream release.  Data, not C: one JSON file per distribution
 * (pipelines/catalog/<name>.json), read here, its jq programs run by libjq.
 *
 * A catalog file holds "name", "user", "preference", "arches" (our arch
 * name -> upstream arch name, or an object of overrides holding "arch"),
 * and either
 *   "images": [{"version": ...}, ...] with "source" (a URL template),
 *             "format" ("checksums" or "json") and "pick" (a jq program
 *             run once per image and arch on what "source" holds); or
 *   "releases": {"source", "format", "program"}: one fetch whose program
 *             lists every release (Fedora's releases.json).
 * Image entries override file keys; arch objects override both.  Every
 * string key is a template variable: "{version}", "{arch}" (upstream),
 * "{cdarch}", "{name}" ... in "source", and $version, $arch, $cdarch,
 * $source, $base (source up to its last '/') ... in the jq programs.
 * pipelines/catalog/README.md documents the format.
 *
 * Each distinct program is compiled once at load (a jq syntax error names
 * the file) and shared; the $-variables are bound when it runs.
 *
 * Loading and checking a catalog is this module's; fetching the upstream
 * files and making records is catalog-run.h's.
 */
#include <stddef.h>
#include <jq.h>
#include <jv.h>

/* One upstream file to fetch and the program to run on it. */
struct cd_catalog_job {
	char *cdarch;   /* NULL for a "releases" job */
	char *url;      /* the upstream file (template expanded) */
	int json;       /* format "json"; else "checksums" */
	jv vars;        /* $-variables of the program (owned) */
	jq_state *jq;
	size_t fetch;   /* index into the run's fetch table */
};

struct cd_catalog_image {
	char *file;               /* catalog file it came from (messages) */
	char *name;
	char *version;            /* NULL for a "releases" entry until fetched */
	jv ctx;                   /* merged file + image keys (owned) */
	struct cd_catalog_job *jobs; /* one per arch; one for a "releases" entry */
	size_t njobs;
	int releases;             /* a "releases" entry */
	int wanted;               /* selected by the focus */
};

struct cd_catalog_program;

struct cd_catalog {
	struct cd_catalog_image *v;
	size_t n;
	struct cd_catalog_program *progs; /* compiled jq programs, shared by jobs */
	size_t nprogs;
};

/*
 * Load a catalog file, or every *.json of a folder (sorted by name).
 * Validates each file and compiles its jq programs: -1 and cd_seterr()
 * naming the file (and jq's message) on the first problem;
 * CD_CATALOG_UNREADABLE and cd_seterr() when a file or the folder could
 * not be opened or read (the tool's input is lost, not wrong).
 */
#define CD_CATALOG_UNREADABLE (-2)
int cd_catalog_load(struct cd_catalog *c, const char *path);
void cd_catalog_release(struct cd_catalog *c);

/*
 * Select images by focus ("name:version" or "name:*", core/record.h; none = all).
 * -1 and cd_seterr() when a focus is malformed or names no catalog entry.
 * Versions of "releases" entries are only known after fetching: those
 * are checked by cd_catalog_discover.
 */
int cd_catalog_focus(struct cd_catalog *c, const char *const *focus, size_t nfocus);

/*
 * Functions every program may call (pipelines/catalog/README.md):
 *   keep(cond; why)  the input if cond holds, else nothing, and the entry
 *                    dropped is named with -v (why it was dropped);
 *   drop(why)        nothing, and the same note;
 *   warn(why)        nothing, and a warning on stderr (a release version
 *                    the program cannot parse).
 * They reach catalog-run.c through jq's debug callback.
 */
#define CD_CATALOG_PRELUDE \
	"def drop($why): ({\"cdkit_dropped\": $why, \"entry\": .} | debug | empty); " \
	"def keep(cond; $why): if cond then . else drop($why) end; " \
	"def warn($why): ({\"cdkit_warning\": $why} | debug | empty); "

/* For catalog-run.c, which fetches and runs what the catalog says. */

/* The upstream arch entry for cdarch in ctx (borrowed): an object holding "arch"; jv_invalid() if none. */
jv cd_catalog_arch(jv ctx, const char *cdarch);

#endif
