/*
 * Unit tests for the record loop (core/loop.c): with 1 to 8 workers, records
 * come out in input order, as many as went in, failures and invalid
 * records are counted and said on stderr once each, in order; a write
 * error on stdout stops the loop.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "unit.h"
#include "core/banned.h"

#define N 300

static pthread_mutex_t calls_mu = PTHREAD_MUTEX_INITIALIZER;
static int calls;
/*
 * The second shape of input: most records already failed and the work is
 * instant, so workers keep meeting slots the writer is clearing at the head.
 */
static int fast;

/* Every 7th record fails; the work takes longer for some, so workers finish out of order. */
static jv work(jv rec, void *ctx)
{
	(void)ctx;
	int i = (int)cd_jv_num(rec, "i", -1);
	pthread_mutex_lock(&calls_mu);
	calls++;
	pthread_mutex_unlock(&calls_mu);
	struct timespec ts = { 0, (long)((i * 7919) % 5) * 200000L };
	if (!fast)
		nanosleep(&ts, NULL);
	if (i % 7 == 0)
		return cd_record_set_error(rec, i % 2 ? "arm64" : NULL, "failed %d", i);
	return jv_object_set(rec, jv_string("done"), jv_number(i));
}

static const char *sum = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/*
 * Records that already failed upstream: written as they are, never run.
 * Many of them, so that workers often meet finished slots at the head.
 */
static int upstream_failed(int i)
{
	return i != 50 && (i == 100 || (fast ? i % 5 != 1 : i % 5 == 3));
}

/* The input: N records, of which #50 breaks the contract, some failed upstream, a bad line after #150. */
static char *make_input(void)
{
	struct cd_buf b;
	cd_buf_init(&b, 0);
	for (int i = 1; i <= N; i++) {
		const char *arch = i == 50 ? "sparc" : "amd64";
		cd_buf_putf(&b, "{\"i\":%d,\"name\":\"loop\",\"version\":\"v%d\",\"artifacts\":[{\"arch\":\"%s\","
			    "\"url\":\"https://upstream.example/x\",\"checksum\":\"%s\"}]%s}\n", i, i, arch, sum,
			    upstream_failed(i) ? ",\"error\":{\"tool\":\"cd-discover\",\"message\":\"upstream\"}" : "");
		if (i == 150)
			cd_buf_puts(&b, "{not json\n");
	}
	return cd_buf_detach(&b, NULL);
}

static char *slurp(FILE *fp)
{
	struct cd_buf b;
	char chunk[4096];
	size_t n;
	cd_buf_init(&b, 0);
	rewind(fp);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		cd_buf_put(&b, chunk, n);
	return cd_buf_detach(&b, NULL);
}

/* Run the pool over input with stdout and stderr going to files; returns cd_pool_run's result. */
static int run(const char *input, int workers, const char *out_path, char **out, char **err,
	       struct cd_reader *r, struct cd_pool_stats *st)
{
	FILE *in = fmemopen((void *)input, strlen(input), "r");
	FILE *o = out_path ? NULL : tmpfile(), *e = tmpfile();
	int save1 = dup(1), save2 = dup(2);
	fflush(stdout);
	fflush(stderr);
	if (out_path) {
		int fd = open(out_path, O_WRONLY);
		dup2(fd, 1);
		close(fd);
	} else {
		dup2(fileno(o), 1);
	}
	dup2(fileno(e), 2);
	clearerr(stdout);
	cd_reader_init(r, in, "stdin");
	int ret = cd_pool_run(r, workers, CD_POOL_PASS_ERRORS, work, NULL, st);
	fflush(stdout);
	__fpurge(stdout); /* what /dev/full refused must not reach the real stdout later */
	clearerr(stdout);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	*out = o ? slurp(o) : NULL;
	*err = slurp(e);
	if (o)
		fclose(o);
	fclose(e);
	fclose(in);
	return ret;
}

static void test_order_and_counts(int workers)
{
	char *input = make_input(), *out, *err;
	struct cd_reader r;
	struct cd_pool_stats st;
	calls = 0;
	CHECK(run(input, workers, NULL, &out, &err, &r, &st) == 0);
	CHECK(r.malformed == 1);
	CHECK(st.records == N);
	/* failed by work: multiples of 7 that reached it; plus the invalid #50. */
	unsigned long want_failed = 1, passed = 0;
	for (int k = 1; k <= N; k++) {
		passed += upstream_failed(k);
		want_failed += k % 7 == 0 && !upstream_failed(k);
	}
	CHECK(st.failed == want_failed);
	CHECK(st.invalid == 1);
	CHECK(calls == (int)(N - passed - 1)); /* neither the invalid record nor the error records reach fn */

	/* Every record, in order, each with the right outcome. */
	char *line = out, *nl;
	int i = 0, ok = 1;
	while ((nl = strchr(line, '\n'))) {
		*nl = '\0';
		jv rec = jv_parse(line);
		i++;
		int has = cd_record_has_error(rec);
		if ((int)cd_jv_num(rec, "i", -1) != i)
			ok = 0;
		else if (i == 50 || upstream_failed(i) || i % 7 == 0)
			ok &= has;
		else
			ok &= !has && (int)cd_jv_num(rec, "done", -1) == i;
		jv_free(rec);
		line = nl + 1;
	}
	CHECK(i == N);
	CHECK(ok);

	/* stderr: the bad line, then one report per failed record, in input order. */
	struct cd_buf want;
	cd_buf_init(&want, 0);
	for (int k = 1; k <= N; k++) {
		if (k == 50)
			cd_buf_putf(&want, "cd-test: loop:v50: invalid record: artifacts[0].arch: unknown "
				    "architecture 'sparc' (amd64, arm64 or s390x)\n");
		else if (k % 7 == 0 && !upstream_failed(k))
			cd_buf_putf(&want, "cd-test: loop:v%d%s: failed %d\n", k, k % 2 ? " arm64" : "", k);
	}
	char *reports = strstr(err, "cd-test: loop:");
	CHECK(strstr(err, "cd-test: stdin:151: malformed record, skipped: ") != NULL);
	/* the malformed-line message may come anywhere: drop it before comparing */
	struct cd_buf got;
	cd_buf_init(&got, 0);
	for (char *p = reports ? reports : err; *p;) {
		char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p + 1) : strlen(p);
		if (!strncmp(p, "cd-test: loop:", 14))
			cd_buf_put(&got, p, n);
		p += n;
	}
	CHECK_STR(got.p, want.p);
	cd_buf_release(&got);
	cd_buf_release(&want);
	cd_reader_release(&r);
	free(input);
	free(out);
	free(err);
}

static void test_write_error(int workers)
{
	char *input = make_input(), *out, *err;
	struct cd_reader r;
	struct cd_pool_stats st;
	calls = 0;
	CHECK(run(input, workers, "/dev/full", &out, &err, &r, &st) == -1);
	CHECK_STR(cd_errmsg(), "cannot write records to stdout: No space left on device");
	/* the loop stopped: the records after the first write were not all run */
	CHECK(calls < N / 2);
	cd_reader_release(&r);
	free(input);
	free(err);
}

int main(void)
{
	static const int workers[] = { 1, 2, 4, 8 };
	cd_msg_init("cd-test");
	for (size_t k = 0; k < sizeof(workers) / sizeof(*workers); k++) {
		for (int round = 0; round < 20; round++) {
			fast = round % 2;
			test_order_and_counts(workers[k]);
		}
		fast = 0;
		test_write_error(workers[k]);
	}
	return unit_done("loop");
}
