#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/msg.h"
#include "core/progress.h"
#include "core/banned.h"

/* Display lines are cut to fit on purpose: their snprintf results go unchecked. */
#define MAX_BARS 64
#define REDRAW_MS 200
/* Off a terminal: a line each time a transfer passes a tenth, or after this long without one. */
#define LOG_EVERY_MS 30000

struct cd_progress_bar {
	char *label;
	long long now, total;
	long long start_ms;
	long long logged_ms;  /* off a terminal: when the last line was printed */
	int logged_tenth;     /* ... and the tenth it was at */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cd_progress_bar *bars[MAX_BARS];
static int nbars, drawn, tty = -1;
static long long last_draw_ms;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_tty(void)
{
	if (tty < 0)
		tty = isatty(STDERR_FILENO) && cd_verbosity() >= 1;
	return tty;
}

void cd_progress_human(long long bytes, char *out, size_t n)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%lld B", bytes);
	else
		snprintf(out, n, "%.1f %s", v, unit[u]);
}

/* graphic 0: no [####....] (a log line) */
static void format_bar(const struct cd_progress_bar *b, char *line, size_t n, int graphic)
{
	char got[32], tot[32], rate[32], eta[32] = "";
	double secs = (double)(now_ms() - b->start_ms) / 1000.0;
	double bps = secs > 0.05 ? (double)b->now / secs : 0;
	cd_progress_human(b->now, got, sizeof(got));
	cd_progress_human((long long)bps, rate, sizeof(rate));
	if (b->total > 0) {
		cd_progress_human(b->total, tot, sizeof(tot));
		/* The total is the server's Content-Length: a 1 TB file at 2 bytes/s has no ETA worth a cast. */
		double left_s = bps > 0 && b->total > b->now ? (double)(b->total - b->now) / bps : -1;
		if (left_s >= 0 && left_s < 1e7) {
			long left = (long)left_s;
			snprintf(eta, sizeof(eta), " ETA %ld:%02ld", left / 60, left % 60);
		}
		int pct = (int)(100.0 * (double)b->now / (double)b->total);
		int fill = pct / 5;
		char bar[21];
		for (int i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[20] = '\0';
		if (graphic)
			snprintf(line, n, "%.40s [%s] %3d%% %s / %s %s/s%s", b->label, bar, pct, got, tot, rate, eta);
		else
			snprintf(line, n, "%s: %d%% %s / %s %s/s%s", b->label, pct, got, tot, rate, eta);
	} else {
		snprintf(line, n, graphic ? "%.40s %s %s/s" : "%s: %s %s/s", b->label, got, rate);
	}
}

/* Redraw every bar in place.  Called with the lock held. */
static void redraw(void)
{
	char line[256];
	if (drawn)
		fprintf(stderr, "\033[%dA", drawn);
	for (int i = 0; i < nbars; i++) {
		format_bar(bars[i], line, sizeof(line), 1);
		fprintf(stderr, "\r\033[K%s\n", line);
	}
	fputs("\033[J", stderr);
	fflush(stderr);
	drawn = nbars;
	last_draw_ms = now_ms();
}

/* Print one finished line above the bars.  Called with the lock held. */
static void print_line(const char *raw)
{
	char text[1024];
	cd_msg_escape(raw, text, sizeof(text)); /* as every message: no control characters */
	if (is_tty()) {
		if (drawn)
			fprintf(stderr, "\033[%dA", drawn);
		fprintf(stderr, "\r\033[K%s: %s\n", cd_prog(), text);
		drawn = 0;
		redraw();
	} else if (cd_verbosity() >= 1) {
		fprintf(stderr, "%s: %s\n", cd_prog(), text);
	}
}

/*
 * Off a terminal (a CI log): a line when the transfer has passed another
 * tenth of its total, or LOG_EVERY_MS after the last line (total unknown,
 * or slow).  Called with the lock held.
 */
static void log_line(struct cd_progress_bar *b)
{
	char line[512];
	long long t = now_ms();
	int tenth = b->total > 0 ? (int)(10 * b->now / b->total) : 0;
	if (b->total > 0 && b->now >= b->total)
		return; /* cd_progress_done() says it */
	if (tenth <= b->logged_tenth && t - b->logged_ms < LOG_EVERY_MS)
		return;
	b->logged_tenth = tenth;
	b->logged_ms = t;
	format_bar(b, line, sizeof(line), 0);
	print_line(line);
}

struct cd_progress_bar *cd_progress_start(const char *label, long long total)
{
	struct cd_progress_bar *b = cd_xcalloc(1, sizeof(*b));
	char safe[256];
	b->label = cd_xstrdup(cd_msg_escape(label, safe, sizeof(safe)));
	b->total = total;
	b->start_ms = b->logged_ms = now_ms();
	pthread_mutex_lock(&mu);
	if (is_tty() && nbars < MAX_BARS) {
		bars[nbars++] = b;
		redraw();
	} else if (!is_tty()) {
		char size[32], line[512];
		cd_progress_human(total, size, sizeof(size));
		snprintf(line, sizeof(line), total > 0 ? "%s: started (%s)" : "%s: started", b->label, size);
		print_line(line);
	}
	pthread_mutex_unlock(&mu);
	return b;
}

void cd_progress_update(struct cd_progress_bar *b, long long now, long long total)
{
	pthread_mutex_lock(&mu);
	b->now = now;
	if (total > 0)
		b->total = total;
	if (is_tty() && now_ms() - last_draw_ms >= REDRAW_MS)
		redraw();
	else if (!is_tty())
		log_line(b);
	pthread_mutex_unlock(&mu);
}

static void unlink_bar(struct cd_progress_bar *b)
{
	for (int i = 0; i < nbars; i++)
		if (bars[i] == b) {
			memmove(&bars[i], &bars[i + 1], (size_t)(nbars - i - 1) * sizeof(*bars));
			nbars--;
			break;
		}
}

static void free_bar(struct cd_progress_bar *b)
{
	free(b->label);
	free(b);
}

void cd_progress_done(struct cd_progress_bar *b, const char *what)
{
	char size[32], rate[32], line[512];
	double secs = (double)(now_ms() - b->start_ms) / 1000.0;
	cd_progress_human(b->now, size, sizeof(size));
	cd_progress_human(secs > 0.001 ? (long long)((double)b->now / secs) : b->now, rate, sizeof(rate));
	snprintf(line, sizeof(line), "%s: %s %s in %.1f s (%s/s)", b->label, what, size, secs, rate);
	pthread_mutex_lock(&mu);
	unlink_bar(b);
	print_line(line);
	pthread_mutex_unlock(&mu);
	free_bar(b);
}

void cd_progress_abort(struct cd_progress_bar *b)
{
	pthread_mutex_lock(&mu);
	unlink_bar(b);
	if (is_tty())
		redraw();
	pthread_mutex_unlock(&mu);
	free_bar(b);
}

void cd_progress_note(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&mu);
	print_line(line);
	pthread_mutex_unlock(&mu);
}
