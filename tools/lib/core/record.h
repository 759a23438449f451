#ifndef CD_RECORD_H
#define CD_RECORD_H
/*
 * What every stage does with a record: name it in messages, mark it
 * failed, tell whether an earlier stage failed it.
 */
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
 * Focus: "name:version", or "name:*" for every version of name, as
 * cd-discover's --focus.  Check is 0, or -1 and cd_seterr() when f is
 * malformed; match borrows rec: is it the image f names?
 */
int cd_record_focus_check(const char *f);
int cd_record_focus_match(jv rec, const char *f);

/*
 * Add "error":{"tool","arch"(if arch),"message"} to rec.  Consumes rec,
 * returns the new record.  The message must hold no secret.
 */
jv cd_record_set_error(jv rec, const char *arch, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
