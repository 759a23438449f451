/* cd-report: the fan-in of a run: merge the final records of its jobs and report. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "stage/opts.h"
#include "stage/report.h"
#include "core/banned.h"

#define LOADED_MAX (64u << 20)

enum {
	OPT_FORMAT = CD_OPT_TOOL,
	OPT_RESULTS,
	OPT_MERGE,
	OPT_TIMINGS,
	OPT_MERGED,
	OPT_NO_FAIL,
	OPT_PLAN,
};

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-report [--format text|markdown] [--results-file FILE [--merge]]\n"
		"                 [--timings FILE] [--merged FILE] [--plan FILE] [--no-fail]\n"
		"                 [RECORDS...]\n"
		"\n"
		"Merge the final records of one or many jobs (files, or stdin when none or\n"
		"'-'; any order) into one per image and print a summary table (image,\n"
		"action, result, tags, digest, error, seconds) and an architecture table\n"
		"(what upstream has, what the registry serves now).  A second record of an\n"
		"image is a duplicate: both are named on stderr and the one that got\n"
		"further is kept.\n"
		"\n"
		"      --format F           text (default) or markdown (a CI job summary)\n"
		"      --results-file FILE  write medius's results.json: {\"name:version\":\n"
		"                           {\"Tags\", \"Stage\", \"Err\"}} for the images rebuilt\n"
		"                           or failed, as medius writes it (mode 0600)\n"
		"      --merge              keep the other entries of an existing results file\n"
		"                           (as medius's verify and promote do)\n"
		"      --timings FILE       write seconds per image built, for cd-shard plan\n"
		"                           --weights; an existing FILE's other images are kept\n"
		"      --merged FILE        write the merged records, sorted by name:version\n"
		"      --plan FILE          the run's plan: an image of it without a final\n"
		"                           record (its job died) is reported as failed\n"
		"      --no-fail            a failed image, or one that kept an architecture\n"
		"                           as published (carried), is a warning, not exit status 1\n"
		CD_HELP_BASE
		"\n"
		"exit status: 0 every image fine, 1 at least one failed or carried an\n"
		"architecture (or a file could not be written), 2 usage error, 3 malformed\n"
		"input lines (skipped)\n");
	exit(status);
}

/* Read a whole JSON file: jv_null() when absent, exit 2 when unusable. */
static jv load_json(const char *path, const char *flag)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return jv_null();
		cd_usage_error("%s: cannot open '%s': %s", flag, path, strerror(errno));
	}
	struct cd_buf b;
	char chunk[65536];
	size_t n;
	cd_buf_init(&b, LOADED_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (cd_buf_add(&b, chunk, n) < 0)
			cd_usage_error("%s: '%s': %s", flag, path, cd_errmsg());
	int bad = ferror(f);
	fclose(f);
	if (bad)
		cd_usage_error("%s: cannot read '%s'", flag, path);
	jv v = jv_parse_sized(b.p ? b.p : "", (int)b.len);
	cd_buf_release(&b);
	if (!jv_is_valid(v)) {
		jv_free(v);
		cd_usage_error("%s: '%s' is not JSON", flag, path);
	}
	return v;
}

/* Write buf to path through a temporary file and rename: never half a file. */
static int write_file(const char *path, const struct cd_buf *b, mode_t mode)
{
	char *tmp = cd_xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int ok = fd >= 0;
	if (ok && fchmod(fd, mode) < 0)
		ok = 0;
	for (size_t off = 0; ok && off < b->len;) {
		ssize_t w = write(fd, b->p + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			ok = 0;
		else
			off += (size_t)w;
	}
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	if (ok && rename(tmp, path) < 0)
		ok = 0;
	if (!ok) {
		cd_error("cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

/* Read the records of one input into the report: its malformed-line count. */
static int read_input(struct cd_report *rep, const char *path)
{
	int std = !strcmp(path, "-");
	FILE *f = std ? stdin : fopen(path, "rb");
	if (!f) {
		cd_error("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	struct cd_reader r;
	jv rec;
	int got;
	cd_reader_init(&r, f, std ? "stdin" : path);
	while ((got = cd_reader_next(&r, &rec)) > 0) {
		char *src = cd_xasprintf("%s:%lu", r.name, r.lineno), *dup;
		cd_report_add(rep, rec, src, &dup);
		if (dup)
			cd_warn("%s", dup);
		free(dup);
		free(src);
	}
	if (got < 0)
		cd_error("%s", cd_errmsg());
	int malformed = r.malformed;
	cd_reader_release(&r);
	if (!std)
		fclose(f);
	return got < 0 ? -1 : malformed;
}

/* The images of the plan that no job's records hold are failures. */
static int read_plan(struct cd_report *rep, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		cd_error("--plan: cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	struct cd_reader r;
	jv rec;
	int got;
	cd_reader_init(&r, f, path);
	while ((got = cd_reader_next(&r, &rec)) > 0) {
		char *key = cd_record_id(rec);
		if (cd_report_expect(rep, rec))
			cd_error("%s: in the plan, but no job wrote its final record", key);
		free(key);
	}
	if (got < 0)
		cd_error("%s", cd_errmsg());
	cd_reader_release(&r);
	fclose(f);
	return got < 0 ? -1 : 0;
}

struct cli {
	const char *results, *timings, *merged, *plan; /* the flags' files, NULL when not given */
	enum cd_report_format format;
	int merge, no_fail;
};

static void parse_args(struct cli *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "results-file", required_argument, NULL, OPT_RESULTS },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "timings", required_argument, NULL, OPT_TIMINGS },
		{ "merged", required_argument, NULL, OPT_MERGED },
		{ "no-fail", no_argument, NULL, OPT_NO_FAIL },
		{ "plan", required_argument, NULL, OPT_PLAN },
		CD_OPTS_BASE, { 0 }
	};
	int opt;

	memset(o, 0, sizeof(*o));
	o->format = CD_REPORT_TEXT;
	while ((opt = cd_getopt(argc, argv, "hqv", longopts)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				o->format = CD_REPORT_TEXT;
			else if (!strcmp(optarg, "markdown"))
				o->format = CD_REPORT_MARKDOWN;
			else
				cd_usage_error("invalid value '%s' for --format: expected text or markdown", optarg);
			break;
		case OPT_RESULTS: o->results = optarg; break;
		case OPT_MERGE: o->merge = 1; break;
		case OPT_TIMINGS: o->timings = optarg; break;
		case OPT_MERGED: o->merged = optarg; break;
		case OPT_NO_FAIL: o->no_fail = 1; break;
		case OPT_PLAN: o->plan = optarg; break;
		default:
			if (!cd_opts_common(opt, optarg, usage))
				usage(CD_EXIT_USAGE);
		}
	}
	if (o->merge && !o->results)
		cd_usage_error("--merge needs --results-file");
}

/* The tables on stdout and the files the flags name; -1 when one was not written. */
static int write_outputs(struct cd_report *rep, const struct cli *o, jv prev_results, jv prev_timings)
{
	struct cd_buf b;
	int ret = 0;

	cd_buf_init(&b, 0);
	if (cd_report_tables(rep, o->format, &b) < 0 || fwrite(b.p, 1, b.len, stdout) != b.len)
		ret = -1;
	if (o->results) {
		cd_buf_reset(&b);
		if (cd_report_results(rep, prev_results, &b) < 0) {
			cd_error("--results-file: '%s': %s", o->results, cd_errmsg());
			ret = -1;
		} else if (write_file(o->results, &b, 0600) < 0) {
			ret = -1;
		}
	}
	if (o->timings) {
		size_t written = 0;
		cd_buf_reset(&b);
		if (cd_report_timings(rep, prev_timings, &b, &written) < 0) {
			cd_error("--timings: '%s': %s", o->timings, cd_errmsg());
			ret = -1;
		} else {
			if (!written)
				cd_warn("--timings: no image built in this run carries \"seconds\" "
					"(run the stages with CD_TIMINGS=1)");
			if (write_file(o->timings, &b, 0644) < 0)
				ret = -1;
		}
	}
	if (o->merged) {
		cd_buf_reset(&b);
		if (cd_report_records(rep, &b) < 0 || write_file(o->merged, &b, 0644) < 0)
			ret = -1;
	}
	cd_buf_release(&b);
	return ret;
}

/* The warnings at the end, and the exit status from what was read and written. */
static int finish(struct cd_report *rep, const struct cli *o, int status, int malformed)
{
	struct cd_report_counts c;

	cd_report_count(rep, &c);
	if (rep->duplicates)
		cd_warn("%zu duplicate records (each image should be in exactly one job's records)", rep->duplicates);
	if (c.failed && o->no_fail)
		cd_warn("%zu of %zu images failed (--no-fail: exit status 0)", c.failed, c.images);
	if (c.carried)
		cd_warn("%zu image%s kept an architecture as published (see CARRIED)%s", c.carried,
			c.carried == 1 ? "" : "s", o->no_fail ? " (--no-fail: exit status 0)" : "");
	/* as every tool: an I/O failure 1, then malformed input 3, then failed records 1 */
	if (status == CD_EXIT_OK && malformed)
		return CD_EXIT_INPUT;
	if (status == CD_EXIT_OK && (c.failed || c.carried) && !o->no_fail)
		return CD_EXIT_FAIL;
	return status;
}

int main(int argc, char **argv)
{
	struct cli o;
	struct cd_report rep;
	int status = CD_EXIT_OK, malformed = 0;

	cd_msg_init(argv[0]);
	parse_args(&o, argc, argv);
	jv prev_results = o.results && o.merge ? load_json(o.results, "--results-file") : jv_null();
	jv prev_timings = o.timings ? load_json(o.timings, "--timings") : jv_null();

	cd_report_init(&rep);
	for (int i = optind; i < argc || (i == optind && optind == argc); i++) {
		int m = read_input(&rep, i < argc ? argv[i] : "-");
		if (m < 0)
			status = CD_EXIT_FAIL;
		else
			malformed += m;
	}
	if (o.plan && read_plan(&rep, o.plan) < 0)
		status = CD_EXIT_FAIL;
	if (write_outputs(&rep, &o, prev_results, prev_timings) < 0)
		status = CD_EXIT_FAIL;
	status = finish(&rep, &o, status, malformed);
	jv_free(prev_results);
	jv_free(prev_timings);
	cd_report_release(&rep);
	if (cd_record_flush() < 0)
		status = CD_EXIT_FAIL;
	return status;
}
