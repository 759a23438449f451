/* cd-shard: split the records of a run across the parallel jobs of a CI engine. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "stage/opts.h"
#include "stage/shard.h"
#include "core/banned.h"

#define WEIGHTS_MAX (16u << 20)

enum {
	OPT_SHARDS = CD_OPT_TOOL,
	OPT_STRATEGY,
	OPT_WEIGHTS,
	OPT_DEFAULT_WEIGHT,
	OPT_PREVIOUS,
	OPT_INDEX,
	OPT_TOTAL,
	OPT_ENGINE,
	OPT_FORMAT,
	OPT_IMAGE,
	OPT_SCRIPT,
};

#define HELP_PLANNING \
	"      --strategy S         balanced (default): heaviest shard as close to the\n" \
	"                           mean as the weights allow; stable: adding or removing\n" \
	"                           an image moves few others (not bounded without\n" \
	"                           --previous: up to 7 on the catalog with 5 to 8\n" \
	"                           shards, shard/README.md), heaviest shard within\n" \
	"                           max(1.25 x mean, mean + heaviest image)\n" \
	"      --previous FILE      stable only: the records of an earlier plan for the\n" \
	"                           same N (plan.ndjson, or any records carrying\n" \
	"                           \"shard\"); images keep their shard while every shard\n" \
	"                           stays within max(1.25 x mean, heaviest image); when\n" \
	"                           one is above it, the fewest images move\n" \
	"      --weights FILE       weigh images by seconds from a timings file\n" \
	"                           ({\"name:version\": seconds}, cd-report --timings)\n" \
	"                           instead of by the sum of their artifact sizes\n" \
	"      --default-weight W   weight of what is not known: bytes of an artifact\n" \
	"                           without \"size\" (default 512M; K, M, G, T suffixes),\n" \
	"                           or with --weights, seconds of an image the file does\n" \
	"                           not name (default: the file's median)\n"

#define HELP_EXIT \
	"\n" \
	"exit status: 0 fine, 1 input or output failed, 2 usage error,\n" \
	"3 malformed input lines (skipped; the others are processed)\n"

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-shard plan --shards N [options] < records > planned\n"
		"       cd-shard pick [--index I --total N] [options] < records > mine\n"
		"       cd-shard index [--index I --total N] [--engine E]\n"
		"       cd-shard matrix --shards N --format github|gitlab|k8s|slurm\n"
		"\n"
		"Split the records of a run across N parallel jobs: 'plan' adds\n"
		"\"shard\":{\"index\":I,\"total\":N} to every record, 'pick' keeps this job's\n"
		"records, 'index' prints this job's index and total, 'matrix' prints the\n"
		"engine's fan-out.  'cd-shard COMMAND --help' for each.\n"
		"\n"
		CD_HELP_BASE);
	exit(status);
}

static void usage_plan(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-shard plan --shards N [--strategy balanced|stable] [--weights FILE]\n"
		"                     [--default-weight W] [--previous FILE]\n"
		"                     < records.ndjson > planned.ndjson\n"
		"\n"
		"Add \"shard\":{\"index\":I,\"total\":N} (I from 0 to N-1) to every record, in\n"
		"input order.  The same input gives the same plan on every machine.\n"
		"\n"
		"      --shards N           number of jobs, 1..%d\n"
		HELP_PLANNING CD_HELP_BASE HELP_EXIT, CD_SHARD_MAX);
	exit(status);
}

static void usage_pick(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-shard pick [--index I --total N] [--engine E] [-v] [planning options]\n"
		"                     < records.ndjson > mine.ndjson\n"
		"\n"
		"Pass on only this job's records.  Index and total come from --index and\n"
		"--total, else CD_SHARD_INDEX / CD_SHARD_TOTAL, else the engine's variables:\n"
		"  Slurm       SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN), SLURM_ARRAY_TASK_COUNT\n"
		"  GitLab CI   CI_NODE_INDEX (1-based), CI_NODE_TOTAL\n"
		"  Kubernetes  JOB_COMPLETION_INDEX; total from --total or CD_SHARD_TOTAL\n"
		"  CircleCI    CIRCLE_NODE_INDEX, CIRCLE_NODE_TOTAL\n"
		"  Buildkite   BUILDKITE_PARALLEL_JOB, BUILDKITE_PARALLEL_JOB_COUNT\n"
		"-v says which were used.  Records without a plan for this total are\n"
		"planned here, the same way in every job: every job must then read the\n"
		"same, whole input (the records of one cd-discover run, saved once).\n"
		"\n"
		"      --index I            this job's shard, 0..N-1\n"
		"      --total N            number of shards\n"
		"      --engine E           read only this engine's variables (slurm, gitlab,\n"
		"                           k8s, circleci, buildkite; also CD_SHARD_ENGINE)\n"
		HELP_PLANNING CD_HELP_BASE HELP_EXIT);
	exit(status);
}

static void usage_index(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-shard index [--index I --total N] [--engine E] [-v]\n"
		"\n"
		"Print this job's shard index (0-based) and the total, as 'I N', found\n"
		"as 'cd-shard pick' finds them (see cd-shard pick --help).\n"
		"\n"
		"      --index I, --total N, --engine E   as for pick\n"
		CD_HELP_BASE
		"\n"
		"exit status: 0 fine, 2 usage error (missing, contradictory or out-of-range values)\n");
	exit(status);
}

static void usage_matrix(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-shard matrix --shards N --format github|gitlab|k8s|slurm\n"
		"                       [--image IMAGE] [--script PATH]\n"
		"\n"
		"Print the engine's fan-out for N shard jobs:\n"
		"  github  the matrix JSON, one line, for strategy.matrix: ${{ fromJSON(...) }}:\n"
		"          {\"include\":[{\"index\":0,\"total\":N},...]} (at most 256)\n"
		"  gitlab  a job 'cdkit-shard' extending '.cdkit-shard' with parallel: N\n"
		"          (at most 200; none for N = 1)\n"
		"  k8s     the Indexed Job (completions N) running pipelines/shard-job\n"
		"  slurm   the sbatch lines: an --array=0-(N-1) of shard jobs and the report\n"
		"          job after them (--dependency=afterany)\n"
		"\n"
		"      --shards N           number of jobs\n"
		"      --format F           the engine\n"
		"      --image IMAGE        container image of the k8s Job (default\n"
		"                           localhost/cdkit:latest)\n"
		"      --script PATH        the batch script for slurm (default\n"
		"                           ci/slurm/cdkit.sbatch)\n"
		CD_HELP_BASE
		"\n"
		"exit status: 0 fine, 1 the engine cannot run N jobs, 2 usage error\n");
	exit(status);
}

/* --- planning options -------------------------------------------------- */

struct planning {
	enum cd_shard_strategy strategy;
	const char *weights_file, *default_weight;
	struct cd_shard_weights weights;
	int have_weights;
	uint64_t dflt;
	const char *previous_file;
	struct cd_shard_previous previous;
	int have_previous;
};

/* "512M" -> bytes; exits 2 when malformed. */
static uint64_t parse_bytes(const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	int shift = 0;
	if (*end && !end[1]) {
		const char *u = strchr("KMGT", *end);
		if (u)
			shift = 10 * (int)(u - "KMGT" + 1), end++;
	}
	if (errno || end == arg || *end || *arg == '-' || (shift && v > (CD_SHARD_WEIGHT_MAX >> shift)) ||
	    (v << shift) > CD_SHARD_WEIGHT_MAX)
		cd_usage_error("invalid value '%s' for --default-weight: expected bytes (K, M, G, T suffixes)", arg);
	return (uint64_t)v << shift;
}

static uint64_t parse_seconds(const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0) || v > 1e9)
		cd_usage_error("invalid value '%s' for --default-weight: expected seconds", arg);
	return (uint64_t)llround(v * 1000.0);
}

static void read_weights(struct planning *p)
{
	FILE *f = fopen(p->weights_file, "rb");
	if (!f)
		cd_usage_error("--weights: cannot open '%s': %s", p->weights_file, strerror(errno));
	struct cd_buf b;
	char chunk[65536];
	size_t n;
	cd_buf_init(&b, WEIGHTS_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (cd_buf_add(&b, chunk, n) < 0)
			cd_usage_error("--weights: '%s': %s", p->weights_file, cd_errmsg());
	int bad = ferror(f);
	fclose(f);
	if (bad)
		cd_usage_error("--weights: cannot read '%s'", p->weights_file);
	if (cd_shard_weights_parse(&p->weights, b.p ? b.p : "", b.len) < 0)
		cd_usage_error("--weights: '%s': %s", p->weights_file, cd_errmsg());
	cd_buf_release(&b);
	p->have_weights = 1;
}

/* The records of an earlier plan, for total shards: exits 2 when unreadable. */
static void read_previous(struct planning *p, int total)
{
	FILE *f = fopen(p->previous_file, "rb");
	if (!f)
		cd_usage_error("--previous: cannot open '%s': %s", p->previous_file, strerror(errno));
	struct cd_reader r;
	jv rec;
	int got;
	cd_shard_previous_init(&p->previous, total);
	cd_reader_init(&r, f, p->previous_file);
	while ((got = cd_reader_next(&r, &rec)) > 0) {
		cd_shard_previous_add(&p->previous, rec);
		jv_free(rec);
	}
	cd_reader_release(&r);
	int bad = ferror(f);
	fclose(f);
	if (got < 0 || bad)
		cd_usage_error("--previous: cannot read '%s'%s%s", p->previous_file,
			       got < 0 ? ": " : "", got < 0 ? cd_errmsg() : "");
	cd_shard_previous_done(&p->previous);
	cd_debug("--previous: %zu images had a shard of %d in '%s'", p->previous.n, total, p->previous_file);
	p->have_previous = 1;
}

static void planning_finish(struct planning *p, int total)
{
	if (p->previous_file) {
		if (p->strategy != CD_SHARD_STABLE)
			cd_usage_error("--previous needs --strategy stable");
		read_previous(p, total);
	}
	if (p->weights_file) {
		read_weights(p);
		p->dflt = p->default_weight ? parse_seconds(p->default_weight) : p->weights.median_ms;
	} else {
		p->dflt = p->default_weight ? parse_bytes(p->default_weight) : CD_SHARD_DEFAULT_SIZE;
	}
}

static int planning_opt(struct planning *p, int opt, const char *arg)
{
	switch (opt) {
	case OPT_STRATEGY:
		if (cd_shard_strategy_parse(arg, &p->strategy) < 0)
			cd_usage_error("--strategy: %s", cd_errmsg());
		return 1;
	case OPT_WEIGHTS:
		p->weights_file = arg;
		return 1;
	case OPT_DEFAULT_WEIGHT:
		p->default_weight = arg;
		return 1;
	case OPT_PREVIOUS:
		p->previous_file = arg;
		return 1;
	}
	return 0;
}

static void planning_release(struct planning *p)
{
	if (p->have_weights)
		cd_shard_weights_release(&p->weights);
	if (p->have_previous)
		cd_shard_previous_release(&p->previous);
}

/* --- records ----------------------------------------------------------- */

struct records {
	jv *v;
	char **keys;
	size_t n, cap;
	int malformed;
};

static int read_all(struct records *rs)
{
	struct cd_reader r;
	jv rec;
	int got;
	memset(rs, 0, sizeof(*rs));
	cd_reader_init(&r, stdin, "stdin");
	while ((got = cd_reader_next(&r, &rec)) > 0) {
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 64;
			rs->v = cd_xrealloc(rs->v, rs->cap * sizeof(*rs->v));
			rs->keys = cd_xrealloc(rs->keys, rs->cap * sizeof(*rs->keys));
		}
		rs->keys[rs->n] = cd_record_id(rec);
		rs->v[rs->n++] = rec;
	}
	rs->malformed = r.malformed;
	cd_reader_release(&r);
	if (got < 0)
		cd_error("%s", cd_errmsg());
	return got;
}

static void records_release(struct records *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		jv_free(rs->v[i]);
		free(rs->keys[i]);
	}
	free(rs->v);
	free(rs->keys);
}

static size_t plan_records(struct records *rs, const struct planning *p, int total, int force, int *shard)
{
	struct cd_shard_opts o = { p->strategy, p->have_weights ? &p->weights : NULL, p->dflt,
				   p->have_previous ? &p->previous : NULL };
	size_t planned = 0;
	if (cd_shard_assign(rs->v, rs->keys, rs->n, total, &o, force, shard, &planned) < 0) {
		cd_error("%s", cd_errmsg());
		exit(CD_EXIT_FAIL);
	}
	return planned;
}

static int finish(struct records *rs, int got)
{
	int status = got < 0 ? CD_EXIT_FAIL : rs->malformed ? CD_EXIT_INPUT : CD_EXIT_OK;
	if (cd_record_flush() < 0)
		status = CD_EXIT_FAIL;
	records_release(rs);
	return status;
}

/* --- subcommands ------------------------------------------------------- */

static int cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "shards", required_argument, NULL, OPT_SHARDS },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "weights", required_argument, NULL, OPT_WEIGHTS },
		{ "default-weight", required_argument, NULL, OPT_DEFAULT_WEIGHT },
		{ "previous", required_argument, NULL, OPT_PREVIOUS },
		CD_OPTS_BASE, { 0 }
	};
	struct planning p = { 0 };
	int opt, shards = 0;

	while ((opt = cd_getopt(argc, argv, "hqv", longopts)) != -1) {
		if (opt == OPT_SHARDS)
			shards = (int)cd_opt_long("shards", optarg, 1, CD_SHARD_MAX);
		else if (!planning_opt(&p, opt, optarg) && !cd_opts_common(opt, optarg, usage_plan))
			usage_plan(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	if (!shards)
		cd_usage_error("plan: --shards N is required");
	planning_finish(&p, shards);

	struct records rs;
	int got = read_all(&rs);
	int *shard = cd_xcalloc(rs.n ? rs.n : 1, sizeof(*shard));
	plan_records(&rs, &p, shards, 1, shard);
	for (size_t i = 0; i < rs.n; i++) {
		cd_record_write(cd_shard_set(rs.v[i], shard[i], shards));
		rs.v[i] = jv_null();
	}
	free(shard);
	planning_release(&p);
	return finish(&rs, got);
}

static const char *env_get(const char *name, void *ctx)
{
	return getenv(name);
}

static void locate(int index, int total, const char *engine, struct cd_shard_where *w)
{
	if (!engine) {
		const char *e = getenv("CD_SHARD_ENGINE");
		engine = e && *e ? e : NULL;
	}
	if (cd_shard_locate(index, total, engine, env_get, NULL, w) < 0)
		cd_usage_error("%s", cd_errmsg());
	cd_debug("%s", w->how);
}

static int cmd_pick(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "index", required_argument, NULL, OPT_INDEX },
		{ "total", required_argument, NULL, OPT_TOTAL },
		{ "engine", required_argument, NULL, OPT_ENGINE },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "weights", required_argument, NULL, OPT_WEIGHTS },
		{ "default-weight", required_argument, NULL, OPT_DEFAULT_WEIGHT },
		{ "previous", required_argument, NULL, OPT_PREVIOUS },
		CD_OPTS_BASE, { 0 }
	};
	struct planning p = { 0 };
	const char *engine = NULL;
	int opt, index = -1, total = -1;

	while ((opt = cd_getopt(argc, argv, "hqv", longopts)) != -1) {
		if (opt == OPT_INDEX)
			index = (int)cd_opt_long("index", optarg, 0, CD_SHARD_MAX - 1);
		else if (opt == OPT_TOTAL)
			total = (int)cd_opt_long("total", optarg, 1, CD_SHARD_MAX);
		else if (opt == OPT_ENGINE)
			engine = optarg;
		else if (!planning_opt(&p, opt, optarg) && !cd_opts_common(opt, optarg, usage_pick))
			usage_pick(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	struct cd_shard_where w;
	locate(index, total, engine, &w);
	planning_finish(&p, w.total);

	struct records rs;
	int got = read_all(&rs);
	int *shard = cd_xcalloc(rs.n ? rs.n : 1, sizeof(*shard));
	size_t planned = plan_records(&rs, &p, w.total, 0, shard), kept = 0;
	for (size_t i = 0; i < rs.n; i++) {
		if (shard[i] != w.index)
			continue;
		cd_record_write(cd_shard_set(rs.v[i], shard[i], w.total));
		rs.v[i] = jv_null();
		kept++;
	}
	if (planned)
		cd_debug("%zu of %zu records had no plan for %d shards: planned here (%s)", planned, rs.n,
			 w.total, p.strategy == CD_SHARD_STABLE ? "stable" : "balanced");
	cd_debug("kept %zu of %zu records", kept, rs.n);
	free(shard);
	planning_release(&p);
	return finish(&rs, got);
}

static int cmd_index(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "index", required_argument, NULL, OPT_INDEX },
		{ "total", required_argument, NULL, OPT_TOTAL },
		{ "engine", required_argument, NULL, OPT_ENGINE },
		CD_OPTS_BASE, { 0 }
	};
	const char *engine = NULL;
	int opt, index = -1, total = -1;

	while ((opt = cd_getopt(argc, argv, "hqv", longopts)) != -1) {
		if (opt == OPT_INDEX)
			index = (int)cd_opt_long("index", optarg, 0, CD_SHARD_MAX - 1);
		else if (opt == OPT_TOTAL)
			total = (int)cd_opt_long("total", optarg, 1, CD_SHARD_MAX);
		else if (opt == OPT_ENGINE)
			engine = optarg;
		else if (!cd_opts_common(opt, optarg, usage_index))
			usage_index(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	struct cd_shard_where w;
	locate(index, total, engine, &w);
	printf("%d %d\n", w.index, w.total);
	return cd_record_flush() < 0 ? CD_EXIT_FAIL : CD_EXIT_OK;
}

static int cmd_matrix(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "shards", required_argument, NULL, OPT_SHARDS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "script", required_argument, NULL, OPT_SCRIPT },
		CD_OPTS_BASE, { 0 }
	};
	const char *format = NULL, *image = NULL, *script = NULL;
	enum cd_shard_format f;
	int opt, shards = 0;

	while ((opt = cd_getopt(argc, argv, "hqv", longopts)) != -1) {
		if (opt == OPT_SHARDS)
			shards = (int)cd_opt_long("shards", optarg, 1, CD_SHARD_MAX);
		else if (opt == OPT_FORMAT)
			format = optarg;
		else if (opt == OPT_IMAGE)
			image = optarg;
		else if (opt == OPT_SCRIPT)
			script = optarg;
		else if (!cd_opts_common(opt, optarg, usage_matrix))
			usage_matrix(CD_EXIT_USAGE);
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	if (!shards)
		cd_usage_error("matrix: --shards N is required");
	if (!format)
		cd_usage_error("matrix: --format github|gitlab|k8s|slurm is required");
	if (cd_shard_format_parse(format, &f) < 0)
		cd_usage_error("--format: %s", cd_errmsg());

	struct cd_buf b;
	cd_buf_init(&b, 0);
	if (cd_shard_matrix(&b, shards, f, image, script) < 0) {
		cd_error("%s", cd_errmsg());
		cd_buf_release(&b);
		return CD_EXIT_FAIL;
	}
	int status = CD_EXIT_OK;
	if (fwrite(b.p, 1, b.len, stdout) != b.len || cd_record_flush() < 0)
		status = CD_EXIT_FAIL;
	cd_buf_release(&b);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { CD_OPTS_BASE, { 0 } };
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "plan", cmd_plan }, { "pick", cmd_pick }, { "index", cmd_index }, { "matrix", cmd_matrix },
	};

	cd_msg_init(argv[0]);
	if (argc > 1 && argv[1][0] != '-') {
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[1], cmds[i].name))
				return cmds[i].fn(argc - 1, argv + 1);
		cd_usage_error("unknown command '%s': expected plan, pick, index or matrix", argv[1]);
	}
	int opt;
	while ((opt = cd_getopt(argc, argv, "hqv", longopts)) != -1)
		if (!cd_opts_common(opt, optarg, usage))
			usage(CD_EXIT_USAGE);
	cd_usage_error("a command is required: plan, pick, index or matrix");
}
