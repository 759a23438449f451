#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/record.h"
#include "stage/shard.h"
#include "core/banned.h"

/*
 * Work limits of the balanced planner, counted (never timed) so that every
 * machine stops at the same point and so gives the same plan.
 */
#define REFINE_BUDGET 50000000ull /* pair evaluations of the local search */
#define BB_BUDGET 200000ull       /* branch-and-bound nodes */
#define BB_MAX_ITEMS 32
#define BB_MAX_SHARDS 16

typedef unsigned __int128 u128;

int cd_shard_strategy_parse(const char *name, enum cd_shard_strategy *s)
{
	if (!strcmp(name, "balanced"))
		*s = CD_SHARD_BALANCED;
	else if (!strcmp(name, "stable"))
		*s = CD_SHARD_STABLE;
	else
		return cd_seterr("unknown strategy '%s': expected balanced or stable", name);
	return 0;
}

/* --- ordering and hashing ---------------------------------------------- */

struct sorter {
	const struct cd_shard_item *items;
};

static int heavier_first(const void *a, const void *b, void *arg)
{
	const struct cd_shard_item *it = ((struct sorter *)arg)->items;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (it[i].weight != it[j].weight)
		return it[i].weight > it[j].weight ? -1 : 1;
	int c = strcmp(it[i].key, it[j].key);
	if (c)
		return c;
	return i < j ? -1 : i > j;
}

/* Item indices, heaviest first, ties by key then input position. */
static size_t *order_of(const struct cd_shard_item *items, size_t n)
{
	size_t *order = cd_xcalloc(n ? n : 1, sizeof(*order));
	struct sorter s = { items };
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), heavier_first, &s);
	return order;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Rendezvous score of (key hash, shard): the higher, the more preferred. */
static uint64_t score(uint64_t h, int shard)
{
	return mix64(h ^ mix64((uint64_t)shard + 0x9e3779b97f4a7c15ull));
}

static uint64_t sum_weights(const struct cd_shard_item *items, size_t n)
{
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += items[i].weight; /* <= 2^44 each, n < 2^19 in practice: no overflow */
	return t;
}

uint64_t cd_shard_max_load(const struct cd_shard_item *items, size_t n, int total)
{
	uint64_t *load = cd_xcalloc((size_t)total, sizeof(*load)), max = 0;
	for (size_t i = 0; i < n; i++)
		load[items[i].shard] += items[i].weight;
	for (int s = 0; s < total; s++)
		if (load[s] > max)
			max = load[s];
	free(load);
	return max;
}

uint64_t cd_shard_lower_bound(const struct cd_shard_item *items, size_t n, int total)
{
	uint64_t t = sum_weights(items, n);
	uint64_t lb = t / (uint64_t)total + (t % (uint64_t)total != 0);
	size_t *order = order_of(items, n);
	if (n && items[order[0]].weight > lb)
		lb = items[order[0]].weight;
	/* Of the total+1 heaviest items, two share a shard. */
	if (n > (size_t)total) {
		uint64_t pair = items[order[total - 1]].weight + items[order[total]].weight;
		if (pair > lb)
			lb = pair;
	}
	free(order);
	return lb;
}

/* --- balanced: LPT, local search, bounded branch and bound ------------- */

static int lightest(const uint64_t *load, int total)
{
	int best = 0;
	for (int s = 1; s < total; s++)
		if (load[s] < load[best])
			best = s;
	return best;
}

static int heaviest(const uint64_t *load, int total)
{
	int best = 0;
	for (int s = 1; s < total; s++)
		if (load[s] > load[best])
			best = s;
	return best;
}

static uint64_t max2(uint64_t a, uint64_t b) { return a > b ? a : b; }

/*
 * One step of the local search: the move of one item out of the heaviest
 * shard h, or the swap of one of its items with a lighter item elsewhere,
 * that lowers max(load[h], load[other]) the most.  0 when none lowers it.
 */
static int refine_step(struct cd_shard_item *items, const size_t *order, size_t n,
		       uint64_t *load, int total, uint64_t *budget)
{
	int h = heaviest(load, total);
	uint64_t best = load[h];
	long bi = -1, bj = -1;
	int bs = -1;

	for (size_t a = 0; a < n; a++) {
		size_t i = order[a];
		if (items[i].shard != h || !items[i].weight)
			continue;
		uint64_t wi = items[i].weight;
		for (int s = 0; s < total; s++) {
			if (s == h)
				continue;
			uint64_t v = max2(load[h] - wi, load[s] + wi);
			if (v < best) {
				best = v, bi = (long)i, bj = -1, bs = s;
			}
		}
		/* order is heaviest first: the lighter items come after a */
		for (size_t b = a + 1; b < n; b++) {
			size_t j = order[b];
			int s = items[j].shard;
			if (s == h || items[j].weight >= wi)
				continue;
			uint64_t d = wi - items[j].weight;
			uint64_t v = max2(load[h] - d, load[s] + d);
			if (v < best) {
				best = v, bi = (long)i, bj = (long)j, bs = s;
			}
		}
		if (*budget < n + (uint64_t)total)
			return 0;
		*budget -= n + (uint64_t)total;
	}
	if (bi < 0)
		return 0;
	uint64_t wi = items[bi].weight;
	load[h] -= wi;
	load[bs] += wi;
	items[bi].shard = bs;
	if (bj >= 0) {
		uint64_t wj = items[bj].weight;
		load[bs] -= wj;
		load[h] += wj;
		items[bj].shard = h;
	}
	return 1;
}

struct bb {
	const uint64_t *w;   /* weights, heaviest first */
	size_t n;
	int total;
	uint64_t *load;
	int *cur, *best_assign;
	uint64_t best, lb, nodes;
};

static void bb_search(struct bb *b, size_t i, uint64_t curmax)
{
	if (b->best <= b->lb || b->nodes >= BB_BUDGET)
		return;
	if (i == b->n) {
		b->best = curmax;
		memcpy(b->best_assign, b->cur, b->n * sizeof(*b->cur));
		return;
	}
	b->nodes++;
	for (int s = 0; s < b->total; s++) {
		int same = 0;
		for (int t = 0; t < s && !same; t++)
			same = b->load[t] == b->load[s]; /* the same subtree, mirrored */
		if (same)
			continue;
		uint64_t nl = b->load[s] + b->w[i];
		if (nl >= b->best)
			continue;
		b->load[s] = nl;
		b->cur[i] = s;
		bb_search(b, i + 1, max2(curmax, nl));
		b->load[s] -= b->w[i];
	}
}

static void plan_balanced(struct cd_shard_item *items, const size_t *order, size_t n, int total)
{
	uint64_t *load = cd_xcalloc((size_t)total, sizeof(*load));
	for (size_t a = 0; a < n; a++) {
		size_t i = order[a];
		int s = lightest(load, total);
		items[i].shard = s;
		load[s] += items[i].weight;
	}
	uint64_t budget = REFINE_BUDGET;
	while (refine_step(items, order, n, load, total, &budget))
		;

	uint64_t lb = cd_shard_lower_bound(items, n, total);
	uint64_t got = load[heaviest(load, total)];
	if (got > lb && n <= BB_MAX_ITEMS && total <= BB_MAX_SHARDS) {
		struct bb b = { .n = n, .total = total, .best = got, .lb = lb };
		uint64_t *w = cd_xcalloc(n, sizeof(*w));
		for (size_t a = 0; a < n; a++)
			w[a] = items[order[a]].weight;
		b.w = w;
		b.load = cd_xcalloc((size_t)total, sizeof(*b.load));
		b.cur = cd_xcalloc(n, sizeof(*b.cur));
		b.best_assign = cd_xcalloc(n, sizeof(*b.best_assign));
		bb_search(&b, 0, 0);
		if (b.best < got)
			for (size_t a = 0; a < n; a++)
				items[order[a]].shard = b.best_assign[a];
		free(w);
		free(b.load);
		free(b.cur);
		free(b.best_assign);
	}
	free(load);
}

/* --- stable: rendezvous hashing with bounded loads --------------------- */

/*
 * Records propose to shards in the order of their rendezvous scores; a
 * shard keeps, by its own score of each (the same score), the records
 * that fit under the capacity and turns the others away, which then
 * propose to their next shard (Gale and Shapley's deferred acceptance).
 * A record added or removed changes one shard's proposals, and the chain
 * of records turned away from it is short.  Records no shard keeps go,
 * heaviest first, to the least loaded shard.
 */
struct stable {
	struct cd_shard_item *items;
	uint64_t *hash, cap;
	int total;
	int *tried;          /* per item: proposals made */
	uint64_t *last;      /* per item: score of its last proposal */
	int *lastshard;
	uint64_t *load;
	size_t **members, *count, *mcap;
};

/* The item's next shard by score (below the previous one); -1 when none. */
static int next_choice(struct stable *st, size_t i)
{
	int best = -1;
	uint64_t bsc = 0;
	for (int s = 0; s < st->total; s++) {
		uint64_t sc = score(st->hash[i], s);
		if (st->tried[i]) {
			/* strictly after the last one in (score desc, shard asc) order */
			if (sc > st->last[i] || (sc == st->last[i] && s <= st->lastshard[i]))
				continue;
		}
		if (best < 0 || sc > bsc)
			best = s, bsc = sc;
	}
	if (best >= 0) {
		st->tried[i]++;
		st->last[i] = bsc;
		st->lastshard[i] = best;
	}
	return best;
}

struct priority {
	struct stable *st;
	int shard;
};

/* A shard's order of preference among its proposals: its score of each. */
static int by_priority(const void *a, const void *b, void *arg)
{
	const struct priority *p = arg;
	struct stable *st = p->st;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	uint64_t si = score(st->hash[i], p->shard), sj = score(st->hash[j], p->shard);
	if (si != sj)
		return si > sj ? -1 : 1;
	return heavier_first(a, b, &(struct sorter){ st->items });
}

static void plan_stable(struct cd_shard_item *items, const size_t *order, size_t n, int total)
{
	struct stable st = { .items = items, .total = total };
	st.cap = (uint64_t)((u128)sum_weights(items, n) * 5 / ((u128)total * 4));
	st.hash = cd_xcalloc(n, sizeof(*st.hash));
	st.tried = cd_xcalloc(n, sizeof(*st.tried));
	st.last = cd_xcalloc(n, sizeof(*st.last));
	st.lastshard = cd_xcalloc(n, sizeof(*st.lastshard));
	st.load = cd_xcalloc((size_t)total, sizeof(*st.load));
	st.members = cd_xcalloc((size_t)total, sizeof(*st.members));
	st.count = cd_xcalloc((size_t)total, sizeof(*st.count));
	st.mcap = cd_xcalloc((size_t)total, sizeof(*st.mcap));
	for (size_t i = 0; i < n; i++)
		st.hash[i] = fnv1a(items[i].key);

	/* a FIFO of proposing items: each item proposes at most total times */
	size_t qcap = n + 1, head = 0, tail = 0;
	size_t *queue = cd_xcalloc(qcap, sizeof(*queue));
	size_t *overflow = cd_xcalloc(n, sizeof(*overflow)), nover = 0;
	for (size_t a = 0; a < n; a++)
		queue[tail++ % qcap] = order[a];
	while (head != tail) {
		size_t i = queue[head++ % qcap];
		int s = items[i].weight <= st.cap ? next_choice(&st, i) : -1;
		if (s < 0) {
			overflow[nover++] = i;
			continue;
		}
		if (st.count[s] == st.mcap[s]) {
			st.mcap[s] = st.mcap[s] ? st.mcap[s] * 2 : 8;
			st.members[s] = cd_xrealloc(st.members[s], st.mcap[s] * sizeof(**st.members));
		}
		st.members[s][st.count[s]++] = i;
		struct priority pr = { &st, s };
		qsort_r(st.members[s], st.count[s], sizeof(**st.members), by_priority, &pr);
		uint64_t load = 0;
		size_t kept = 0;
		for (size_t k = 0; k < st.count[s]; k++) {
			size_t j = st.members[s][k];
			if (load + items[j].weight <= st.cap) {
				load += items[j].weight;
				st.members[s][kept++] = j;
			} else {
				queue[tail++ % qcap] = j;
			}
		}
		st.count[s] = kept;
		st.load[s] = load;
	}
	for (int s = 0; s < total; s++)
		for (size_t k = 0; k < st.count[s]; k++)
			items[st.members[s][k]].shard = s;
	/* no room anywhere: heaviest first to the least loaded, ties by preference */
	qsort_r(overflow, nover, sizeof(*overflow), heavier_first, &(struct sorter){ items });
	for (size_t k = 0; k < nover; k++) {
		size_t i = overflow[k];
		int best = -1;
		uint64_t bsc = 0;
		for (int s = 0; s < total; s++) {
			uint64_t sc = score(st.hash[i], s);
			if (best < 0 || st.load[s] < st.load[best] || (st.load[s] == st.load[best] && sc > bsc))
				best = s, bsc = sc;
		}
		items[i].shard = best;
		st.load[best] += items[i].weight;
	}
	/*
	 * Still above the capacity (the records left over did not fit the
	 * gaps): the local search of the balanced plan, only while it must.
	 */
	uint64_t budget = REFINE_BUDGET;
	while (st.load[heaviest(st.load, total)] > st.cap &&
	       refine_step(items, order, n, st.load, total, &budget))
		;
	for (int s = 0; s < total; s++)
		free(st.members[s]);
	free(st.members);
	free(st.count);
	free(st.mcap);
	free(st.load);
	free(st.hash);
	free(st.tried);
	free(st.last);
	free(st.lastshard);
	free(queue);
	free(overflow);
}

/* --- stable from an earlier plan ----------------------------------------- */

/*
 * The earlier plan is kept where it is within the bound; records new to it
 * go, heaviest first, to the lightest shard they fit in.  When a shard is
 * still above the bound (a record added, or the mean lowered by one that
 * went), the fewest moves that bring every shard within it are searched
 * for, exactly, up to REPAIR_DEPTH moves and REPAIR_NODES tries (plans of
 * up to REPAIR_MAX_ITEMS records); past that, the local search of the
 * balanced plan; and when even that leaves a shard above the bound, the
 * plan with no history, if it is better.
 */
#define REPAIR_DEPTH 4
#define REPAIR_NODES 250000ull
#define REPAIR_MAX_ITEMS 512

struct repair {
	struct cd_shard_item *items;
	const size_t *order;  /* heaviest first */
	size_t n;
	uint64_t *load, cap, nodes;
	int total, over;      /* over: shards above cap */
};

static void move_item(struct repair *r, size_t i, int to)
{
	int from = r->items[i].shard;
	uint64_t w = r->items[i].weight;
	r->over -= (r->load[from] > r->cap) + (r->load[to] > r->cap);
	r->load[from] -= w;
	r->load[to] += w;
	r->over += (r->load[from] > r->cap) + (r->load[to] > r->cap);
	r->items[i].shard = to;
}

/* Every shard within the cap in at most depth moves: 1, the moves made; 0, none made. */
static int repair_search(struct repair *r, int depth)
{
	if (!r->over)
		return 1;
	/* a move lowers one shard: more shards over than moves left is hopeless */
	if (r->over > depth || r->nodes >= REPAIR_NODES)
		return 0;
	for (size_t a = 0; a < r->n; a++) {
		size_t i = r->order[a];
		int from = r->items[i].shard;
		uint64_t w = r->items[i].weight;
		if (r->load[from] <= r->cap || !w)
			continue;
		/* an item of the same weight on the same shard was tried already (order: by weight) */
		int seen = 0;
		for (size_t b = a; b-- > 0 && r->items[r->order[b]].weight == w && !seen;)
			seen = r->items[r->order[b]].shard == from;
		if (seen)
			continue;
		for (int to = 0; to < r->total; to++) {
			if (to == from || (depth == 1 && r->load[to] + w > r->cap))
				continue;
			r->nodes++;
			move_item(r, i, to);
			if (repair_search(r, depth - 1))
				return 1;
			move_item(r, i, from);
		}
	}
	return 0;
}

static void plan_from(struct cd_shard_item *items, const size_t *order, size_t n, int total, const int *prev)
{
	uint64_t *load = cd_xcalloc((size_t)total, sizeof(*load));
	uint64_t sum = sum_weights(items, n), cap = (uint64_t)((u128)sum * 5 / ((u128)total * 4));
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (items[i].weight > cap)
			cap = items[i].weight; /* the bound where the weights allow no better */
		if (prev[i] >= 0 && prev[i] < total) {
			items[i].shard = prev[i];
			load[prev[i]] += items[i].weight;
			kept++;
		}
	}
	if (!kept) {
		free(load);
		plan_stable(items, order, n, total);
		return;
	}
	for (size_t a = 0; a < n; a++) {
		size_t i = order[a];
		if (prev[i] >= 0 && prev[i] < total)
			continue;
		uint64_t h = fnv1a(items[i].key), w = items[i].weight;
		int best = -1, fits = 0;
		for (int s = 0; s < total; s++) {
			int f = load[s] + w <= cap;
			if (best < 0 || f > fits || (f == fits && (load[s] < load[best] ||
			    (load[s] == load[best] && score(h, s) > score(h, best)))))
				best = s, fits = f;
		}
		items[i].shard = best;
		load[best] += w;
	}
	struct repair r = { items, order, n, load, cap, 0, total, 0 };
	for (int s = 0; s < total; s++)
		r.over += load[s] > cap;
	for (int depth = 1; depth <= REPAIR_DEPTH && r.over && n <= REPAIR_MAX_ITEMS; depth++)
		if (repair_search(&r, depth))
			break;
	uint64_t budget = REFINE_BUDGET;
	while (load[heaviest(load, total)] > cap && refine_step(items, order, n, load, total, &budget))
		;
	if (load[heaviest(load, total)] > cap) {
		struct cd_shard_item *fresh = cd_xcalloc(n, sizeof(*fresh));
		memcpy(fresh, items, n * sizeof(*fresh));
		plan_stable(fresh, order, n, total);
		if (cd_shard_max_load(fresh, n, total) < load[heaviest(load, total)])
			memcpy(items, fresh, n * sizeof(*fresh));
		free(fresh);
	}
	free(load);
}

static int plan_check(struct cd_shard_item *items, size_t n, int total)
{
	if (total < 1 || total > CD_SHARD_MAX)
		return cd_seterr("number of shards %d out of range 1..%d", total, CD_SHARD_MAX);
	for (size_t i = 0; i < n; i++) {
		items[i].shard = 0;
		if (items[i].weight > CD_SHARD_WEIGHT_MAX)
			items[i].weight = CD_SHARD_WEIGHT_MAX;
	}
	return 0;
}

int cd_shard_replan(struct cd_shard_item *items, size_t n, int total, const int *prev)
{
	if (plan_check(items, n, total) < 0)
		return -1;
	if (total == 1 || !n)
		return 0;
	size_t *order = order_of(items, n);
	plan_from(items, order, n, total, prev);
	free(order);
	return 0;
}

int cd_shard_plan(struct cd_shard_item *items, size_t n, int total, enum cd_shard_strategy s)
{
	if (plan_check(items, n, total) < 0)
		return -1;
	if (total == 1 || !n)
		return 0;
	size_t *order = order_of(items, n);
	if (s == CD_SHARD_STABLE)
		plan_stable(items, order, n, total);
	else
		plan_balanced(items, order, n, total);
	free(order);
	return 0;
}

/* --- weights ----------------------------------------------------------- */

/* The place of key in keys[0..n), sorted by strcmp; -1 when absent. */
static long key_at(char *const *keys, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, keys[mid]);
		if (!c)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static void free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct kv {
	char *key;
	uint64_t ms;
};

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

int cd_shard_weights_parse(struct cd_shard_weights *w, const char *text, size_t len)
{
	memset(w, 0, sizeof(*w));
	if (len > CD_RECORD_MAX * 4u)
		return cd_seterr("timings file larger than %u bytes", CD_RECORD_MAX * 4u);
	jv v = jv_parse_sized(text, (int)len);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		cd_seterr("not JSON: %s", jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "invalid");
		jv_free(msg);
		return -1;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return cd_seterr("not a JSON object of \"name:version\": seconds");
	}
	size_t cap = (size_t)jv_object_length(jv_copy(v)), n = 0;
	struct kv *kv = cd_xcalloc(cap ? cap : 1, sizeof(*kv));
	int bad = 0;
	jv_object_foreach(v, k, val) {
		double sec = jv_get_kind(val) == JV_KIND_NUMBER ? jv_number_value(val) : -1;
		if (!bad && (!(sec >= 0) || sec > 1e9)) {
			cd_seterr("'%s': expected a number of seconds from 0 to 1e9", jv_string_value(k));
			bad = 1;
		}
		if (!bad && n < cap) {
			kv[n].key = cd_xstrdup(jv_string_value(k));
			kv[n].ms = (uint64_t)llround(sec * 1000.0);
			n++;
		}
		jv_free(k);
		jv_free(val);
	}
	jv_free(v);
	if (bad) {
		for (size_t i = 0; i < n; i++)
			free(kv[i].key);
		free(kv);
		return -1;
	}
	qsort(kv, n, sizeof(*kv), cmp_kv);
	w->n = n;
	w->keys = cd_xcalloc(n ? n : 1, sizeof(*w->keys));
	w->ms = cd_xcalloc(n ? n : 1, sizeof(*w->ms));
	for (size_t i = 0; i < n; i++) {
		w->keys[i] = kv[i].key;
		w->ms[i] = kv[i].ms;
	}
	free(kv);
	if (n) {
		uint64_t *sorted = cd_xcalloc(n, sizeof(*sorted));
		memcpy(sorted, w->ms, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_u64);
		w->median_ms = sorted[(n - 1) / 2];
		free(sorted);
	} else {
		w->median_ms = 1000; /* an empty file: every record 1 s */
	}
	return 0;
}

void cd_shard_weights_release(struct cd_shard_weights *w)
{
	free_keys(w->keys, w->n);
	free(w->ms);
	memset(w, 0, sizeof(*w));
}

int cd_shard_weights_get(const struct cd_shard_weights *w, const char *key, uint64_t *ms)
{
	long i = key_at(w->keys, w->n, key);
	if (i < 0)
		return 0;
	*ms = w->ms[i];
	return 1;
}

static uint64_t clamp_add(uint64_t a, uint64_t b)
{
	return a + b > CD_SHARD_WEIGHT_MAX || a + b < a ? CD_SHARD_WEIGHT_MAX : a + b;
}

uint64_t cd_shard_weight(jv rec, const char *key, const struct cd_shard_weights *w, uint64_t dflt)
{
	if (dflt > CD_SHARD_WEIGHT_MAX)
		dflt = CD_SHARD_WEIGHT_MAX;
	if (w) {
		uint64_t ms;
		return cd_shard_weights_get(w, key, &ms) ? (ms > CD_SHARD_WEIGHT_MAX ? CD_SHARD_WEIGHT_MAX : ms) : dflt;
	}
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
	uint64_t sum = 0;
	int count = 0;
	if (jv_get_kind(arts) == JV_KIND_ARRAY) {
		jv_array_foreach(arts, i, a) {
			double size = cd_jv_num(a, "size", -1);
			uint64_t one = size >= 1 && size < (double)CD_SHARD_WEIGHT_MAX ? (uint64_t)size : dflt;
			sum = clamp_add(sum, one);
			count++;
			jv_free(a);
		}
	}
	jv_free(arts);
	return count ? sum : dflt;
}

/* --- records ------------------------------------------------------------ */

static int int_of(jv obj, const char *key, long *out)
{
	double d = cd_jv_num(obj, key, NAN);
	if (!(d >= 0 && d <= CD_SHARD_MAX) || d != floor(d))
		return 0;
	*out = (long)d;
	return 1;
}

int cd_shard_of(jv rec, int total, int *index)
{
	jv sh = jv_object_get(jv_copy(rec), jv_string("shard"));
	long i, t;
	int ok = jv_get_kind(sh) == JV_KIND_OBJECT && int_of(sh, "index", &i) &&
		 int_of(sh, "total", &t) && t == total && i < t;
	jv_free(sh);
	if (ok)
		*index = (int)i;
	return ok;
}

jv cd_shard_set(jv rec, int index, int total)
{
	jv sh = jv_object();
	sh = jv_object_set(sh, jv_string("index"), jv_number(index));
	sh = jv_object_set(sh, jv_string("total"), jv_number(total));
	return jv_object_set(rec, jv_string("shard"), sh);
}

/* --- an earlier plan ------------------------------------------------------ */

void cd_shard_previous_init(struct cd_shard_previous *p, int total)
{
	memset(p, 0, sizeof(*p));
	p->total = total;
}

int cd_shard_previous_add(struct cd_shard_previous *p, jv rec)
{
	int index;
	char *key;
	if (!cd_shard_of(rec, p->total, &index) || !(key = cd_record_id(rec)))
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->keys = cd_xrealloc(p->keys, p->cap * sizeof(*p->keys));
		p->shard = cd_xrealloc(p->shard, p->cap * sizeof(*p->shard));
	}
	p->keys[p->n] = key;
	p->shard[p->n++] = index;
	return 1;
}

struct keyed {
	const char *key;
	size_t at;
	int shard;
};

static int by_key_then_place(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

void cd_shard_previous_done(struct cd_shard_previous *p)
{
	struct keyed *k = cd_xcalloc(p->n ? p->n : 1, sizeof(*k));
	for (size_t i = 0; i < p->n; i++)
		k[i] = (struct keyed){ p->keys[i], i, p->shard[i] };
	qsort(k, p->n, sizeof(*k), by_key_then_place);
	char **keys = cd_xcalloc(p->n ? p->n : 1, sizeof(*keys));
	size_t m = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (m && !strcmp(keys[m - 1], k[i].key)) {
			free((char *)k[i].key); /* a later duplicate: the first one stands */
			continue;
		}
		keys[m] = (char *)k[i].key;
		p->shard[m++] = k[i].shard;
	}
	free(p->keys);
	free(k);
	p->keys = keys;
	p->n = m;
}

int cd_shard_previous_get(const struct cd_shard_previous *p, const char *key)
{
	long i = key_at(p->keys, p->n, key);
	return i < 0 ? -1 : p->shard[i];
}

void cd_shard_previous_release(struct cd_shard_previous *p)
{
	free_keys(p->keys, p->n);
	free(p->shard);
	memset(p, 0, sizeof(*p));
}

int cd_shard_assign(const jv *recs, char *const *keys, size_t n, int total,
		    const struct cd_shard_opts *o, int force, int *shard, size_t *planned)
{
	struct cd_shard_item *items = cd_xcalloc(n ? n : 1, sizeof(*items));
	size_t *at = cd_xcalloc(n ? n : 1, sizeof(*at)), m = 0;
	int *prev = cd_xcalloc(n ? n : 1, sizeof(*prev));
	const struct cd_shard_previous *old = o->strategy == CD_SHARD_STABLE &&
		o->previous && o->previous->total == total ? o->previous : NULL;
	for (size_t i = 0; i < n; i++) {
		if (!force && cd_shard_of(recs[i], total, &shard[i]))
			continue;
		items[m].key = keys[i];
		items[m].weight = cd_shard_weight(recs[i], keys[i], o->weights, o->dflt);
		prev[m] = old ? cd_shard_previous_get(old, keys[i]) : -1;
		at[m++] = i;
	}
	int r = old ? cd_shard_replan(items, m, total, prev) : cd_shard_plan(items, m, total, o->strategy);
	free(prev);
	if (!r)
		for (size_t k = 0; k < m; k++)
			shard[at[k]] = items[k].shard;
	if (planned)
		*planned = m;
	free(items);
	free(at);
	return r;
}

/* --- where a job is ----------------------------------------------------- */

struct engine {
	const char *name, *label, *index_var, *total_var;
	int one_based;
};

static const struct engine engines[] = {
	{ "slurm", "Slurm", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", 0 },
	{ "gitlab", "GitLab CI", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1 },
	{ "k8s", "Kubernetes", "JOB_COMPLETION_INDEX", NULL, 0 },
	{ "circleci", "CircleCI", "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0 },
	{ "buildkite", "Buildkite", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0 },
};
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

const char *const cd_shard_engines[] = { "slurm", "gitlab", "k8s", "circleci", "buildkite", NULL };

/* A variable's value as a number: 1 and *out, 0 when unset or empty, -1 bad. */
static int num_var(cd_shard_getenv_fn get, void *ctx, const char *name, long *out)
{
	const char *v = name ? get(name, ctx) : NULL;
	if (!v || !*v)
		return 0;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 0 || n > 1000000000L ||
	    !(*v >= '0' && *v <= '9'))
		return cd_seterr("%s='%s' is not a number", name, v);
	*out = n;
	return 1;
}

struct seen {
	const struct engine *e;
	long index, total;   /* index 0-based; total -1 when the engine has none */
	int weak;            /* it says "1 job": another engine wins */
	char how_index[160], how_total[96];
};

/* Read engine e: 1 when its variables are there, 0 when not, -1 bad. */
static int read_engine(const struct engine *e, cd_shard_getenv_fn get, void *ctx, struct seen *out)
{
	long idx = -1, tot = -1;
	int hi = num_var(get, ctx, e->index_var, &idx);
	if (hi < 0)
		return -1;
	int ht = num_var(get, ctx, e->total_var, &tot);
	if (ht < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->e = e;
	out->total = ht ? tot : -1;
	if (!hi) {
		/* GitLab sets CI_NODE_TOTAL=1 and no index in a job without parallel: */
		if (e->one_based && ht && tot == 1) {
			out->index = 0;
			out->weak = 1;
			cd_snprintf_cut(out->how_index, sizeof(out->how_index), "%s=1 without %s (one job)",
				    e->total_var, e->index_var);
			cd_snprintf_cut(out->how_total, sizeof(out->how_total), "%s=1", e->total_var);
			return 1;
		}
		return 0;
	}
	if (e->one_based) {
		if (idx < 1)
			return cd_seterr("%s=%ld: %s numbers its jobs from 1 (1..%s)", e->index_var, idx,
					 e->label, e->total_var);
		out->index = idx - 1;
		cd_snprintf_cut(out->how_index, sizeof(out->how_index), "%s=%ld (1-based)", e->index_var, idx);
	} else if (!strcmp(e->name, "slurm")) {
		long min = 0;
		int hm = num_var(get, ctx, "SLURM_ARRAY_TASK_MIN", &min);
		if (hm < 0)
			return -1;
		if (hm && min > idx)
			return cd_seterr("SLURM_ARRAY_TASK_ID=%ld is below SLURM_ARRAY_TASK_MIN=%ld", idx, min);
		out->index = idx - (hm ? min : 0);
		if (hm && min)
			cd_snprintf_cut(out->how_index, sizeof(out->how_index),
				    "SLURM_ARRAY_TASK_ID=%ld - SLURM_ARRAY_TASK_MIN=%ld", idx, min);
		else
			cd_snprintf_cut(out->how_index, sizeof(out->how_index), "SLURM_ARRAY_TASK_ID=%ld", idx);
	} else {
		out->index = idx;
		cd_snprintf_cut(out->how_index, sizeof(out->how_index), "%s=%ld", e->index_var, idx);
	}
	if (ht)
		cd_snprintf_cut(out->how_total, sizeof(out->how_total), "%s=%ld", e->total_var, tot);
	out->weak = ht && tot == 1;
	return 1;
}

static const struct engine *engine_named(const char *name)
{
	for (size_t i = 0; i < NENGINES; i++)
		if (!strcmp(engines[i].name, name))
			return &engines[i];
	return NULL;
}

/* Pick the engine whose variables count: -1 when two disagree. */
static int choose_engine(const struct seen *s, int ns, int *chosen)
{
	int strong = -1, weak = -1;
	for (int i = 0; i < ns; i++) {
		if (s[i].weak) {
			if (weak < 0)
				weak = i;
			continue;
		}
		if (strong < 0) {
			strong = i;
			continue;
		}
		const struct seen *a = &s[strong], *b = &s[i];
		if (a->index != b->index || (a->total >= 0 && b->total >= 0 && a->total != b->total))
			return cd_seterr("contradictory shard variables: %s%s%s (%s) and %s%s%s (%s); "
					 "choose with --engine or give --index and --total",
					 a->how_index, a->total >= 0 ? ", " : "", a->how_total, a->e->label,
					 b->how_index, b->total >= 0 ? ", " : "", b->how_total, b->e->label);
	}
	*chosen = strong >= 0 ? strong : weak;
	return 0;
}

int cd_shard_locate(int index, int total, const char *engine,
		    cd_shard_getenv_fn get, void *ctx, struct cd_shard_where *out)
{
	char hi[200] = "", ht[200] = "";
	long idx = -1, tot = -1, v;
	struct seen seen[NENGINES];
	int ns = 0, chosen = -1, r;

	memset(out, 0, sizeof(*out));
	if (index >= 0) {
		idx = index;
		cd_snprintf_cut(hi, sizeof(hi), "--index %d", index);
	} else if ((r = num_var(get, ctx, "CD_SHARD_INDEX", &v)) != 0) {
		if (r < 0)
			return -1;
		idx = v;
		cd_snprintf_cut(hi, sizeof(hi), "CD_SHARD_INDEX=%ld", v);
	}
	if (total >= 0) {
		tot = total;
		cd_snprintf_cut(ht, sizeof(ht), "--total %d", total);
	} else if ((r = num_var(get, ctx, "CD_SHARD_TOTAL", &v)) != 0) {
		if (r < 0)
			return -1;
		tot = v;
		cd_snprintf_cut(ht, sizeof(ht), "CD_SHARD_TOTAL=%ld", v);
	}

	if (engine) {
		const struct engine *e = engine_named(engine);
		if (!e)
			return cd_seterr("unknown engine '%s': expected slurm, gitlab, k8s, circleci or buildkite", engine);
		if ((r = read_engine(e, get, ctx, &seen[0])) < 0)
			return -1;
		if (r)
			ns = 1, chosen = 0;
		else if (idx < 0)
			return cd_seterr("--engine %s: %s is not set", engine, e->index_var);
	} else if (idx < 0 || tot < 0) {
		for (size_t i = 0; i < NENGINES; i++) {
			if ((r = read_engine(&engines[i], get, ctx, &seen[ns])) < 0)
				return -1;
			ns += r;
		}
		if (choose_engine(seen, ns, &chosen) < 0)
			return -1;
	}
	const struct seen *e = chosen >= 0 ? &seen[chosen] : NULL;

	int index_from_engine = 0;
	if (idx < 0 && e) {
		idx = e->index;
		index_from_engine = 1;
		cd_snprintf_cut(hi, sizeof(hi), "%s (%s)", e->how_index, e->e->label);
	}
	if (idx < 0)
		return cd_seterr("no shard index: give --index and --total, or run where an engine sets "
				 "one (SLURM_ARRAY_TASK_ID, CI_NODE_INDEX, JOB_COMPLETION_INDEX, "
				 "CIRCLE_NODE_INDEX, BUILDKITE_PARALLEL_JOB, CD_SHARD_INDEX)");
	if (tot < 0 && e && e->total >= 0) {
		tot = e->total;
		cd_snprintf_cut(ht, sizeof(ht), "%s", e->how_total);
	}
	if (tot < 0) {
		if (e && !e->e->total_var)
			return cd_seterr("no shard total: %s gives the index only; give --total or "
					 "CD_SHARD_TOTAL (the Job's spec.completions)", e->e->index_var);
		return cd_seterr("no shard total: give --total (or CD_SHARD_TOTAL)%s%s%s",
				 e ? "; " : "", e ? e->e->total_var : "", e ? " is not set" : "");
	}
	if (index_from_engine && e->total >= 0 && tot != e->total)
		return cd_seterr("contradictory shard total: %s, but %s says %s runs %ld jobs",
				 ht, e->how_total, e->e->label, e->total);
	if (tot < 1 || tot > CD_SHARD_MAX)
		return cd_seterr("shard total %ld (from %s) out of range 1..%d", tot, ht, CD_SHARD_MAX);
	if (idx >= tot)
		return cd_seterr("shard index %ld (from %s) out of range for %ld shards (0..%ld, from %s)",
				 idx, hi, tot, tot - 1, ht);
	out->index = (int)idx;
	out->total = (int)tot;
	if (cd_snprintf(out->how, sizeof(out->how), "shard %ld of %ld (0-based): index from %s, total from %s",
			idx, tot, hi, ht) < 0)
		out->how[0] = '\0';
	return 0;
}

/* --- matrix ------------------------------------------------------------- */

int cd_shard_format_parse(const char *name, enum cd_shard_format *f)
{
	if (!strcmp(name, "github"))
		*f = CD_SHARD_FMT_GITHUB;
	else if (!strcmp(name, "gitlab"))
		*f = CD_SHARD_FMT_GITLAB;
	else if (!strcmp(name, "k8s") || !strcmp(name, "kubernetes"))
		*f = CD_SHARD_FMT_K8S;
	else if (!strcmp(name, "slurm"))
		*f = CD_SHARD_FMT_SLURM;
	else
		return cd_seterr("unknown format '%s': expected github, gitlab, k8s or slurm", name);
	return 0;
}

static int matrix_github(struct cd_buf *out, int total)
{
	if (total > 256)
		return cd_seterr("GitHub Actions runs at most 256 jobs a matrix, not %d", total);
	if (cd_buf_adds(out, "{\"include\":[") < 0)
		return -1;
	for (int i = 0; i < total; i++)
		if (cd_buf_addf(out, "%s{\"index\":%d,\"total\":%d}", i ? "," : "", i, total) < 0)
			return -1;
	return cd_buf_adds(out, "]}\n");
}

static int matrix_gitlab(struct cd_buf *out, int total)
{
	if (total > 200)
		return cd_seterr("GitLab CI runs at most 200 jobs of one parallel job, not %d", total);
	if (cd_buf_adds(out, "cdkit-shard:\n  extends: .cdkit-shard\n") < 0)
		return -1;
	/* parallel: takes 2..200; one job runs without it (CI_NODE_TOTAL=1) */
	if (total > 1 && cd_buf_addf(out, "  parallel: %d\n", total) < 0)
		return -1;
	return 0;
}

static int matrix_k8s(struct cd_buf *out, int total, const char *image)
{
	return cd_buf_addf(out,
		"apiVersion: batch/v1\n"
		"kind: Job\n"
		"metadata:\n"
		"  name: cdkit-shards\n"
		"  labels:\n"
		"    app.kubernetes.io/name: cdkit\n"
		"    app.kubernetes.io/component: shard\n"
		"spec:\n"
		"  completionMode: Indexed\n"
		"  completions: %d\n"
		"  parallelism: %d\n"
		"  backoffLimit: %d\n"
		"  template:\n"
		"    metadata:\n"
		"      labels:\n"
		"        app.kubernetes.io/name: cdkit\n"
		"    spec:\n"
		"      restartPolicy: Never\n"
		"      containers:\n"
		"        - name: shard\n"
		"          image: %s\n"
		"          command: [\"shard-job\"]\n"
		"          args: [\"--plan\", \"/work/plan.ndjson\", \"--out-dir\", \"/work/records\", \"--no-fail\"]\n"
		"          env:\n"
		"            - name: CD_SHARD_TOTAL\n"
		"              value: \"%d\"\n"
		"            - name: CD_WORKDIR\n"
		"              value: /work/shard\n"
		"          envFrom:\n"
		"            - configMapRef:\n"
		"                name: cdkit-config\n"
		"          volumeMounts:\n"
		"            - name: work\n"
		"              mountPath: /work\n"
		"      volumes:\n"
		"        - name: work\n"
		"          persistentVolumeClaim:\n"
		"            claimName: cdkit-work\n",
		total, total, total, image ? image : "localhost/cdkit:latest", total);
}

static int matrix_slurm(struct cd_buf *out, int total, const char *script)
{
	const char *s = script ? script : "ci/slurm/cdkit.sbatch";
	return cd_buf_addf(out,
		"jobid=$(sbatch --parsable --array=0-%d %s shard)\n"
		"sbatch --parsable --dependency=afterany:\"$jobid\" %s report\n",
		total - 1, s, s);
}

int cd_shard_matrix(struct cd_buf *out, int total, enum cd_shard_format f,
		    const char *image, const char *script)
{
	if (total < 1 || total > CD_SHARD_MAX)
		return cd_seterr("number of shards %d out of range 1..%d", total, CD_SHARD_MAX);
	switch (f) {
	case CD_SHARD_FMT_GITHUB:
		return matrix_github(out, total);
	case CD_SHARD_FMT_GITLAB:
		return matrix_gitlab(out, total);
	case CD_SHARD_FMT_K8S:
		return matrix_k8s(out, total, image);
	case CD_SHARD_FMT_SLURM:
		return matrix_slurm(out, total, script);
	}
	return cd_seterr("unknown format");
}
