#ifndef CD_CONTRACT_H
#define CD_CONTRACT_H
/*
 * The record contract: cd_record_check() holds a record to tools/README.md
 * ("Record validation").  The record loop (loop.h) applies it to every
 * record it reads, so no stage sees a record that breaks it.
 */
#include <stddef.h>
#include <jv.h>


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

#endif
