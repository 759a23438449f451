#ifndef CD_RECORD_H
#define CD_RECORD_H
/*
 * Newline-delimited JSON records: a streaming reader and a checked writer.
 *
 * Reader: one JSON object per line, at most CD_RECORD_MAX bytes a line.
 * A malformed or over-long line is reported on stderr with its line number
 * and skipped; the reader remembers it so the tool can exit 3 at the end.
 * Blank lines are ignored.  A missing final newline is accepted.
 *
 * Writer: a write error on stdout is fatal (reported, exit 1) -- a full
 * disk must not look like success; a closed pipe downstream ends the tool
 * quietly, the way SIGPIPE ends any Unix filter.
 */
#include <stdio.h>
#include <jv.h>

#define CD_RECORD_MAX (4u << 20)

struct cd_reader {
	FILE *fp;
	const char *name;     /* for messages: "stdin" or a file name */
	unsigned long lineno;
	size_t max;
	int malformed;        /* count of skipped lines */
	char *line;
	size_t cap;
};

void cd_reader_init(struct cd_reader *r, FILE *fp, const char *name);
void cd_reader_release(struct cd_reader *r);
/*
 * 1 and *out = the next record (an object, caller owns it); 0 at end of
 * input; -1 on a read error (cd_errmsg()).  Malformed lines are reported
 * and skipped inside.
 */
int cd_reader_next(struct cd_reader *r, jv *out);

/* Write one record and a newline to stdout.  Consumes rec. */
void cd_record_write(jv rec);
/* Write an already serialised record line (no newline inside). */
void cd_record_write_line(const char *line, size_t len);
/* Flush stdout; on error report and return -1. Call before exiting. */
int cd_record_flush(void);

/* Borrow rec: does it carry an "error" object? */
int cd_record_has_error(jv rec);
/* Borrow rec: "name:version", or "?" parts.  Returns a static-free malloc'd string. */
char *cd_record_id(jv rec);
/*
 * Add "error":{"tool","arch"(if arch),"message"} to rec.  Consumes rec,
 * returns the new record.  The message must hold no secret.
 */
jv cd_record_set_error(jv rec, const char *arch, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Borrowed-field helpers: string value of rec[key] or NULL (no copy kept). */
const char *cd_jv_str(jv obj, const char *key);
/* rec[key] as a number, or def. */
double cd_jv_num(jv obj, const char *key, double def);
/*
 * Sizes from outside: d as a byte count, a whole number from 0 to 2^53
 * (what a double holds exactly), or -1 when it is negative, fractional,
 * larger, NaN or infinite.  Casting such a number is undefined behaviour:
 * every size read from JSON goes through here first.
 */
long long cd_byte_count(double d);
/* cd_byte_count(rec[key]), or -1 when it is absent or not a number. */
long long cd_jv_size(jv obj, const char *key);
/* rec[key] == true */
int cd_jv_true(jv obj, const char *key);

#endif
