#ifndef CD_SHARD_H
#define CD_SHARD_H
/*
 * Shard planning: which of N parallel jobs handles each record.
 *
 * Pure functions (no I/O, no clock, no randomness, integers only), so that
 * every job of a run, on any machine, computes the same plan from the same
 * input, and so that they can be unit-tested.  Depends only on the record,
 * msg and buf modules.  The tool is shard/cd-shard.c; shard/README.md
 * states the contract (formats, variables, bounds) for users.
 *
 * Weights are unsigned integers: bytes (the sum of a record's artifact
 * sizes) or milliseconds (seconds per image from a timings file written
 * by cd-report --timings).
 */
#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "core/buf.h"

#define CD_SHARD_MAX 4096            /* largest number of shards */
#define CD_SHARD_DEFAULT_SIZE (512ull << 20) /* bytes of an artifact without "size" */
#define CD_SHARD_WEIGHT_MAX (1ull << 44)     /* one record's weight is clamped here */

enum cd_shard_strategy {
	/*
	 * Heaviest shard as close to the mean as the weights allow: LPT
	 * (longest processing time first), then a local search that moves or
	 * swaps records out of the heaviest shard while that lowers it, then,
	 * when that is not provably optimal, a branch and bound under a fixed
	 * node budget (deterministic: nodes are counted, not timed).
	 */
	CD_SHARD_BALANCED = 0,
	/*
	 * Rendezvous (highest-random-weight) hashing on name:version with
	 * bounded loads: records, heaviest first, go to their best-scoring
	 * shard whose load stays within 5/4 of the mean; when none has room,
	 * to the least loaded one.  Bound: heaviest shard <= max(1.25 * mean,
	 * mean + heaviest record).  Adding or removing one record moves few
	 * others, without a bound: on the catalog at most 3 with 2 to 4
	 * shards, up to 7 with 5 to 8 (tests/unit/test-shard.c,
	 * tests/cd-shard-plan.bats).  Given the previous plan
	 * (cd_shard_replan), the fewest moves instead.
	 */
	CD_SHARD_STABLE = 1,
};

/* "balanced" / "stable" -> 0 and *s; -1 (cd_seterr) otherwise. */
int cd_shard_strategy_parse(const char *name, enum cd_shard_strategy *s);

struct cd_shard_item {
	const char *key;     /* "name:version" (borrowed): hash key and tie-breaker */
	uint64_t weight;
	int shard;           /* out: 0 .. total-1 */
};

/*
 * Give every item a shard.  The result depends only on the multiset of
 * (key, weight) pairs and total (items with equal keys and weights are
 * interchangeable; their input order decides among them).  -1 (cd_seterr)
 * when total is out of 1..CD_SHARD_MAX.
 */
int cd_shard_plan(struct cd_shard_item *items, size_t n, int total, enum cd_shard_strategy s);

/*
 * The stable strategy from an earlier plan: prev[i] is the shard item i
 * had (-1 when it had none, or it is out of range).  Items keep their
 * shard while every shard stays within the bound, max(1.25 * mean,
 * heaviest item); new items go, heaviest first, to the lightest shard
 * they fit in; and when a shard is still above the bound, the fewest
 * moves that bring every shard within it are found by an exact search of
 * up to 4 moves (under a node budget), else by the balanced plan's local
 * search.  When that cannot reach the bound either, the plan without
 * history (cd_shard_plan, stable), if its heaviest shard is lighter.  No
 * item with a previous shard: cd_shard_plan, stable.  -1 (cd_seterr) when
 * total is out of range.
 */
int cd_shard_replan(struct cd_shard_item *items, size_t n, int total, const int *prev);

/* Heaviest shard load of a finished plan (for the figures and tests). */
uint64_t cd_shard_max_load(const struct cd_shard_item *items, size_t n, int total);
/*
 * A lower bound of any plan's heaviest shard: max(ceil(sum / total),
 * heaviest item, the two items at places total and total+1 by weight).
 */
uint64_t cd_shard_lower_bound(const struct cd_shard_item *items, size_t n, int total);

/* --- weights ----------------------------------------------------------- */

/*
 * A timings file: one JSON object {"name:version": seconds, ...}, seconds
 * a non-negative number (cd-report --timings writes it, keys sorted).
 * Kept as milliseconds; median_ms is the median entry (the lower of the
 * two middle ones), the default for a record the file does not name.
 */
struct cd_shard_weights {
	size_t n;
	char **keys;         /* sorted */
	uint64_t *ms;
	uint64_t median_ms;
};

/* Parse text (len bytes).  0, or -1 (cd_seterr) with the reason. */
int cd_shard_weights_parse(struct cd_shard_weights *w, const char *text, size_t len);
void cd_shard_weights_release(struct cd_shard_weights *w);
/* 1 and *ms when key is in the file, else 0. */
int cd_shard_weights_get(const struct cd_shard_weights *w, const char *key, uint64_t *ms);

/*
 * Weight of rec (borrowed), key its "name:version":
 *  - w == NULL: the sum of its artifacts' "size" (bytes), an artifact
 *    without a usable size counting dflt bytes, a record without
 *    artifacts counting one artifact of dflt;
 *  - w given: its seconds from the file, in ms; dflt ms when absent.
 * Clamped to CD_SHARD_WEIGHT_MAX.
 */
uint64_t cd_shard_weight(jv rec, const char *key, const struct cd_shard_weights *w, uint64_t dflt);

/* --- records ------------------------------------------------------------ */

/*
 * The plan a record carries: 1 and *index when rec has
 * "shard":{"index":I,"total":total} with 0 <= I < total (integers), else 0
 * (no plan, or a plan for another total).  Borrows rec.
 */
int cd_shard_of(jv rec, int total, int *index);
/* rec with "shard":{"index":index,"total":total}.  Consumes rec. */
jv cd_shard_set(jv rec, int index, int total);

/*
 * An earlier plan (cd-shard plan --previous): the shard each name:version
 * had, for one total.  Records of other totals, and later duplicates of a
 * key, are not kept.
 */
struct cd_shard_previous {
	int total;
	size_t n, cap;
	char **keys;         /* sorted by cd_shard_previous_done */
	int *shard;
};

void cd_shard_previous_init(struct cd_shard_previous *p, int total);
/* Note rec's plan (borrowed) if it has one for p->total: 1, else 0. */
int cd_shard_previous_add(struct cd_shard_previous *p, jv rec);
/* Sort for lookups; call once, after the last add. */
void cd_shard_previous_done(struct cd_shard_previous *p);
/* The shard key had, or -1. */
int cd_shard_previous_get(const struct cd_shard_previous *p, const char *key);
void cd_shard_previous_release(struct cd_shard_previous *p);

/* How records are weighed and planned (cd-shard's planning flags). */
struct cd_shard_opts {
	enum cd_shard_strategy strategy;
	const struct cd_shard_weights *weights; /* NULL: artifact sizes */
	uint64_t dflt;       /* bytes per artifact, or ms per image with weights */
	const struct cd_shard_previous *previous; /* stable only; NULL: none */
};

/*
 * The plan of a run: shard[i] for each of the n records recs[i] (borrowed;
 * keys[i] their "name:version").  A record that already carries a plan
 * for total keeps it unless force; the others are planned together here,
 * the same way on every machine: so every job that plans on the fly must
 * read the same whole input.  *planned (if not NULL): how many were
 * planned here.  -1 (cd_seterr) when total is out of range.
 */
int cd_shard_assign(const jv *recs, char *const *keys, size_t n, int total,
		    const struct cd_shard_opts *o, int force, int *shard, size_t *planned);

/* --- where a job is: its index and the total ------------------------- */

typedef const char *(*cd_shard_getenv_fn)(const char *name, void *ctx);

struct cd_shard_where {
	int index, total;    /* 0-based index, 1 <= total <= CD_SHARD_MAX */
	char how[512];       /* which flags/variables gave them, for -v */
};

/*
 * This job's index and total.  index/total: from --index/--total, -1 when
 * not given.  engine: NULL (detect) or one of cd_shard_engines' names to
 * read only that engine's variables.  get: looks a variable up (getenv,
 * or a table in tests).  Rules (shard/README.md):
 *   - each of index and total comes from the first of: its flag,
 *     CD_SHARD_INDEX / CD_SHARD_TOTAL, the engine's variables;
 *   - engines: Slurm, GitLab (CI_NODE_INDEX is 1-based), Kubernetes (no
 *     total variable), CircleCI, Buildkite; one that says "1 job"
 *     (GitLab's CI_NODE_TOTAL=1 alone, CircleCI without parallelism)
 *     gives way to another; two others that disagree are contradictory;
 *   - an explicit total that differs from the total of the engine the
 *     index came from is contradictory (jobs would be lost).
 * 0, or -1 with cd_seterr (a usage error: missing, malformed,
 * contradictory or out-of-range values).
 */
int cd_shard_locate(int index, int total, const char *engine,
		    cd_shard_getenv_fn get, void *ctx, struct cd_shard_where *out);
/* NULL-terminated list of engine names for --engine. */
extern const char *const cd_shard_engines[];

/* --- matrix: the engine's fan-out ------------------------------------- */

enum cd_shard_format {
	CD_SHARD_FMT_GITHUB,   /* {"include":[{"index":0,"total":N},...]} for fromJSON */
	CD_SHARD_FMT_GITLAB,   /* a job with parallel: N */
	CD_SHARD_FMT_K8S,      /* an Indexed Job */
	CD_SHARD_FMT_SLURM,    /* the sbatch --array line and the report job */
};

int cd_shard_format_parse(const char *name, enum cd_shard_format *f);
/*
 * Append the fan-out for total shards to out.  image: the container image
 * (k8s), script: the batch script (slurm); NULL for the defaults.  -1
 * (cd_seterr) when the engine cannot run total jobs (GitHub: 256 a
 * matrix, GitLab: 200 a parallel job).
 */
int cd_shard_matrix(struct cd_buf *out, int total, enum cd_shard_format f,
		    const char *image, const char *script);

#endif
