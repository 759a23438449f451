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
 * Writer: a write error on stdout is returned (the record loop stops and
 * the tool exits 4) -- a full disk must not look like success; a closed
 * pipe downstream ends the tool quietly, the way SIGPIPE ends any Unix
 * filter.
 *
 * Contract: cd_record_check() holds a record to tools/README.md ("Record
 * validation"); the record loop (pool.h) applies it to every record it
 * reads, so no stage sees a record that breaks it.
 */
#include <stdio.h>
#include <jv.h>

#define CD_RECORD_MAX (4u << 20)

struct cd_reader {
	FILE *fp;
	const char *name;     /* for messages: "stdin" or a file name */
	unsigned long lineno;
	size_t len;           /* bytes of the line the last record came from (in line) */
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

/*
 * Write one record and a newline to stdout and hand it on (flush).
 * Consumes rec.  0, or -1 and cd_seterr("cannot write records to stdout:
 * ...") on a write error; a closed pipe (EPIPE) ends the process as
 * SIGPIPE would.
 */
int cd_record_write(jv rec);
/* The same for an already serialised record line (no newline inside). */
int cd_record_write_line(const char *line, size_t len);
/* Flush stdout: 0, or -1 and cd_seterr() as above.  Call before exiting. */
int cd_record_flush(void);

/*
 * Does rec (borrowed) keep the record contract?  raw (len bytes, may be
 * NULL) is the line it was parsed from, for what jq's parser hides: a NUL
 * (raw or \u0000) or bytes that are not UTF-8 anywhere, and duplicate
 * keys in any object.  Then the types and grammar of the fields the
 * stages read: name (an OCI repository path component, at most
 * CD_RECORD_NAME_MAX bytes), version (an OCI tag), artifacts (1 to 3
 * objects with a known and distinct arch, an http(s) url, an optional
 * well-formed checksum, compression, size and env), and where present
 * env, stable, latest, docs, tags, action, changed, published, layout,
 * digest, pushed and verified.  0, or -1 and cd_seterr("<field>: <why>"),
 * the field as a path ("artifacts[1].checksum").  Pure: thread-safe.
 */
int cd_record_check(jv rec, const char *raw, size_t len);
#define CD_RECORD_NAME_MAX 100

/*
 * "name:version[ arch]: message" for a record carrying an error (borrowed):
 * the line the record loop prints for every record a tool failed.  Caller
 * frees.
 */
char *cd_record_failure(jv rec);

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
/* rec[key] == true */
int cd_jv_true(jv obj, const char *key);

#endif
