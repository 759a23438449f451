#ifndef CD_DIFF_H
#define CD_DIFF_H
/*
 * What must be rebuilt: the work of cd-diff, from the record alone (its
 * artifacts' upstream checksums and what cd-current found "published").
 */
#include <jv.h>

/*
 * Decide: "action" build|skip, "reason", "changed" (the arches whose
 * image is missing or whose shasum differs from the upstream checksum, in
 * artifact order).  force: build even when nothing changed.  Consumes
 * rec.  A record without "published" or "artifacts" gets an error.
 */
jv cd_diff_record(jv rec, int force);

#endif
