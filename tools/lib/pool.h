#ifndef CD_POOL_H
#define CD_POOL_H
/*
 * The record loop of every stage: read records, transform each one,
 * write them in input order, with N workers.
 *
 * Workers never share a jv with the reading thread (jq's reference counts
 * are not atomic): each record crosses threads as its serialised line, and
 * a worker parses its own copy.
 */
#include <jv.h>

#include "record.h"

/* Consumes rec; returns the record to write (with "error" on failure). */
typedef jv (*cd_pool_fn)(jv rec, void *ctx);

enum cd_pool_flags {
	CD_POOL_PASS_ERRORS = 1 << 0, /* records already carrying "error" are written untouched */
};

struct cd_pool_stats {
	unsigned long records;  /* records read */
	unsigned long failed;   /* records this tool marked with an error */
};

/*
 * Run fn over every record of r with workers threads (1: in this thread).
 * Returns 0, or -1 when the input could not be read (cd_errmsg()).
 */
int cd_pool_run(struct cd_reader *r, int workers, unsigned flags,
		cd_pool_fn fn, void *ctx, struct cd_pool_stats *st);

/* The exit status for a finished run: 3 malformed input, 1 failures, 0. */
int cd_pool_exit_status(const struct cd_reader *r, const struct cd_pool_stats *st);

/*
 * The whole record loop of a stage's main(): run fn over the records of
 * stdin, report an unreadable input on stderr (cd_error), flush stdout.
 * The one pool function that prints: it stands in for the tail every
 * tool's main() had. Returns the exit status (CD_EXIT_*).
 */
int cd_pool_main(int workers, unsigned flags, cd_pool_fn fn, void *ctx);

#endif
