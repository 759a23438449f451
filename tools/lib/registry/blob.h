#ifndef CD_BLOB_H
#define CD_BLOB_H
/*
 * Reading blobs from a registry: streamed, into memory, or into a file
 * descriptor from a thread of its own (a pump).  Every blob read is
 * checked against its digest.  Errors as client.h says.
 */
#include <pthread.h>
#include <stddef.h>

#include "core/error.h"
#include "registry/client.h"

/*
 * Stream blob repo@digest to fn (return n to go on, anything else aborts).
 * The bytes are checked against digest at the end: on -1 the caller must
 * discard what fn received.  A restarted transfer (retry after a cut)
 * resumes with a Range request; fn sees each byte once.
 */
int cd_registry_blob_get(struct cd_registry *r, const char *repo, const char *digest,
			 size_t (*fn)(const char *p, size_t n, void *ctx), void *ctx);
/* GET a small blob (a config) into memory, at most max bytes, checked.  Caller frees *body. */
int cd_registry_blob_get_mem(struct cd_registry *r, const char *repo, const char *digest,
			     size_t max, char **body, size_t *len);
/* HEAD: 1 the blob is there (*size set when size is not NULL), 0 it is not, -1 error. */
int cd_registry_blob_exists(struct cd_registry *r, const char *repo, const char *digest,
			    long long *size);

/*
 * A blob pumped into a file descriptor by a thread of its own: the reader
 * reads the other end (a libarchive reader, an upload) while the blob
 * arrives.  The bytes go through a socket pair, so a reader that stops
 * early ends the transfer instead of a signal ending the process.
 */
struct cd_blob_pump {
	struct cd_registry *reg;
	const char *repo, *digest;  /* borrowed for the pump's life */
	int fd;                     /* the pump's end: written, then closed */
	pthread_t thread;
	long long bytes;            /* bytes pumped */
	int ret;                    /* cd_registry_blob_get's result */
	struct cd_err err;          /* its error */
};
/* Start pumping repo@digest of r; *read_fd is the caller's end (caller closes).  -1 (cd_seterr). */
int cd_blob_pump_start(struct cd_blob_pump *p, struct cd_registry *r, const char *repo,
		       const char *digest, int *read_fd);
/*
 * Wait for the pump (close read_fd first if the reader stopped early).
 * 0, or -1 with the transfer's error raised.
 */
int cd_blob_pump_finish(struct cd_blob_pump *p);

#endif
