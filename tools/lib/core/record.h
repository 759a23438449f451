#ifndef CD_RECORD_H
#define CD_RECORD_H
/*
 * What every stage does with a record: name it in messages, mark it
 * failed, tell whether an earlier stage failed it.
 */
#include <stddef.h>
#include <jv.h>

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
 * A focus (--focus): "name:version", or "name:*" for every version of
 * name.  cd_record_focus_check() is its one parser: 0, or -1 and
 * cd_seterr() when f is malformed.
 *
 * cd_record_in_focus(): is the image name:version (borrowed) in focus (n
 * well-formed entries; n 0: every image is)?  Sets hit[k] for each entry
 * k that names it (hit: NULL, or n flags).  version NULL means at any
 * version (a catalog entry whose versions are not known yet); name NULL
 * is in no focus.
 */
int cd_record_focus_check(const char *f);
int cd_record_in_focus(const char *const *focus, size_t n, const char *name, const char *version,
		       unsigned char *hit);

/*
 * Add "error":{"tool","arch"(if arch),"message"} to rec.  Consumes rec,
 * returns the new record.  The message must hold no secret.
 */
jv cd_record_set_error(jv rec, const char *arch, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
