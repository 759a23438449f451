/*
 * The shard planner (tools/lib/shard.c): exactly-once coverage for every
 * N from 1 to 256 through every engine's variables, plan quality against
 * an exhaustive optimum, the stable strategy's bound, and the usage errors
 * of cd_shard_locate.  Random record sets come from a seeded generator,
 * so every run checks the same sets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/msg.h"
#include "core/record.h"
#include "stage/shard.h"
#include "unit.h"
#include "core/banned.h"

/* --- a seeded generator (xorshift64*) --------------------------------- */

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* n records with random names, artifact counts and sizes (some missing). */
static jv *random_records(size_t n, char ***keys)
{
	jv *v = cd_xcalloc(n, sizeof(*v));
	*keys = cd_xcalloc(n, sizeof(**keys));
	for (size_t i = 0; i < n; i++) {
		char name[32], version[32];
		CHECK(cd_snprintf(name, sizeof(name), "img%llu", (unsigned long long)(rng() % 1000)) >= 0);
		CHECK(cd_snprintf(version, sizeof(version), "%zu.%llu", i, (unsigned long long)(rng() % 10)) >= 0);
		jv arts = jv_array();
		int na = (int)(rng() % 4);
		for (int a = 0; a < na; a++) {
			jv art = jv_object();
			art = jv_object_set(art, jv_string("arch"), jv_string(a == 0 ? "amd64" : a == 1 ? "arm64" : "s390x"));
			if (rng() % 4)
				art = jv_object_set(art, jv_string("size"),
						    jv_number((double)(100000000 + rng() % 900000000)));
			arts = jv_array_append(arts, art);
		}
		jv r = jv_object();
		r = jv_object_set(r, jv_string("name"), jv_string(name));
		r = jv_object_set(r, jv_string("version"), jv_string(version));
		r = jv_object_set(r, jv_string("artifacts"), arts);
		(*keys)[i] = cd_record_id(r);
		v[i] = r;
	}
	return v;
}

static void free_records(jv *v, char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		jv_free(v[i]);
		free(keys[i]);
	}
	free(v);
	free(keys);
}

/* --- a fake environment ------------------------------------------------ */

struct env {
	const char *name[8];
	char value[8][32];
	int n;
};

static const char *env_get(const char *name, void *ctx)
{
	struct env *e = ctx;
	for (int i = 0; i < e->n; i++)
		if (!strcmp(e->name[i], name))
			return e->value[i];
	return NULL;
}

static void env_set(struct env *e, const char *name, long v)
{
	e->name[e->n] = name;
	CHECK(cd_snprintf(e->value[e->n], sizeof(e->value[e->n]), "%ld", v) >= 0);
	e->n++;
}

/* The variables each engine sets for job i of n, exactly. */
enum variant { V_FLAGS, V_CDKIT, V_SLURM, V_GITLAB, V_K8S, V_CIRCLECI, V_BUILDKITE, V_GITHUB, NVARIANTS };
static const char *variant_name[] = { "flags", "CD_SHARD_*", "slurm", "gitlab", "k8s", "circleci", "buildkite", "github" };

static int locate_as(enum variant v, int i, int n, struct cd_shard_where *w)
{
	struct env e = { .n = 0 };
	int index = -1, total = -1;
	switch (v) {
	case V_FLAGS:
		index = i, total = n;
		break;
	case V_CDKIT:
	case V_GITHUB: /* the workflow maps matrix.index/total to CD_SHARD_* */
		env_set(&e, "CD_SHARD_INDEX", i);
		env_set(&e, "CD_SHARD_TOTAL", n);
		break;
	case V_SLURM:
		env_set(&e, "SLURM_ARRAY_JOB_ID", 4242);
		env_set(&e, "SLURM_ARRAY_TASK_ID", i);
		env_set(&e, "SLURM_ARRAY_TASK_COUNT", n);
		env_set(&e, "SLURM_ARRAY_TASK_MIN", 0);
		env_set(&e, "SLURM_ARRAY_TASK_MAX", n - 1);
		break;
	case V_GITLAB: /* 1-based; no CI_NODE_INDEX in a job without parallel */
		if (n > 1)
			env_set(&e, "CI_NODE_INDEX", i + 1);
		env_set(&e, "CI_NODE_TOTAL", n);
		break;
	case V_K8S: /* total = spec.completions, handed on as CD_SHARD_TOTAL */
		env_set(&e, "JOB_COMPLETION_INDEX", i);
		env_set(&e, "CD_SHARD_TOTAL", n);
		break;
	case V_CIRCLECI:
		env_set(&e, "CIRCLE_NODE_INDEX", i);
		env_set(&e, "CIRCLE_NODE_TOTAL", n);
		break;
	case V_BUILDKITE:
		env_set(&e, "BUILDKITE_PARALLEL_JOB", i);
		env_set(&e, "BUILDKITE_PARALLEL_JOB_COUNT", n);
		break;
	default:
		return -1;
	}
	return cd_shard_locate(index, total, NULL, env_get, &e, w);
}

/*
 * For every N from 1 to 256 and both strategies, each job (found through
 * each engine's variables) planning on the fly from the whole input: the
 * union of the jobs' records is the input, each record exactly once.
 */
static void test_exactly_once(void)
{
	for (int set = 0; set < 3; set++) {
		rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)set;
		size_t n = set == 0 ? 1 : set == 1 ? 40 : 150;
		char **keys;
		jv *recs = random_records(n, &keys);
		int *shard = cd_xcalloc(n, sizeof(*shard)), *again = cd_xcalloc(n, sizeof(*again));
		int *seen = cd_xcalloc(n, sizeof(*seen));
		int bad = 0;
		for (int strat = 0; strat < 2; strat++) {
			struct cd_shard_opts o = { strat ? CD_SHARD_STABLE : CD_SHARD_BALANCED, NULL, CD_SHARD_DEFAULT_SIZE, NULL };
			for (int total = 1; total <= 256 && !bad; total++) {
				if (cd_shard_assign(recs, keys, n, total, &o, 0, shard, NULL) < 0) {
					bad = 1;
					break;
				}
				/* the same input gives the same plan (checked on some totals) */
				if (total % 17 == 1 && (cd_shard_assign(recs, keys, n, total, &o, 0, again, NULL) < 0 ||
							memcmp(shard, again, n * sizeof(*shard))))
					bad = 1;
				for (int v = 0; v < NVARIANTS && !bad; v++) {
					memset(seen, 0, n * sizeof(*seen));
					for (int i = 0; i < total && !bad; i++) {
						struct cd_shard_where w;
						if (locate_as(v, i, total, &w) < 0 || w.index != i || w.total != total) {
							fprintf(stderr, "%s job %d of %d: %s\n", variant_name[v], i, total,
								cd_errmsg());
							bad = 1;
							break;
						}
						for (size_t k = 0; k < n; k++)
							if (shard[k] == w.index)
								seen[k]++;
					}
					for (size_t k = 0; k < n && !bad; k++)
						if (seen[k] != 1) {
							fprintf(stderr, "set %d, %s, %d shards: record %zu seen %d times\n",
								set, variant_name[v], total, k, seen[k]);
							bad = 1;
						}
				}
			}
		}
		CHECK(!bad);
		free(shard);
		free(again);
		free(seen);
		free_records(recs, keys, n);
	}
}

/* A record planned for another total is planned again; one for this total keeps its shard. */
static void test_existing_plans(void)
{
	rng_state = 7;
	size_t n = 30;
	char **keys;
	jv *recs = random_records(n, &keys);
	int shard[30];
	struct cd_shard_opts o = { CD_SHARD_BALANCED, NULL, CD_SHARD_DEFAULT_SIZE, NULL };
	for (size_t i = 0; i < n; i++)
		if (i % 3 == 0)
			recs[i] = cd_shard_set(recs[i], 3, 4);    /* this total: kept */
		else if (i % 3 == 1)
			recs[i] = cd_shard_set(recs[i], 1, 2);    /* another total: replanned */
	size_t planned = 0;
	CHECK(cd_shard_assign(recs, keys, n, 4, &o, 0, shard, &planned) == 0);
	CHECK(planned == 20);
	int kept = 1;
	for (size_t i = 0; i < n; i += 3)
		kept &= shard[i] == 3;
	CHECK(kept);
	CHECK(cd_shard_assign(recs, keys, n, 4, &o, 1, shard, &planned) == 0 && planned == 30);
	free_records(recs, keys, n);
}

/* The best heaviest shard, by trying every assignment (n small). */
static uint64_t optimum(const uint64_t *w, size_t n, int total)
{
	uint64_t best = UINT64_MAX, combos = 1;
	for (size_t i = 0; i < n; i++)
		combos *= (uint64_t)total;
	for (uint64_t c = 0; c < combos; c++) {
		uint64_t load[8] = { 0 }, x = c, max = 0;
		for (size_t i = 0; i < n; i++) {
			load[x % (uint64_t)total] += w[i];
			x /= (uint64_t)total;
		}
		for (int s = 0; s < total; s++)
			if (load[s] > max)
				max = load[s];
		if (max < best)
			best = max;
	}
	return best;
}

static void test_balanced_optimal(void)
{
	int worse = 0;
	rng_state = 12345;
	for (int round = 0; round < 60; round++) {
		size_t n = 3 + rng() % 8;
		int total = 2 + (int)(rng() % 3);
		struct cd_shard_item items[16];
		uint64_t w[16];
		char keys[16][16];
		for (size_t i = 0; i < n; i++) {
			w[i] = 1 + rng() % (round % 2 ? 1000 : 50);
			CHECK(cd_snprintf(keys[i], sizeof(keys[i]), "k:%zu", i) >= 0);
			items[i] = (struct cd_shard_item){ keys[i], w[i], -1 };
		}
		CHECK(cd_shard_plan(items, n, total, CD_SHARD_BALANCED) == 0);
		uint64_t got = cd_shard_max_load(items, n, total), opt = optimum(w, n, total);
		if (got != opt) {
			fprintf(stderr, "balanced: %zu items on %d shards: %llu, optimum %llu\n", n, total,
				(unsigned long long)got, (unsigned long long)opt);
			worse++;
		}
		CHECK(cd_shard_lower_bound(items, n, total) <= opt);
	}
	CHECK(worse == 0);
}

/* stable: heaviest shard <= max(1.25 mean, mean + heaviest item). */
static void test_stable_bound(void)
{
	int bad = 0;
	rng_state = 99;
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + rng() % 200;
		int total = 1 + (int)(rng() % 32);
		struct cd_shard_item *items = cd_xcalloc(n, sizeof(*items));
		char (*keys)[24] = cd_xcalloc(n, sizeof(*keys));
		uint64_t sum = 0, wmax = 0;
		for (size_t i = 0; i < n; i++) {
			CHECK(cd_snprintf(keys[i], sizeof(keys[i]), "img%zu:%d", i, round) >= 0);
			items[i] = (struct cd_shard_item){ keys[i], 1 + rng() % 1000000, -1 };
			sum += items[i].weight;
			if (items[i].weight > wmax)
				wmax = items[i].weight;
		}
		CHECK(cd_shard_plan(items, n, total, CD_SHARD_STABLE) == 0);
		uint64_t max = cd_shard_max_load(items, n, total);
		/* compare max * total against the bound * total, in integers */
		unsigned __int128 lhs = (unsigned __int128)max * (unsigned)total * 4;
		unsigned __int128 b1 = (unsigned __int128)sum * 5;
		unsigned __int128 b2 = ((unsigned __int128)sum + (unsigned __int128)wmax * (unsigned)total) * 4;
		if (lhs > b1 && lhs > b2)
			bad++;
		int range = 1;
		for (size_t i = 0; i < n; i++)
			range &= items[i].shard >= 0 && items[i].shard < total;
		CHECK(range);
		free(items);
		free(keys);
	}
	CHECK(bad == 0);
}

/*
 * The stable strategy on the catalog's weights (the 13 records cd-discover
 * gives on the files of tests/fixtures/expected; tests/cd-shard-plan.bats
 * checks the same through the tool): for every N from 2 to 8, max/mean and
 * how many other records move when one image is removed (each in turn) or
 * added (the three images of cd-shard-plan.bats).  Prints the figures and
 * asserts the stated bounds: every plan, whole or changed, within
 * max(1.25 mean, mean + heaviest record); at most 3 others moved on 2 to 4
 * shards.  On 5 or more shards the planner moves more (shard/README.md):
 * those figures are printed, not promised; from the previous plan
 * (test_stable_previous) they are.
 */
static const struct cd_shard_item catalog[] = {
	{ "almalinux:10", 1610612736, -1 },
	{ "almalinux:9", 1610612736, -1 },
	{ "centos-stream:10", 2862219264, -1 },
	{ "centos-stream:9", 2265131520, -1 },
	{ "debian:12", 1073741824, -1 },
	{ "fedora:40", 805765120, -1 },
	{ "fedora:39", 544604160, -1 },
	{ "fedora:41-beta", 1000000000, -1 },
	{ "opensuse-leap:16.0", 1610612736, -1 },
	{ "opensuse-leap:15.6", 1073741824, -1 },
	{ "opensuse-microos:16.0.0", 1073741824, -1 },
	{ "opensuse-tumbleweed:1.0.0", 1073741824, -1 },
	{ "ubuntu:22.04", 1610612736, -1 },
};
#define NCAT (sizeof(catalog) / sizeof(catalog[0]))

static const struct cd_shard_item newcomers[] = {
	{ "newos:1", 1800000000, -1 },
	{ "bigos:1", 5000000000, -1 },
	{ "tinyos:1", 120000000, -1 },
};

/* Plan set[0..n) on total shards; 1 when it keeps the stated bound. */
static int plan_within_bound(struct cd_shard_item *set, size_t n, int total, double *ratio)
{
	uint64_t sum = 0, wmax = 0;
	for (size_t i = 0; i < n; i++) {
		sum += set[i].weight;
		if (set[i].weight > wmax)
			wmax = set[i].weight;
	}
	CHECK(cd_shard_plan(set, n, total, CD_SHARD_STABLE) == 0);
	uint64_t max = cd_shard_max_load(set, n, total);
	*ratio = (double)max * total / (double)sum;
	unsigned __int128 lhs = (unsigned __int128)max * (unsigned)total * 4;
	unsigned __int128 b1 = (unsigned __int128)sum * 5;
	unsigned __int128 b2 = ((unsigned __int128)sum + (unsigned __int128)wmax * (unsigned)total) * 4;
	return lhs <= b1 || lhs <= b2;
}

/* Records of a (na) whose shard differs in b (nb), matched by key. */
static int moved_between(const struct cd_shard_item *a, size_t na,
			 const struct cd_shard_item *b, size_t nb)
{
	int moved = 0;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (!strcmp(a[i].key, b[j].key))
				moved += a[i].shard != b[j].shard;
	return moved;
}

static void test_stable_catalog(void)
{
	struct cd_shard_item full[NCAT], set[NCAT + 1];
	fprintf(stderr, "# stable on the catalog: shards max/mean worst-max/mean moved-add moved-remove\n");
	for (int total = 2; total <= 8; total++) {
		double ratio, r, worst;
		int add = 0, rem = 0;
		memcpy(full, catalog, sizeof(full));
		CHECK(plan_within_bound(full, NCAT, total, &ratio));
		worst = ratio;
		for (size_t x = 0; x < NCAT; x++) {
			size_t n = 0;
			for (size_t i = 0; i < NCAT; i++)
				if (i != x)
					set[n++] = catalog[i];
			CHECK(plan_within_bound(set, n, total, &r));
			worst = r > worst ? r : worst;
			int m = moved_between(full, NCAT, set, n);
			rem = m > rem ? m : rem;
		}
		for (size_t a = 0; a < sizeof(newcomers) / sizeof(newcomers[0]); a++) {
			memcpy(set, catalog, sizeof(catalog));
			set[NCAT] = newcomers[a];
			CHECK(plan_within_bound(set, NCAT + 1, total, &r));
			worst = r > worst ? r : worst;
			int m = moved_between(full, NCAT, set, NCAT + 1);
			add = m > add ? m : add;
		}
		fprintf(stderr, "# %d %.3f %.3f %d %d\n", total, ratio, worst, add, rem);
		if (total <= 4) {
			CHECK(add <= 3);
			CHECK(rem <= 3);
		}
	}
}

/*
 * The stable strategy from the previous plan (cd-shard plan --previous),
 * on the catalog: the whole catalog's plan (stable, no history) is the
 * previous plan of each set with one image removed or added, as in
 * test_stable_catalog.  Every plan within max(1.25 mean, heaviest record),
 * and at most 3 others moved, on 2 to 7 shards.  On 8 no plan of the whole
 * catalog is within 1.25 mean (centos-stream:10 alone is 1.26 mean): the
 * figures are printed, not promised.
 */
static int within_25(const struct cd_shard_item *set, size_t n, int total, double *ratio)
{
	uint64_t sum = 0, wmax = 0;
	for (size_t i = 0; i < n; i++) {
		sum += set[i].weight;
		if (set[i].weight > wmax)
			wmax = set[i].weight;
	}
	uint64_t max = cd_shard_max_load(set, n, total);
	*ratio = (double)max * total / (double)sum;
	return (unsigned __int128)max * (unsigned)total * 4 <= (unsigned __int128)sum * 5 || max <= wmax;
}

static int replan_from(const struct cd_shard_item *old, size_t nold, struct cd_shard_item *set, size_t n, int total)
{
	int prev[NCAT + 1];
	for (size_t i = 0; i < n; i++) {
		prev[i] = -1;
		for (size_t j = 0; j < nold; j++)
			if (!strcmp(set[i].key, old[j].key))
				prev[i] = old[j].shard;
	}
	CHECK(cd_shard_replan(set, n, total, prev) == 0);
	return moved_between(old, nold, set, n);
}

static void test_stable_previous(void)
{
	struct cd_shard_item full[NCAT], set[NCAT + 1];
	fprintf(stderr, "# stable --previous on the catalog: shards worst-max/mean moved-add moved-remove\n");
	for (int total = 2; total <= 8; total++) {
		double r, worst = 0;
		int add = 0, rem = 0, ok = 1;
		memcpy(full, catalog, sizeof(full));
		CHECK(cd_shard_plan(full, NCAT, total, CD_SHARD_STABLE) == 0);
		/* the previous plan itself, unchanged: nothing moves */
		memcpy(set, catalog, sizeof(catalog));
		CHECK(replan_from(full, NCAT, set, NCAT, total) == 0);
		for (size_t x = 0; x < NCAT; x++) {
			size_t n = 0;
			for (size_t i = 0; i < NCAT; i++)
				if (i != x)
					set[n++] = catalog[i];
			int m = replan_from(full, NCAT, set, n, total);
			ok &= within_25(set, n, total, &r);
			worst = r > worst ? r : worst;
			rem = m > rem ? m : rem;
		}
		for (size_t a = 0; a < sizeof(newcomers) / sizeof(newcomers[0]); a++) {
			memcpy(set, catalog, sizeof(catalog));
			set[NCAT] = newcomers[a];
			int m = replan_from(full, NCAT, set, NCAT + 1, total);
			ok &= within_25(set, NCAT + 1, total, &r);
			worst = r > worst ? r : worst;
			add = m > add ? m : add;
		}
		fprintf(stderr, "# %d %.3f %d %d%s\n", total, worst, add, rem, ok ? "" : " (not all within 1.25 mean)");
		if (total <= 7) {
			CHECK(ok);
			CHECK(add <= 3);
			CHECK(rem <= 3);
		}
	}
}

/*
 * From a random previous plan (some records new, some with a shard out of
 * range): every record gets a shard, the stable bound holds, and planning
 * again from that plan moves nothing when it is within 1.25 mean.
 */
static void test_replan_random(void)
{
	int bad = 0, again = 0;
	rng_state = 4242;
	for (int round = 0; round < 300; round++) {
		size_t n = 1 + rng() % 300;
		int total = 1 + (int)(rng() % 32);
		struct cd_shard_item *items = cd_xcalloc(n, sizeof(*items));
		int *prev = cd_xcalloc(n, sizeof(*prev));
		char (*keys)[24] = cd_xcalloc(n, sizeof(*keys));
		uint64_t sum = 0, wmax = 0;
		for (size_t i = 0; i < n; i++) {
			CHECK(cd_snprintf(keys[i], sizeof(keys[i]), "r%zu:%d", i, round) >= 0);
			items[i] = (struct cd_shard_item){ keys[i], rng() % 4 ? 1 + rng() % 1000000 : 0, -1 };
			prev[i] = (int)(rng() % (unsigned)(total + 2)) - 1; /* -1 .. total */
			sum += items[i].weight;
			wmax = items[i].weight > wmax ? items[i].weight : wmax;
		}
		CHECK(cd_shard_replan(items, n, total, prev) == 0);
		int range = 1;
		for (size_t i = 0; i < n; i++)
			range &= items[i].shard >= 0 && items[i].shard < total;
		CHECK(range);
		uint64_t max = cd_shard_max_load(items, n, total);
		unsigned __int128 lhs = (unsigned __int128)max * (unsigned)total * 4;
		if (lhs > (unsigned __int128)sum * 5 &&
		    lhs > ((unsigned __int128)sum + (unsigned __int128)wmax * (unsigned)total) * 4)
			bad++;
		double r;
		if (within_25(items, n, total, &r)) {
			for (size_t i = 0; i < n; i++)
				prev[i] = items[i].shard;
			CHECK(cd_shard_replan(items, n, total, prev) == 0);
			for (size_t i = 0; i < n; i++)
				again += items[i].shard != prev[i];
		}
		free(items);
		free(prev);
		free(keys);
	}
	CHECK(bad == 0);
	CHECK(again == 0);
	CHECK(cd_shard_replan(NULL, 0, 0, NULL) == -1);
}

/* Input order does not change the plan: it depends on keys and weights. */
static void test_order_free(void)
{
	struct cd_shard_item a[6] = {
		{ "a:1", 5, 0 }, { "b:1", 3, 0 }, { "c:1", 3, 0 }, { "d:1", 9, 0 }, { "e:1", 1, 0 }, { "f:1", 4, 0 },
	};
	struct cd_shard_item b[6] = { a[5], a[3], a[1], a[0], a[4], a[2] };
	for (int s = 0; s < 2; s++) {
		CHECK(cd_shard_plan(a, 6, 3, s) == 0 && cd_shard_plan(b, 6, 3, s) == 0);
		int same = 1;
		for (int i = 0; i < 6; i++)
			for (int j = 0; j < 6; j++)
				if (!strcmp(a[i].key, b[j].key))
					same &= a[i].shard == b[j].shard;
		CHECK(same);
	}
	CHECK(cd_shard_plan(a, 6, 0, CD_SHARD_BALANCED) == -1);
	CHECK(cd_shard_plan(a, 6, CD_SHARD_MAX + 1, CD_SHARD_STABLE) == -1);
}

static void test_weights(void)
{
	struct cd_shard_weights w;
	const char *good = "{\"b:1\": 2.5, \"a:1\": 10, \"c:1\": 0.0004, \"d:1\": 7}";
	CHECK(cd_shard_weights_parse(&w, good, strlen(good)) == 0);
	uint64_t ms = 0;
	CHECK(cd_shard_weights_get(&w, "b:1", &ms) && ms == 2500);
	CHECK(cd_shard_weights_get(&w, "c:1", &ms) && ms == 0);
	CHECK(!cd_shard_weights_get(&w, "z:1", &ms));
	CHECK(w.median_ms == 2500); /* 0, 2500, 7000, 10000: the lower middle */

	jv rec = jv_parse("{\"name\":\"x\",\"version\":\"1\",\"artifacts\":[{\"size\":100},{\"arch\":\"arm64\"}]}");
	CHECK(cd_shard_weight(rec, "x:1", NULL, 1000) == 1100);
	CHECK(cd_shard_weight(rec, "x:1", &w, 42) == 42);
	CHECK(cd_shard_weight(rec, "a:1", &w, 42) == 10000);
	jv none = jv_parse("{\"name\":\"y\",\"version\":\"1\"}");
	CHECK(cd_shard_weight(none, "y:1", NULL, 77) == 77);
	jv_free(rec);
	jv_free(none);
	cd_shard_weights_release(&w);

	const char *bad[] = { "[1,2]", "{\"a:1\": -1}", "{\"a:1\": \"5\"}", "{\"a:1\": 1e12}", "{" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(cd_shard_weights_parse(&w, bad[i], strlen(bad[i])) == -1);
	CHECK(cd_shard_weights_parse(&w, "{}", 2) == 0 && w.median_ms == 1000);
	cd_shard_weights_release(&w);
}

static void test_shard_field(void)
{
	jv r = jv_parse("{\"name\":\"x\",\"shard\":{\"index\":2,\"total\":4}}");
	int i = -1;
	CHECK(cd_shard_of(r, 4, &i) && i == 2);
	CHECK(!cd_shard_of(r, 3, &i));
	jv_free(r);
	const char *bad[] = { "{\"shard\":{\"index\":4,\"total\":4}}", "{\"shard\":{\"index\":1.5,\"total\":4}}",
			      "{\"shard\":{\"index\":-1,\"total\":4}}", "{\"shard\":\"0/4\"}", "{}" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		jv b = jv_parse(bad[k]);
		CHECK(!cd_shard_of(b, 4, &i));
		jv_free(b);
	}
}

static int locate_env(struct env *e, int index, int total, const char *engine, const char *want_err)
{
	struct cd_shard_where w;
	int r = cd_shard_locate(index, total, engine, env_get, e, &w);
	if (want_err) {
		if (r != -1 || !strstr(cd_errmsg(), want_err)) {
			fprintf(stderr, "want error '%s', got %d '%s'\n", want_err, r, r ? cd_errmsg() : w.how);
			return -2;
		}
		return -1;
	}
	if (r < 0) {
		fprintf(stderr, "unexpected error: %s\n", cd_errmsg());
		return -2;
	}
	return w.index * 1000 + w.total;
}

static void test_locate_errors(void)
{
	struct env e = { .n = 0 };
	CHECK(locate_env(&e, -1, -1, NULL, "no shard index") == -1);
	CHECK(locate_env(&e, 1, -1, NULL, "no shard total") == -1);
	CHECK(locate_env(&e, 4, 4, NULL, "out of range") == -1);

	e = (struct env){ .n = 0 };
	env_set(&e, "JOB_COMPLETION_INDEX", 2);
	CHECK(locate_env(&e, -1, -1, NULL, "spec.completions") == -1);
	CHECK(locate_env(&e, -1, 3, NULL, NULL) == 2003);

	e = (struct env){ .n = 0 };
	env_set(&e, "CI_NODE_INDEX", 0);
	env_set(&e, "CI_NODE_TOTAL", 3);
	CHECK(locate_env(&e, -1, -1, NULL, "from 1") == -1);
	e = (struct env){ .n = 0 };
	env_set(&e, "CI_NODE_INDEX", 4);
	env_set(&e, "CI_NODE_TOTAL", 3);
	CHECK(locate_env(&e, -1, -1, NULL, "out of range") == -1);
	e = (struct env){ .n = 0 };
	env_set(&e, "CI_NODE_INDEX", 3);
	env_set(&e, "CI_NODE_TOTAL", 3);
	CHECK(locate_env(&e, -1, -1, NULL, NULL) == 2003);
	CHECK(locate_env(&e, -1, 4, NULL, "contradictory shard total") == -1);
	CHECK(locate_env(&e, 0, 4, NULL, NULL) == 4); /* both explicit: the engine is not read */

	/* Slurm inside a GitLab job without parallel (CI_NODE_TOTAL=1): Slurm counts */
	e = (struct env){ .n = 0 };
	env_set(&e, "CI_NODE_TOTAL", 1);
	env_set(&e, "SLURM_ARRAY_TASK_ID", 5);
	env_set(&e, "SLURM_ARRAY_TASK_COUNT", 4);
	env_set(&e, "SLURM_ARRAY_TASK_MIN", 2);
	CHECK(locate_env(&e, -1, -1, NULL, NULL) == 3004);
	/* ... and CircleCI without parallelism (0 of 1) gives way too */
	env_set(&e, "CIRCLE_NODE_INDEX", 0);
	env_set(&e, "CIRCLE_NODE_TOTAL", 1);
	CHECK(locate_env(&e, -1, -1, NULL, NULL) == 3004);
	/* two engines that disagree */
	env_set(&e, "BUILDKITE_PARALLEL_JOB", 1);
	env_set(&e, "BUILDKITE_PARALLEL_JOB_COUNT", 4);
	CHECK(locate_env(&e, -1, -1, NULL, "contradictory shard variables") == -1);
	CHECK(locate_env(&e, -1, -1, "buildkite", NULL) == 1004);
	CHECK(locate_env(&e, -1, -1, "slurm", NULL) == 3004);
	CHECK(locate_env(&e, -1, -1, "k8s", "JOB_COMPLETION_INDEX is not set") == -1);
	CHECK(locate_env(&e, -1, -1, "jenkins", "unknown engine") == -1);

	e = (struct env){ .n = 0 };
	e.name[0] = "SLURM_ARRAY_TASK_ID";
	CHECK(cd_snprintf(e.value[0], sizeof(e.value[0]), "%s", "1x") >= 0);
	e.n = 1;
	CHECK(locate_env(&e, -1, 4, NULL, "is not a number") == -1);
	e.name[0] = "CD_SHARD_TOTAL";
	CHECK(cd_snprintf(e.value[0], sizeof(e.value[0]), "%s", "-3") >= 0);
	CHECK(locate_env(&e, 0, -1, NULL, "is not a number") == -1);
	CHECK(cd_snprintf(e.value[0], sizeof(e.value[0]), "%s", "0") >= 0);
	CHECK(locate_env(&e, 0, -1, NULL, "out of range") == -1);
}

static void test_matrix(void)
{
	struct cd_buf b;
	cd_buf_init(&b, 0);
	CHECK(cd_shard_matrix(&b, 3, CD_SHARD_FMT_GITHUB, NULL, NULL) == 0);
	CHECK_STR(b.p, "{\"include\":[{\"index\":0,\"total\":3},{\"index\":1,\"total\":3},{\"index\":2,\"total\":3}]}\n");
	cd_buf_reset(&b);
	CHECK(cd_shard_matrix(&b, 257, CD_SHARD_FMT_GITHUB, NULL, NULL) == -1);
	CHECK(cd_shard_matrix(&b, 201, CD_SHARD_FMT_GITLAB, NULL, NULL) == -1);
	CHECK(cd_shard_matrix(&b, 4, CD_SHARD_FMT_GITLAB, NULL, NULL) == 0);
	CHECK(strstr(b.p, "  parallel: 4\n") != NULL);
	cd_buf_reset(&b);
	CHECK(cd_shard_matrix(&b, 1, CD_SHARD_FMT_GITLAB, NULL, NULL) == 0);
	CHECK(strstr(b.p, "parallel") == NULL);
	cd_buf_reset(&b);
	CHECK(cd_shard_matrix(&b, 5, CD_SHARD_FMT_SLURM, NULL, "job.sh") == 0);
	CHECK(strstr(b.p, "--array=0-4 job.sh shard") != NULL);
	cd_buf_reset(&b);
	CHECK(cd_shard_matrix(&b, 6, CD_SHARD_FMT_K8S, "reg/cdkit:1", NULL) == 0);
	CHECK(strstr(b.p, "  completions: 6\n") && strstr(b.p, "image: reg/cdkit:1\n") &&
	      strstr(b.p, "completionMode: Indexed"));
	cd_buf_release(&b);
}

int main(void)
{
	cd_msg_init("test-shard");
	test_exactly_once();
	test_existing_plans();
	test_balanced_optimal();
	test_stable_bound();
	test_stable_catalog();
	test_stable_previous();
	test_replan_random();
	test_order_free();
	test_weights();
	test_shard_field();
	test_locate_errors();
	test_matrix();
	return unit_done("test-shard");
}
