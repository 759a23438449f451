#ifndef CD_HTTP_H
#define CD_HTTP_H
/*
 * All HTTP goes through here (libcurl).
 *
 * - timeouts (cd_http_cfg):
 *     connect: no connection within connect_timeout seconds;
 *     stall: under CD_HTTP_STALL_RATE bytes/s (1 KiB/s) for timeout seconds,
 *       whatever the size of the transfer (a disk, a layer);
 *     deadline: a small request, one whose answer is kept in memory and
 *       whose body (if any) comes from memory (index and checksum files,
 *       manifests, tokens, configs, /v2/ probes), must also be complete
 *       within CD_HTTP_DEADLINE_FACTOR * timeout seconds, so that a peer
 *       sending just above the stall rate cannot hold a tool for hours;
 *   each attempt gets its own limits; a timed-out attempt is retried;
 * - TLS verification on unless asked off;
 * - bounded retries with exponential backoff on connection errors, timeouts,
 *   429 and 5xx, honouring Retry-After (clamped to retry_max_ms);
 * - bodies kept in memory are bounded (max_body); streamed bodies go to
 *   write_fn as they arrive;
 * - the mirror map (mirror.h) rewrites every URL before it is fetched;
 * - a User-Agent naming cdkit, its version and the tool;
 * - many requests at once through the multi interface (cd_http_perform_all).
 *
 * Each thread keeps its own connection cache, freed when the thread ends.
 */
#include <stddef.h>
#include <curl/curl.h>

#include "core/buf.h"

#define CD_HTTP_STALL_RATE 1024L     /* bytes/s: slower than this for timeout s is a stall */
#define CD_HTTP_DEADLINE_FACTOR 4L   
struct cd_http_config {
	long connect_timeout;   /* seconds */
	long timeout;           /* seconds of stall before giving up (1..86400) */
	int retries;            /* further attempts after the first */
	long retry_base_ms;     /* first backoff; doubles each time */
	long retry_max_ms;      /* no single wait longer than this, Retry-After included */
	const char *ca_file;    /* extra CA bundle for TLS */
	int insecure;           /* skip TLS verification */
};

/*
 * Defaults: 15 s connect, 30 s stall (so a 2 min deadline), 4 retries,
 * 1 s first backoff, 60 s longest wait (CD_RETRY_BASE_MS and
 * CD_RETRY_MAX_MS override the last two, for tests).
 */
extern struct cd_http_config cd_http_cfg;

/*
 * TLS settings of one peer (a registry), for a request that must not use
 * cd_http_cfg's: the caller owns every field and keeps it alive while the
 * request runs.
 */
struct cd_tls {
	int insecure;           /* skip verification */
	const char *ca_file;    /* a CA bundle to trust, or NULL */
	const char *ca_pem;     /* PEM CAs in memory (over ca_file), or NULL */
	size_t ca_pem_len;
	const char *cert_file;  /* client certificate (PEM), or NULL */
	const char *key_file;   /* its key (PEM) */
};

enum cd_http_flags {
	CD_HTTP_HEAD = 1 << 0,        /* HEAD request: no body */
	CD_HTTP_NO_RETRY = 1 << 1,    /* one attempt only */
	CD_HTTP_NO_REDIRECT = 1 << 2, /* do not follow 3xx */
	CD_HTTP_NO_MIRROR = 1 << 3,   /* fetch the URL as given */
	CD_HTTP_CONNECT_ONLY = 1 << 4, /* connect (and TLS handshake), send nothing */
};

struct cd_http_req {
	/* request */
	const char *method;            /* NULL: GET (HEAD with CD_HTTP_HEAD) */
	const char *url;               /* upstream URL, as named in messages */
	struct curl_slist *headers;    /* borrowed */
	unsigned flags;
	const struct cd_tls *tls;      /* borrowed; NULL: cd_http_cfg's ca_file and insecure */
	size_t max_body;               /* in-memory body limit; 0: 16 MiB */
	long long range_from;          /* > 0: ask for bytes from here on */
	/* request body: memory (any method; a small request), or a reader (size -1 when unknown) */
	const void *upload;
	size_t upload_len;
	size_t (*read_fn)(char *buf, size_t size, size_t nitems, void *ctx);
	long long read_len;
	int (*rewind_fn)(void *ctx);   /* rewind the reader before a retry; NULL: no retry */
	void *read_ctx;
	/* response body: streamed to write_fn (return n to go on, anything else aborts) */
	size_t (*write_fn)(const char *p, size_t n, void *ctx);
	/* called before a retry once bytes have been streamed; NULL: no retry then */
	int (*restart_fn)(void *ctx, struct cd_http_req *r);
	void *write_ctx;
	/* progress: called now and then with bytes so far and total (0 unknown) */
	void (*progress_fn)(void *ctx, long long now, long long total);
	void *progress_ctx;

	/* response (valid after perform) */
	long status;                   /* last HTTP status, 0 if none */
	struct cd_buf body;            /* when write_fn is NULL */
	long long streamed;            /* body bytes handed to write_fn this attempt */
	int attempts;

	/* private */
	CURL *easy;
	char *fetch_url;
	char errbuf[CURL_ERROR_SIZE];
	int result;                    /* CURLcode of the last attempt */
	int aborted;                   /* write_fn or the size limit stopped it */
	long long not_before_ms;
	int state;
	struct curl_slist *own_headers;
	size_t upload_off;             /* memory upload: bytes handed to libcurl this attempt */
	long long started_ms;          /* this attempt's start */
	size_t hdr_bytes;              /* the header block so far (bounded: CD_HTTP_HEADERS_MAX) */
	long deadline_s;               /* this attempt's deadline, 0 for none */
};

void cd_http_global_init(void);
void cd_http_global_cleanup(void);

void cd_http_req_init(struct cd_http_req *r, const char *url);
void cd_http_req_release(struct cd_http_req *r);

/*
 * Run the request, retrying as configured.  0 when an HTTP response was
 * received (whatever its status: check r->status); -1 when none was
 * (cd_errmsg(): "GET <url>: <reason>").
 */
int cd_http_perform(struct cd_http_req *r);
/* Run n requests, at most parallel at once.  Returns how many gave -1. */
size_t cd_http_perform_all(struct cd_http_req **reqs, size_t n, int parallel);
/*
 * The error of a request after cd_http_perform_all, or NULL.  Messages of
 * this module name the upstream URL and, when the mirror map rewrote it,
 * the URL actually fetched: "GET <url> (fetched as <mirror url>): ...".
 */
const char *cd_http_req_error(const struct cd_http_req *r);

/*
 * Set the error channel to "<METHOD> <url>[ (fetched as <mirror url>)]: HTTP <status>" for a
 * response that was not what the caller wanted; returns -1.
 */
int cd_http_status_error(const struct cd_http_req *r);

/*
 * The value of response header name (case-insensitive, last occurrence)
 * in the last response, trimmed, copied into out: libcurl keeps the
 * headers (curl_easy_header()).  1 when found, 0 when absent or too
 * long; a NUL byte inside a header fails the request in libcurl.  Callable from write_fn during a transfer.
 */
int cd_http_header(const struct cd_http_req *r, const char *name, char *out, size_t outlen);

/*
 * A byte range "<first>-<last>", after prefix when it starts with it
 * ("bytes=" of a Range header, "bytes " of a Content-Range), and an
 * optional "/<total>" after it.  0 with both, or -1 when malformed or
 * out of order.
 */
int cd_http_byte_range(const char *v, const char *prefix, long long *first, long long *last);

/* Free a header list that held a secret (an Authorization line), wiping it first. */
void cd_http_headers_wipe_free(struct curl_slist *l);

/*
 * The response's Content-Length as libcurl read it (a HEAD's too): -1 when
 * the answer had none or it was unusable.  Valid after perform.
 */
long long cd_http_content_length(const struct cd_http_req *r);

/*
 * Milliseconds to wait before attempt number attempt (1-based), given the
 * server's Retry-After in seconds (<= 0: none; any value is clamped).
 */
long cd_http_backoff_ms(int attempt, long long retry_after_s);

#endif
