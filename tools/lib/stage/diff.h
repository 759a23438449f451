#ifndef CD_DIFF_H
#define CD_DIFF_H
/*
 * What must be rebuilt: the work of cd-diff, from the record alone (its
 * artifacts' upstream checksums and what cd-current found "published").
 */
#include <jv.h>

struct cd_diff_opts {
	int force;               /* build even when nothing changed */
	int allow_arch_removal;  /* an arch upstream no longer lists goes (else it is carried) */
};

/*
 * Decide: "action" build|skip, "reason", "changed" (the arches whose
 * image is missing or whose shasum differs from the upstream checksum, in
 * artifact order).  An artifact without an upstream checksum is compared
 * by its HTTP validators ("http") with the image's (published.<arch>.http):
 * changed when they differ or the image has none.  An arch in "published"
 * that is neither an artifact nor "carried" is added to "carried" with
 * reason "upstream no longer lists it" (kept in the index by cd-push),
 * unless o->allow_arch_removal: then the image is rebuilt without it.
 * Consumes rec.  A record without "published" or "artifacts" gets an error.
 */
jv cd_diff_record(jv rec, const struct cd_diff_opts *o);
/* How many arches rec (borrowed) carries. */
int cd_diff_carried(jv rec);

#endif
