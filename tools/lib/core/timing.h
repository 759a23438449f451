#ifndef CD_TIMING_H
#define CD_TIMING_H
/*
 * Seconds each stage spent on a record, carried in the record itself:
 *
 *     "seconds": {"cd-current": 0.012, "cd-build": 41.207, "cd-push": 3.5}
 *
 * The record loop (pool.c) stamps the time its function took on each
 * record when CD_TIMINGS=1 (pipelines/shard-job sets it); off by default,
 * so a stage's output stays the same from run to run.  cd-report sums
 * them per image for its table and for --timings, which cd-shard --weights
 * reads back.
 */
#include <jv.h>

/* CD_TIMINGS is "1" or "true". */
int cd_timing_enabled(void);
/* A monotonic clock, in seconds. */
double cd_timing_now(void);
/*
 * rec with "seconds"[tool] = seconds (rounded to ms) when stamping is
 * enabled and rec is an object; rec unchanged otherwise.  Consumes rec.
 */
jv cd_timing_stamp(jv rec, const char *tool, double seconds);
/* Borrow rec: the sum of its "seconds" values, or -1 when it has none. */
double cd_timing_total(jv rec);

#endif
