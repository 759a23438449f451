#ifndef CD_REPORT_H
#define CD_REPORT_H
/*
 * The fan-in of a run: the final records of one or many jobs merged into
 * one per image, and what is made of them (tools/cd-report.c): a summary
 * table (text or Markdown), medius's results.json, a timings file for
 * cd-shard --weights, and an architecture table.
 *
 * Pure functions over records (no I/O): outputs are appended to cd_bufs;
 * the tool reads the inputs and writes the files.  Depends on the record,
 * msg, buf and timing modules.
 */
#include <stddef.h>
#include <jv.h>

#include "core/buf.h"

struct cd_report_image {
	char *key;          /* "name:version" */
	jv rec;             /* the record kept (owned) */
	char *source;       /* "FILE:LINE" it came from */
};

struct cd_report {
	struct cd_report_image *v;
	size_t n, cap;
	size_t duplicates;  /* records of an image seen before */
	int sorted;
};

void cd_report_init(struct cd_report *r);
void cd_report_release(struct cd_report *r);

/*
 * Add one final record (consumed), from source ("FILE:LINE", copied).
 * A second record of the same name:version is a duplicate: the one that
 * got further (promoted > verified > pushed > built > planned, then the
 * one without error, then the first seen) is kept, and *dup (if not
 * NULL) gets a malloc'd message naming both sources; otherwise *dup is
 * NULL.
 */
void cd_report_add(struct cd_report *r, jv rec, const char *source, char **dup);

/*
 * rec (consumed) is a record of the run's plan: when no final record of
 * its image was added, add rec itself with an error of cd-report's ("no
 * final record: its shard job ... wrote none"), so a job that died without
 * writing its records fails the images it had instead of hiding them.
 * Returns 1 when the image was missing, 0 otherwise.  Call after every
 * cd_report_add().
 */
int cd_report_expect(struct cd_report *r, jv rec);

/* Counts over the merged images. */
struct cd_report_counts {
	size_t images, built, up_to_date, failed, promoted;
	size_t carried;   /* images that kept an architecture as published ("carried") */
};
void cd_report_count(struct cd_report *r, struct cd_report_counts *c);

enum cd_report_format { CD_REPORT_TEXT, CD_REPORT_MARKDOWN };

/*
 * The summary table (image, action, result, tags, digest, error, seconds)
 * then the architecture table (per image: the architectures upstream has,
 * those the registry serves now, those missing, those carried over as
 * published with the reason: SHARED-FIELDS "carried"), images sorted by
 * name:version.  "Serves now": the architectures of the newest image the
 * run leaves in the registry: the manifests cd-verify read back, else
 * those cd-push sent (built and reused), else what cd-current found.
 */
int cd_report_tables(struct cd_report *r, enum cd_report_format f, struct cd_buf *out);

/*
 * medius's results.json: an object keyed "name:version" with "Tags"
 * ("name:tag" references without the registry, as medius writes them;
 * omitted when empty; the timestamp tag first), "Stage" (the last stage
 * the image reached: "push", "verify" or "promote"; a failed one, the
 * stage that failed: cd-verify's errors "verify", cd-promote's "promote",
 * every earlier tool's "push") and "Err" (omitted when none), serialised
 * as Go's json.MarshalIndent(v, "", "  ") does (keys sorted, HTML
 * characters escaped, no final newline).  Only images that were rebuilt
 * or failed get an entry (medius's push), others' entries of prev are
 * kept: prev is the loaded file to merge into (borrowed; jv_null() for a
 * fresh file).  -1 (cd_seterr) when prev is not an object of entries.
 */
int cd_report_results(struct cd_report *r, jv prev, struct cd_buf *out);

/*
 * The timings file cd-shard --weights reads: {"name:version": seconds}
 * (keys sorted, two-space indent, final newline), seconds the sum of an
 * image's "seconds" (timing.h), for the images built in this run; the
 * entries of prev (borrowed; jv_null() for none) for other images are
 * kept, so the file converges on what building each image costs.
 * *written: how many entries came from this run.  -1 (cd_seterr) when
 * prev is not an object.
 */
int cd_report_timings(struct cd_report *r, jv prev, struct cd_buf *out, size_t *written);

/* Append the merged records, one NDJSON line each, sorted by name:version. */
int cd_report_records(struct cd_report *r, struct cd_buf *out);

#endif
