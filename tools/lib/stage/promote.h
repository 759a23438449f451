#ifndef CD_PROMOTE_H
#define CD_PROMOTE_H
/*
 * Promoting images: the work of cd-promote, a verified image copied from
 * one registry into another (registry/transfer.h moves the blobs), its
 * tags set there last.  Order and dry run as publish.h says.
 */
#include <jv.h>


/*
 * cd-promote, for one record.  Promotes records with "verified.ok" true
 * and no "error": copies pushed.repository@pushed.digest (read through
 * o->src, which must be that repository's registry) to
 * <o->dst_prefix>/<name> in o->dst and sets pushed.tags there.  Adds
 * "promoted": {"repository", "digest", "tags"}.  Records not verified
 * (verified.ok false, or no "verified") pass through untouched and are
 * named on stderr ("not verified: not promoted"); records with
 * "action":"skip" pass too, and so do records never pushed (no "pushed":
 * a cd-push dry run), counted in cd_publish_unpushed instead of named.
 */
jv cd_promote_record(jv rec, void *publish);

#endif
