#ifndef CD_LOOP_H
#define CD_LOOP_H
/*
 * The record loop of every stage: read records, transform each one,
 * write them in input order, with N workers.
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
 * The loop is where records are read, so it holds each one to the
 * contract (cd_record_check): a record that breaks it is written at once
 * with "error":{"message":"invalid record: <field>: <why>"} and never
 * reaches fn.  It is also where every record this tool failed is said on
 * stderr, once and in input order: "<prog>: name:version[ arch]: message".
 * fn itself prints nothing about a failure: it sets the record's error.
 *
 * Workers never share a jv with the reading thread (jq's reference counts
 * are not atomic): each record crosses threads as its serialised line, and
 * a worker parses its own copy.
 */
#include <stdio.h>
#include <jv.h>


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

/* Consumes rec; returns the record to write (with "error" on failure). */
typedef jv (*cd_pool_fn)(jv rec, void *ctx);

enum cd_pool_flags {
	CD_POOL_PASS_ERRORS = 1 << 0, /* records already carrying "error" are written untouched */
};

struct cd_pool_stats {
	unsigned long records;  /* records read */
	unsigned long failed;   /* records this tool marked with an error */
	unsigned long invalid;  /* of those, records that broke the contract */
};

/*
 * Work only on the records one of focus names (cd_record_in_focus();
 * n 0: on all).  The others are written as they came, before anything
 * else looks at them: not checked, not counted as failed, never given to
 * fn -- a stage's --focus.  Borrows focus until the next call.
 */
void cd_pool_focus(const char *const *focus, size_t n);

/*
 * Run fn over every record of r with workers threads (1: in this thread).
 * Returns 0, or -1 (cd_errmsg()) when the input could not be read (the
 * records read before are all written) or stdout could not be written
 * (then the loop stops: records not started are not run).
 */
int cd_pool_run(struct cd_reader *r, int workers, unsigned flags,
		cd_pool_fn fn, void *ctx, struct cd_pool_stats *st);

/* The exit status for a finished run: 3 malformed input, 1 failures, 0. */
int cd_pool_exit_status(const struct cd_reader *r, const struct cd_pool_stats *st);

/*
 * For a stage that makes its records instead of reading them
 * (cd-discover): hold rec (consumed) to the contract and write it as the
 * loop does, saying on stderr why when it carries an error of this tool,
 * and count it in st.  0, or
 * -1 (cd_errmsg()) when stdout could not be written.
 */
int cd_pool_emit(jv rec, struct cd_pool_stats *st);

/*
 * The whole record loop of a stage's main(): run fn over the records of
 * stdin, report an unreadable input or unwritable output on stderr
 * (cd_error), flush stdout.  Stands in for the tail every tool's main()
 * had.  Returns the exit status: 4 (CD_EXIT_IO) when stdin could not be
 * read or stdout written, else as cd_pool_exit_status().
 */
int cd_pool_main(int workers, unsigned flags, cd_pool_fn fn, void *ctx);

#endif
