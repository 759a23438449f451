#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "msg.h"
#include "pool.h"
#include "timing.h"
#include "banned.h"

struct item {
	char *in, *out;
	int done, passthrough, failed;
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
	cd_pool_fn fn;
	void *ctx;
};

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

static void apply(struct pool *p, struct item *it)
{
	jv rec = jv_parse(it->in);
	double t0 = cd_timing_now();
	/* fn first: C leaves the order of a call's arguments open */
	jv out = p->fn(rec, p->ctx);
	out = cd_timing_stamp(out, cd_prog(), cd_timing_now() - t0);
	it->failed = newly_failed(out);
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
		while (p->next < p->tail && p->ring[p->next % p->cap].passthrough)
			p->next++;
		if (p->next < p->tail) {
			struct item *it = &p->ring[p->next % p->cap];
			p->next++;
			pthread_mutex_unlock(&p->mu);
			apply(p, it);
			pthread_mutex_lock(&p->mu);
			it->done = 1;
			pthread_cond_broadcast(&p->finished);
			continue;
		}
		if (p->closing)
			break;
		pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	cd_http_thread_cleanup();
	return NULL;
}

/* Write finished items at the head, in order.  Called with the lock held. */
static void drain(struct pool *p, struct cd_pool_stats *st, int wait_all)
{
	while (p->head < p->tail) {
		struct item *it = &p->ring[p->head % p->cap];
		if (!it->done) {
			if (!wait_all && p->tail - p->head < p->cap)
				return;
			pthread_cond_wait(&p->finished, &p->mu);
			continue;
		}
		/*
		 * Take the item out and move head past it before unlocking: a
		 * worker scanning for work from head reads the slots under the
		 * lock, and must never see one half cleared (a passthrough
		 * item with its flag gone looks like work with no input).
		 */
		struct item mine = *it;
		memset(it, 0, sizeof(*it));
		p->head++;
		pthread_mutex_unlock(&p->mu);
		const char *line = mine.out ? mine.out : mine.in;
		cd_record_write_line(line, strlen(line));
		if (mine.failed)
			st->failed++;
		free(mine.in);
		free(mine.out);
		pthread_mutex_lock(&p->mu);
	}
}

static int run_inline(struct cd_reader *r, unsigned flags, cd_pool_fn fn, void *ctx, struct cd_pool_stats *st)
{
	jv rec;
	int got;
	while ((got = cd_reader_next(r, &rec)) > 0) {
		st->records++;
		if ((flags & CD_POOL_PASS_ERRORS) && cd_record_has_error(rec)) {
			cd_record_write(rec);
			continue;
		}
		double t0 = cd_timing_now();
		jv out = fn(rec, ctx);
		out = cd_timing_stamp(out, cd_prog(), cd_timing_now() - t0);
		if (newly_failed(out))
			st->failed++;
		cd_record_write(out);
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
	for (int i = 0; i < workers; i++)
		if (pthread_create(&th[i], NULL, worker, &p)) {
			cd_error("cannot start worker thread");
			exit(CD_EXIT_FAIL);
		}

	jv rec;
	int got;
	while ((got = cd_reader_next(r, &rec)) > 0) {
		st->records++;
		struct item it = { 0 };
		it.passthrough = (flags & CD_POOL_PASS_ERRORS) && cd_record_has_error(rec);
		it.done = it.passthrough;
		it.in = dump(rec);
		pthread_mutex_lock(&p.mu);
		drain(&p, st, 0); /* makes room: waits while the ring is full */
		p.ring[p.tail % p.cap] = it;
		p.tail++;
		pthread_cond_broadcast(&p.work);
		drain(&p, st, 0);
		pthread_mutex_unlock(&p.mu);
	}
	pthread_mutex_lock(&p.mu);
	p.closing = 1;
	pthread_cond_broadcast(&p.work);
	drain(&p, st, 1);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < workers; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.work);
	pthread_cond_destroy(&p.finished);
	free(p.ring);
	free(th);
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

int cd_pool_main(int workers, unsigned flags, cd_pool_fn fn, void *ctx)
{
	struct cd_reader r;
	struct cd_pool_stats st;

	cd_reader_init(&r, stdin, "stdin");
	int status = CD_EXIT_FAIL;
	if (cd_pool_run(&r, workers, flags, fn, ctx, &st) < 0)
		cd_error("%s", cd_errmsg());
	else
		status = cd_pool_exit_status(&r, &st);
	if (cd_record_flush() < 0)
		status = CD_EXIT_FAIL;
	cd_reader_release(&r);
	return status;
}
