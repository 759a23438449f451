#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/contract.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/timing.h"
#include "core/banned.h"

/* ---- reading and writing records ---- */

void cd_reader_init(struct cd_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name ? name : "stdin";
	r->max = CD_RECORD_MAX;
}

void cd_reader_release(struct cd_reader *r)
{
	free(r->line);
	r->line = NULL;
	r->cap = 0;
}

/* Read one line into r->line; returns its length, -1 at EOF, -2 if too long. */
static long read_line(struct cd_reader *r, int *eof)
{
	size_t len = 0;
	int toolong = 0, c;
	*eof = 0;
	while ((c = getc(r->fp)) != EOF) {
		if (c == '\n')
			break;
		if (len >= r->max) {
			toolong = 1;
			continue; /* drain the rest of the line */
		}
		if (len + 1 >= r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4096;
			r->line = cd_xrealloc(r->line, r->cap);
		}
		r->line[len++] = (char)c;
	}
	if (c == EOF && len == 0 && !toolong) {
		*eof = 1;
		return -1;
	}
	if (r->line)
		r->line[len] = '\0';
	return toolong ? -2 : (long)len;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int cd_reader_next(struct cd_reader *r, jv *out)
{
	for (;;) {
		int eof;
		long n = read_line(r, &eof);
		if (eof) {
			if (ferror(r->fp))
				return cd_seterr("cannot read %s: %s", r->name, strerror(errno));
			return 0;
		}
		r->lineno++;
		if (n == -2) {
			cd_error("%s:%lu: line longer than %zu bytes, skipped", r->name, r->lineno, r->max);
			r->malformed++;
			continue;
		}
		if (blank(r->line, (size_t)n))
			continue;
		jv v = jv_parse_sized(r->line, (int)n);
		if (!jv_is_valid(v)) {
			jv msg = jv_invalid_get_msg(v);
			const char *m = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "invalid JSON";
			/* jq quotes the whole line after this: it can be megabytes, and the line number says which */
			const char *quote = strstr(m, " (while parsing '");
			cd_error("%s:%lu: malformed record, skipped: %.*s", r->name, r->lineno,
				 quote ? (int)(quote - m) : (int)strlen(m), m);
			jv_free(msg);
			r->malformed++;
			continue;
		}
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			cd_error("%s:%lu: malformed record, skipped: not a JSON object", r->name, r->lineno);
			jv_free(v);
			r->malformed++;
			continue;
		}
		r->len = (size_t)n;
		*out = v;
		return 1;
	}
}

static int write_failed(void)
{
	if (errno == EPIPE) {
		/* Downstream went away: end as a filter killed by SIGPIPE would. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	return cd_seterr("cannot write records to stdout: %s", strerror(errno));
}

int cd_record_write_line(const char *line, size_t len)
{
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
		return write_failed();
	/* Records are few and consumers stream: hand each one on at once. */
	if (fflush(stdout) == EOF)
		return write_failed();
	return 0;
}

int cd_record_write(jv rec)
{
	jv s = jv_dump_string(rec, 0);
	int r = cd_record_write_line(jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
	return r;
}

int cd_record_flush(void)
{
	int e = fflush(stdout) == EOF ? errno : ferror(stdout) ? EIO : 0;
	if (!e)
		return 0;
	errno = e;
	return write_failed();
}


/* A cleared slot is FREE (0), never QUEUED work for a worker to take. */
enum state { FREE, QUEUED, RUNNING, DONE };

struct item {
	char *in, *out;
	char *report;           /* the stderr line of a record this tool failed */
	enum state state;
	int failed, invalid;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, finished;
	struct item *ring;
	size_t cap;             /* ring size */
	unsigned long head;     /* next to write */
	unsigned long tail;     /* next to fill */
	unsigned long next;     /* next for a worker to take */
	int closing;
	int abandon;            /* stdout failed: run nothing more, write nothing more */
	struct cd_err write_error; /* why, once abandon is set */
	cd_pool_fn fn;
	void *ctx;
};

/* Serialise v (consumed). */
static char *dump(jv v)
{
	jv s = jv_dump_string(v, 0);
	char *p = cd_xstrdup(jv_string_value(s));
	jv_free(s);
	return p;
}

/* Did fn add an error of this tool to a record that had none? */
static int newly_failed(jv out)
{
	if (!cd_record_has_error(out))
		return 0;
	jv e = jv_object_get(jv_copy(out), jv_string("error"));
	jv t = jv_get_kind(e) == JV_KIND_OBJECT ? jv_object_get(jv_copy(e), jv_string("tool")) : jv_invalid();
	int mine = jv_get_kind(t) == JV_KIND_STRING && !strcmp(jv_string_value(t), cd_prog());
	jv_free(t);
	jv_free(e);
	return mine;
}

/*
 * A record just read: 1 when it goes to fn; 0 when it is written as it is
 * (an "error" record passed on, or one that breaks the contract, which
 * then carries its error: *rec replaced, *invalid set).
 */
static const char *const *pool_focus;
static size_t pool_nfocus;

void cd_pool_focus(const char *const *focus, size_t n)
{
	pool_focus = focus;
	pool_nfocus = n;
}

static int in_focus(jv rec)
{
	const char *v = cd_jv_str(rec, "version");
	/* a record without a version is in a "name:*" focus only: "" is no focus's version */
	return cd_record_in_focus(pool_focus, pool_nfocus, cd_jv_str(rec, "name"), v ? v : "", NULL);
}

static int admit(struct cd_reader *r, unsigned flags, jv *rec, int *invalid)
{
	*invalid = 0;
	if (!in_focus(*rec))
		return 0;
	if (cd_record_has_error(*rec))
		return !(flags & CD_POOL_PASS_ERRORS);
	if (cd_record_check(*rec, r->line, r->len) == 0)
		return 1;
	*rec = cd_record_set_error(*rec, NULL, "invalid record: %s", cd_errmsg());
	*invalid = 1;
	return 0;
}

static void apply(struct pool *p, struct item *it)
{
	jv rec = jv_parse(it->in);
	double t0 = cd_timing_now();
	/* fn first: C leaves the order of a call's arguments open */
	jv out = p->fn(rec, p->ctx);
	out = cd_timing_stamp(out, cd_prog(), cd_timing_now() - t0);
	it->failed = newly_failed(out);
	if (it->failed)
		it->report = cd_record_failure(out);
	it->out = dump(out);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		/* Items before head are written and their slots cleared (or reused). */
		if (p->next < p->head)
			p->next = p->head;
		while (p->next < p->tail && p->ring[p->next % p->cap].state != QUEUED)
			p->next++;
		if (p->next < p->tail && !p->abandon) {
			struct item *it = &p->ring[p->next % p->cap];
			p->next++;
			it->state = RUNNING;
			pthread_mutex_unlock(&p->mu);
			apply(p, it);
			pthread_mutex_lock(&p->mu);
			it->state = DONE;
			pthread_cond_broadcast(&p->finished);
			continue;
		}
		if (p->closing)
			break;
		pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Say why a record failed, then write it.  -1 (cd_errmsg()) when stdout failed. */
static int put(const char *line, const char *report)
{
	if (report)
		cd_error("%s", report);
	return cd_record_write_line(line, strlen(line));
}

static void count(struct cd_pool_stats *st, int failed, int invalid)
{
	st->failed += failed || invalid;
	st->invalid += invalid;
}

/*
 * Write finished items at the head, in order.  Called with the lock held.
 * Waits for the head item while the ring is full (or always, wait_all).
 * After a write error nothing more is written: items not started are
 * dropped, running ones waited for.
 */
static void drain(struct pool *p, struct cd_pool_stats *st, int wait_all)
{
	while (p->head < p->tail) {
		struct item *it = &p->ring[p->head % p->cap];
		if (it->state == RUNNING || (it->state == QUEUED && !p->abandon)) {
			if (!wait_all && p->tail - p->head < p->cap)
				return;
			pthread_cond_wait(&p->finished, &p->mu);
			continue;
		}
		int write = !p->abandon;
		pthread_mutex_unlock(&p->mu);
		int bad = 0;
		if (write) {
			count(st, it->failed, it->invalid);
			bad = put(it->out ? it->out : it->in, it->report) < 0;
		}
		if (bad)
			cd_err_save(&p->write_error);
		pthread_mutex_lock(&p->mu);
		free(it->in);
		free(it->out);
		free(it->report);
		memset(it, 0, sizeof(*it)); /* FREE, under the lock: workers scan the states */
		if (bad)
			p->abandon = 1;
		p->head++;
	}
}

static int run_inline(struct cd_reader *r, unsigned flags, cd_pool_fn fn, void *ctx, struct cd_pool_stats *st)
{
	jv rec;
	int got;
	while ((got = cd_reader_next(r, &rec)) > 0) {
		int invalid, failed = 0;
		char *report = NULL;
		st->records++;
		if (admit(r, flags, &rec, &invalid)) {
			double t0 = cd_timing_now();
			rec = fn(rec, ctx);
			rec = cd_timing_stamp(rec, cd_prog(), cd_timing_now() - t0);
			failed = newly_failed(rec);
		}
		if (failed || invalid)
			report = cd_record_failure(rec);
		count(st, failed, invalid);
		char *line = dump(rec);
		int bad = put(line, report);
		free(line);
		free(report);
		if (bad)
			return -1;
	}
	return got;
}

int cd_pool_run(struct cd_reader *r, int workers, unsigned flags,
		cd_pool_fn fn, void *ctx, struct cd_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (workers <= 1)
		return run_inline(r, flags, fn, ctx, st);

	struct pool p = { .fn = fn, .ctx = ctx };
	pthread_t *th = cd_xcalloc((size_t)workers, sizeof(*th));
	p.cap = (size_t)workers * 2;
	p.ring = cd_xcalloc(p.cap, sizeof(*p.ring));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.finished, NULL);
	int started = 0;
	while (started < workers && pthread_create(&th[started], NULL, worker, &p) == 0)
		started++;
	if (!started) { /* no thread to be had: the records are still run, one at a time */
		pthread_mutex_destroy(&p.mu);
		pthread_cond_destroy(&p.work);
		pthread_cond_destroy(&p.finished);
		free(p.ring);
		free(th);
		return run_inline(r, flags, fn, ctx, st);
	}

	jv rec;
	int got;
	while ((got = cd_reader_next(r, &rec)) > 0) {
		st->records++;
		struct item it = { .state = QUEUED };
		if (!admit(r, flags, &rec, &it.invalid)) {
			it.state = DONE;
			if (it.invalid)
				it.report = cd_record_failure(rec);
		}
		it.in = dump(rec);
		pthread_mutex_lock(&p.mu);
		drain(&p, st, 0); /* makes room: waits while the ring is full */
		int queued = !p.abandon;
		if (queued) {
			p.ring[p.tail % p.cap] = it;
			p.tail++;
			pthread_cond_broadcast(&p.work);
			drain(&p, st, 0);
		}
		int stop = p.abandon;
		pthread_mutex_unlock(&p.mu);
		if (!queued) {
			free(it.in);
			free(it.report);
		}
		if (stop)
			break;
	}
	pthread_mutex_lock(&p.mu);
	p.closing = 1;
	pthread_cond_broadcast(&p.work);
	drain(&p, st, 1);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.work);
	pthread_cond_destroy(&p.finished);
	free(p.ring);
	free(th);
	if (p.abandon) {
		cd_err_raise(&p.write_error);
		return -1;
	}
	return got;
}

int cd_pool_exit_status(const struct cd_reader *r, const struct cd_pool_stats *st)
{
	if (r->malformed)
		return CD_EXIT_INPUT;
	if (st->failed)
		return CD_EXIT_FAIL;
	return CD_EXIT_OK;
}

int cd_pool_emit(jv rec, struct cd_pool_stats *st)
{
	int invalid = !cd_record_has_error(rec) && cd_record_check(rec, NULL, 0) < 0;
	if (invalid)
		rec = cd_record_set_error(rec, NULL, "invalid record: %s", cd_errmsg());
	int failed = newly_failed(rec);
	char *report = failed ? cd_record_failure(rec) : NULL;
	char *line = dump(rec);
	st->records++;
	count(st, failed, invalid);
	int r = put(line, report);
	free(line);
	free(report);
	return r;
}

int cd_pool_main(int workers, unsigned flags, cd_pool_fn fn, void *ctx)
{
	struct cd_reader r;
	struct cd_pool_stats st;

	cd_reader_init(&r, stdin, "stdin");
	int io = cd_pool_run(&r, workers, flags, fn, ctx, &st) < 0;
	if (io)
		cd_error("%s", cd_errmsg());
	if (!io && cd_record_flush() < 0) {
		cd_error("%s", cd_errmsg());
		io = 1;
	}
	int status = io ? CD_EXIT_IO : cd_pool_exit_status(&r, &st);
	cd_reader_release(&r);
	return status;
}
