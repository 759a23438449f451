#ifndef CD_UPLOAD_H
#define CD_UPLOAD_H
/*
 * Writing blobs into a registry: a whole blob in one streaming PUT, a
 * cross-repository mount, or a chunked session that can be resumed.
 * Errors as client.h says.
 */
#include <stddef.h>

#include "registry/client.h"

/* Where upload bytes come from. */
struct cd_blob_source {
	/* Up to n bytes into buf: the count, 0 at the end, -1 on error (cd_seterr()). */
	long (*read)(void *ctx, char *buf, size_t n);
	/* Go to byte off of the blob (retry, resume).  NULL: the source cannot. */
	int (*seek)(void *ctx, long long off);
	void *ctx;
	long long size;          /* whole blob, bytes; -1 unknown */
	/* optional: called now and then with bytes sent so far and size */
	void (*progress)(void *ctx, long long sent, long long total);
	void *progress_ctx;
	/* private: the fd source */
	int fd;
	long long fd_start, pos;
};
/*
 * A source reading size bytes of fd from its current offset (byte 0 of the
 * blob).  seek works when fd is seekable (a file), else is NULL.
 */
void cd_blob_source_fd(struct cd_blob_source *s, int fd, long long size);

/* An upload session.  Borrows its registry. */
struct cd_upload {
	struct cd_registry *reg;
	char *repo;
	char *location;          /* absolute URL of the session: the latest Location */
	long long offset;        /* bytes the registry acknowledged */
};
void cd_upload_release(struct cd_upload *up);

/*
 * Upload a whole blob the simple way: POST a session, then one PUT
 * ?digest= streaming src from byte 0.  The registry checks the digest.
 */
int cd_registry_blob_upload(struct cd_registry *r, const char *repo, const char *digest,
			    struct cd_blob_source *src);
/*
 * Mount digest from repository from (same registry) into repo:
 * 1 mounted (201; up untouched), 0 not mounted and up holds the ordinary
 * session the registry opened instead (202: upload into it or cancel it),
 * -1 error.
 */
int cd_registry_blob_mount(struct cd_registry *r, const char *repo, const char *digest,
			   const char *from, struct cd_upload *up);

/* Chunked uploads, for resuming: start, PATCH chunks in order, finish. */
int cd_registry_upload_start(struct cd_registry *r, const char *repo, struct cd_upload *up);
/* Take up a session known by its Location (from an earlier run) and ask its status.  Tests call it. */
int cd_registry_upload_resume(struct cd_registry *r, const char *repo, const char *location,
			      struct cd_upload *up);
/* GET the session: up->offset = bytes the registry has (from Range: 0-N). */
int cd_registry_upload_status(struct cd_upload *up);
/*
 * PATCH len bytes read from src (from its current position, which must be
 * up->offset) to the session; updates location and offset.
 */
int cd_registry_upload_chunk(struct cd_upload *up, struct cd_blob_source *src, long long len);
/*
 * PUT ?digest=: finish the session.  src NULL: an empty body (after
 * chunks); else the rest of src from up->offset is sent in the PUT.
 */
int cd_registry_upload_finish(struct cd_upload *up, const char *digest,
			      struct cd_blob_source *src);
/* DELETE the session (best effort cleanup). */
int cd_registry_upload_cancel(struct cd_upload *up);

#endif
