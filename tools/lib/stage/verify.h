#ifndef CD_VERIFY_H
#define CD_VERIFY_H
/*
 * cd-verify's work on one record: read the pushed image back from the
 * registry by digest and check it as KubeVirt will consume it.
 *
 * Checks, each a {name, arch, ok, detail} entry of "verified.checks":
 *   top       the pushed digest resolves; its media type; for an index or
 *             list, one entry per architecture of the record, each with
 *             platform linux/<arch>, nothing else
 *   manifest  per arch: fetched by digest (the client checks the bytes),
 *             size and media type as the index says, config and layer
 *             media types of the same family, exactly one layer
 *   config    per arch: architecture, os linux, one diff_id
 *   shasum    per arch: label shasum == the artifact's upstream checksum
 *   layer     per arch: the blob streamed, digest and size checked, the
 *             uncompressed tar's sha256 == the config's diff_id, and
 *             image/layer-check.h's checks of its tar and disk
 *   boot      per arch, with --boot: cd_boot_disk() of the disk (its
 *             detail names the accelerator and why it was chosen)
 * A check that cannot run because an earlier one failed is not listed.
 */
#include <stddef.h>
#include <jv.h>

#include "vm/boot.h"

enum cd_verify_flags {
	CD_VERIFY_BOOT = 1 << 0,
};

struct cd_verify_opts {
	unsigned flags;
	int boot_timeout;     /* seconds */
	enum cd_boot_accel accel;
	const char *tmpdir;   /* for the extracted disk and seed; NULL: $TMPDIR or /tmp */
};

/* The first failed check, for the record's "error". */
struct cd_verify_failure {
	char arch[32];        /* "" when the check is not about one architecture */
	char message[1024];   /* "<check>: <detail>" */
};

/*
 * Verify rec (borrowed), which has "pushed".  Returns the "verified"
 * object (caller owns); when its "ok" is false, *fail says why.
 */
jv cd_verify_record(jv rec, const struct cd_verify_opts *o, struct cd_verify_failure *fail);

/*
 * cd-verify, for one record (a cd_pool_fn over a struct cd_verify_opts):
 * a record with "pushed" gets "verified" (and "error" when a check
 * failed); others pass untouched.  With -v each boot check is said.
 */
jv cd_verify_one(jv rec, void *opts);
/* --accel: "auto" (the default: CD_BOOT_AUTO is 0), "kvm" or "tcg" into o.  -1 for another. */
int cd_verify_accel(struct cd_verify_opts *o, const char *mode);

struct cd_manifest;
/*
 * The checks of cd_verify_record on documents given instead of fetched
 * (no network): top is what the pushed digest named; image is every
 * arch's image manifest when top is an index or list; config is every
 * arch's config blob.  Runs "top", "manifest", "config" and "shasum";
 * not "layer" nor "boot".  rec borrowed, like cd_verify_record.
 * Fuzzers and tests call it (tests/fuzz/fuzz-verify.c).
 */
jv cd_verify_documents(jv rec, const struct cd_manifest *top, const struct cd_manifest *image,
		       const char *config, size_t config_len, struct cd_verify_failure *fail);

#endif
