#ifndef CD_PROGRESS_H
#define CD_PROGRESS_H
/*
 * Progress on stderr for long transfers and steps.
 *
 * When stderr is a terminal (and not --quiet), every running bar gets one
 * line (label, bytes, rate, ETA) that is redrawn in place, at most a few
 * times a second; bars of parallel transfers stack, one line each.  When
 * stderr is not a terminal (a CI log), a bar is plain lines instead:
 * "<label>: started (<size>)", then "<label>: 40% <bytes> / <size> <rate>
 * ETA m:ss" each time it passes another tenth, or after 30 s without a
 * line, and cd_progress_done()'s line at the end.  --quiet: none of it.
 *
 * Thread-safe: all output goes through one lock, so notes printed with
 * cd_progress_note() never tear a bar.  Like msg.h, this prints: only
 * tools and the thin layers they drive (download.c) call it.
 */

struct cd_progress_bar;

/* Start a bar; total 0 when unknown.  Never NULL. */
struct cd_progress_bar *cd_progress_start(const char *label, long long total);
/* Bytes so far (and the total, if now known: 0 keeps the old one). */
void cd_progress_update(struct cd_progress_bar *b, long long now, long long total);
/* Remove the bar and print "<label>: <what>" with bytes, time and rate; frees b. */
void cd_progress_done(struct cd_progress_bar *b, const char *what);
/* Remove the bar without a line (failed step: the error says it); frees b. */
void cd_progress_abort(struct cd_progress_bar *b);
/* A plain informational line, printed above any bars. */
void cd_progress_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "1.5 MiB" style sizes into out (at least 16 bytes). */
void cd_progress_human(long long bytes, char *out, size_t n);

#endif
