#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/msg.h"
#include "core/url.h"
#include "net/http.h"
#include "net/mirror.h"
#include "core/banned.h"


struct cd_http_config cd_http_cfg = {
	.connect_timeout = 15,
	.timeout = 30,
	.retries = 4,
	.retry_base_ms = 1000,
	.retry_max_ms = 60000,
};

enum { ST_WAIT, ST_RUNNING, ST_DONE };

static _Thread_local CURLM *tl_multi;
static pthread_key_t multi_key;
static pthread_once_t multi_once = PTHREAD_ONCE_INIT;

/* A millisecond setting from the environment (tests shorten the waits). */
static void env_ms(const char *name, long *out)
{
	const char *b = getenv(name);
	if (b && *b) {
		char *end;
		errno = 0;
		long v = strtol(b, &end, 10);
		if (!errno && !*end && v >= 0 && v <= 3600000)
			*out = v;
	}
}

void cd_http_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	env_ms("CD_RETRY_BASE_MS", &cd_http_cfg.retry_base_ms);
	env_ms("CD_RETRY_MAX_MS", &cd_http_cfg.retry_max_ms);
}

/* A thread's connection cache goes with the thread (the key's destructor). */
static void multi_free(void *m)
{
	curl_multi_cleanup(m);
}

static void multi_key_make(void)
{
	pthread_key_create(&multi_key, multi_free);
}

void cd_http_global_cleanup(void)
{
	if (tl_multi) {
		pthread_setspecific(multi_key, NULL);
		curl_multi_cleanup(tl_multi);
		tl_multi = NULL;
	}
	curl_global_cleanup();
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cd_http_req_init(struct cd_http_req *r, const char *url)
{
	memset(r, 0, sizeof(*r));
	r->url = url;
	r->read_len = -1;
	cd_buf_init(&r->body, CD_HTTP_BODY_MAX);
}

void cd_http_req_release(struct cd_http_req *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	r->easy = NULL;
	curl_slist_free_all(r->own_headers);
	r->own_headers = NULL;
	free(r->fetch_url);
	r->fetch_url = NULL;
	cd_buf_release(&r->body);
}

static const char *method_of(const struct cd_http_req *r)
{
	if (r->method)
		return r->method;
	return (r->flags & CD_HTTP_HEAD) ? "HEAD" : "GET";
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct cd_http_req *r = ctx;
	size_t len = size * n;
	/* Error pages are kept in memory (bounded) even when streaming: they carry the reason. */
	if (r->write_fn && r->status >= 200 && r->status < 300) {
		size_t w = r->write_fn(p, len, r->write_ctx);
		if (w != len) {
			r->aborted = 1;
			return 0;
		}
		r->streamed += (long long)len;
		return len;
	}
	if (r->write_fn && r->body.len + len > 65536) /* an error body: keep its head only */
		return len;
	if (cd_buf_add(&r->body, p, len) < 0) {
		r->aborted = 2;
		return 0;
	}
	return len;
}

/* The three-digit code of a status line "HTTP/x[.y] NNN ...", or 0. */
static long status_code(const char *p, size_t len)
{
	const char *sp = memchr(p, ' ', len);
	if (!sp || (size_t)(sp - p) + 4 > len)
		return 0;
	long s = 0;
	for (int i = 1; i <= 3; i++) {
		if (!isdigit((unsigned char)sp[i]))
			return 0;
		s = s * 10 + (sp[i] - '0');
	}
	return s;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct cd_http_req *r = ctx;
	size_t len = size * n;
	/* A new status line starts a new header block (redirects, 100-continue). */
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		r->hdr_bytes = 0;
		r->status = status_code(p, len);
	}
	/* libcurl keeps the headers (cd_http_header); the block stays bounded all the same */
	if (len > CD_HTTP_HEADERS_MAX - r->hdr_bytes)
		return 0;
	r->hdr_bytes += len;
	return len;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct cd_http_req *r = ctx;
	if (r->progress_fn) {
		if (r->read_fn || r->upload)
			r->progress_fn(r->progress_ctx, ulnow, ultotal);
		else /* dltotal is the server's Content-Length: no sum past LLONG_MAX */
			r->progress_fn(r->progress_ctx, r->range_from + dlnow,
				       dltotal > 0 && dltotal <= LLONG_MAX - r->range_from ? r->range_from + dltotal : 0);
	}
	return 0;
}

/* A memory body sent with PUT or PATCH: libcurl reads uploads through a callback. */
static size_t on_upload(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct cd_http_req *r = ctx;
	size_t n = size * nitems, left = r->upload_len - r->upload_off;
	if (n > left)
		n = left;
	memcpy(buf, (const char *)r->upload + r->upload_off, n);
	r->upload_off += n;
	return n;
}

/*
 * Small requests (the answer kept in memory, no body streamed from a
 * reader) get a deadline on top of the stall rule; see http.h.
 */
static long deadline_of(const struct cd_http_req *r)
{
	if (r->write_fn || r->read_fn)
		return 0;
	return CD_HTTP_DEADLINE_FACTOR * cd_http_cfg.timeout;
}

static void setup_tls(CURL *e, const struct cd_tls *t)
{
	int insecure = t ? t->insecure : cd_http_cfg.insecure;
	const char *ca = t ? t->ca_file : cd_http_cfg.ca_file;
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
	if (t && t->ca_pem) {
		/*
		 * Over the CA file; libcurl's default CA path (Debian: /etc/ssl/certs)
		 * still applies, so these add to the system's CAs, as podman's certs.d do.
		 */
		struct curl_blob blob = { (void *)t->ca_pem, t->ca_pem_len, CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	} else if (ca) {
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	}
	if (t && t->cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert_file);
		curl_easy_setopt(e, CURLOPT_SSLKEY, t->key_file);
	}
}

static int setup_easy(struct cd_http_req *r)
{
	char ua[128];
	if (!r->easy && !(r->easy = curl_easy_init()))
		return cd_seterr("cannot create an HTTP handle");
	CURL *e = r->easy;
	curl_easy_reset(e);
	if (!r->fetch_url)
		r->fetch_url = (r->flags & CD_HTTP_NO_MIRROR) ? cd_xstrdup(r->url)
							      : cd_mirror_rewrite(&cd_mirrors, r->url);
	snprintf(ua, sizeof(ua), "cdkit/%s (%s)", CD_VERSION, cd_prog());
	curl_easy_setopt(e, CURLOPT_URL, r->fetch_url);
	curl_easy_setopt(e, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, cd_http_cfg.connect_timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, CD_HTTP_STALL_RATE);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, cd_http_cfg.timeout);
	r->deadline_s = deadline_of(r);
	if (r->deadline_s)
		curl_easy_setopt(e, CURLOPT_TIMEOUT, r->deadline_s);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, (r->flags & CD_HTTP_NO_REDIRECT) ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	setup_tls(e, r->tls);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	if (r->progress_fn) {
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	}
	if (r->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	size_t max = r->write_fn ? 0 : (r->max_body ? r->max_body : CD_HTTP_BODY_MAX);
	r->body.max = r->write_fn ? 0 : max;
	/* A HEAD has no body: its Content-Length (a 512 MiB blob's) is no reason to refuse it. */
	if (max && !(r->flags & CD_HTTP_HEAD))
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	if (r->range_from > 0)
		curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)r->range_from);

	if (r->flags & CD_HTTP_CONNECT_ONLY)
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	const char *m = method_of(r);
	if (r->flags & CD_HTTP_HEAD) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (r->upload || r->read_fn) {
		if (!strcmp(m, "POST")) {
			curl_easy_setopt(e, CURLOPT_POST, 1L);
			if (r->upload) {
				curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->upload);
				curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->upload_len);
			} else {
				curl_easy_setopt(e, CURLOPT_READFUNCTION, r->read_fn);
				curl_easy_setopt(e, CURLOPT_READDATA, r->read_ctx);
				curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->read_len);
			}
		} else {
			curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
			if (r->upload) {
				r->upload_off = 0; /* every attempt sends it all */
				curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
				curl_easy_setopt(e, CURLOPT_READDATA, r);
				curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->upload_len);
			} else {
				curl_easy_setopt(e, CURLOPT_READFUNCTION, r->read_fn);
				curl_easy_setopt(e, CURLOPT_READDATA, r->read_ctx);
				if (r->read_len >= 0)
					curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->read_len);
			}
			if (strcmp(m, "PUT"))
				curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
		}
	} else if (strcmp(m, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
		if (!strcmp(m, "PUT") || !strcmp(m, "POST") || !strcmp(m, "PATCH")) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		}
	}
	r->status = 0;
	r->streamed = 0;
	r->aborted = 0;
	r->errbuf[0] = '\0';
	cd_buf_reset(&r->body);
	r->hdr_bytes = 0;
	return 0;
}

static int retryable_code(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int retryable_status(long s)
{
	return s == 429 || s == 408 || (s >= 500 && s <= 599 && s != 501);
}

long cd_http_backoff_ms(int attempt, long long retry_after_s)
{
	long max = cd_http_cfg.retry_max_ms;
	long ms = cd_http_cfg.retry_base_ms;
	for (int i = 1; i < attempt && ms < max; i++)
		ms *= 2;
	/* Clamped before it is multiplied: the value is the server's. */
	if (retry_after_s > 0) {
		long long cap = max / 1000 + 1;
		long long ra = retry_after_s > cap ? cap : retry_after_s;
		if (ra * 1000 > ms)
			ms = (long)(ra * 1000);
	}
	if (ms > max)
		ms = max;
	return ms;
}

/*
 * After an attempt that got no HTTP answer: its reason in errbuf, timeouts
 * in our words (which limit, how long), now while the clock says how long
 * the attempt took.
 */
static void note_failure(struct cd_http_req *r)
{
	if (r->result == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t pre = 0;
		long long took = now_ms() - r->started_ms;
		if (r->deadline_s && took >= r->deadline_s * 1000 - 100) /* the clocks are read apart */
			snprintf(r->errbuf, sizeof(r->errbuf), "timed out: not complete within %ld s", r->deadline_s);
		else if (curl_easy_getinfo(r->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK && pre == 0)
			snprintf(r->errbuf, sizeof(r->errbuf), "timed out: no connection within %ld s",
				 cd_http_cfg.connect_timeout);
		else
			snprintf(r->errbuf, sizeof(r->errbuf), "timed out: under %ld KiB/s for %ld s",
				 CD_HTTP_STALL_RATE / 1024, cd_http_cfg.timeout);
	} else if (!r->errbuf[0]) {
		snprintf(r->errbuf, sizeof(r->errbuf), "%s", curl_easy_strerror((CURLcode)r->result));
	}
}

/* Decide, after an attempt ended, whether to try again; sets not_before_ms. */
static int want_retry(struct cd_http_req *r)
{
	int again;
	if ((r->flags & CD_HTTP_NO_RETRY) || r->attempts > cd_http_cfg.retries)
		return 0;
	if (r->result != CURLE_OK)
		again = !r->aborted && retryable_code((CURLcode)r->result);
	else
		again = retryable_status(r->status);
	if (!again)
		return 0;
	if ((r->read_fn && !r->rewind_fn) || (r->streamed > 0 && !r->restart_fn))
		return 0;
	if (r->read_fn && r->rewind_fn(r->read_ctx) < 0)
		return 0;
	if (r->streamed > 0 && r->restart_fn(r->write_ctx, r) < 0)
		return 0;
	/* libcurl reads Retry-After (seconds or a date; 0 when absent or unusable). */
	curl_off_t after = 0;
	if (r->result != CURLE_OK || curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &after) != CURLE_OK)
		after = 0;
	long wait = cd_http_backoff_ms(r->attempts, (long long)after);
	char *u = cd_url_redact(r->url);
	if (r->result != CURLE_OK)
		cd_debug("%s %s: %s; retrying in %ld ms", method_of(r), u, r->errbuf, wait);
	else
		cd_debug("%s %s: HTTP %ld; retrying in %ld ms", method_of(r), u, r->status, wait);
	free(u);
	r->not_before_ms = now_ms() + wait;
	return 1;
}

static CURLM *multi(void)
{
	if (!tl_multi) {
		pthread_once(&multi_once, multi_key_make);
		tl_multi = curl_multi_init();
		curl_multi_setopt(tl_multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
		pthread_setspecific(multi_key, tl_multi);
	}
	return tl_multi;
}

size_t cd_http_perform_all(struct cd_http_req **reqs, size_t n, int parallel)
{
	CURLM *m = multi();
	size_t done = 0, failed = 0;
	int running = 0;
	if (parallel < 1)
		parallel = 1;
	for (size_t i = 0; i < n; i++) {
		reqs[i]->state = ST_WAIT;
		reqs[i]->attempts = 0;
		reqs[i]->not_before_ms = 0;
	}
	while (done < n) {
		long long now = now_ms();
		long long next_wake = now + 1000;
		for (size_t i = 0; i < n && running < parallel; i++) {
			struct cd_http_req *r = reqs[i];
			if (r->state != ST_WAIT)
				continue;
			if (r->not_before_ms > now) {
				if (r->not_before_ms < next_wake)
					next_wake = r->not_before_ms;
				continue;
			}
			r->attempts++;
			if (setup_easy(r) < 0) {
				r->result = CURLE_FAILED_INIT;
				snprintf(r->errbuf, sizeof(r->errbuf), "%s", cd_errmsg());
				r->state = ST_DONE;
				done++;
				failed++;
				continue;
			}
			curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
			r->started_ms = now_ms();
			curl_multi_add_handle(m, r->easy);
			r->state = ST_RUNNING;
			running++;
		}
		int still;
		curl_multi_perform(m, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct cd_http_req *r;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			r->result = msg->data.result;
			curl_multi_remove_handle(m, msg->easy_handle);
			running--;
			if (r->result != CURLE_OK)
				note_failure(r);
			if (want_retry(r)) {
				r->state = ST_WAIT;
				continue;
			}
			r->state = ST_DONE;
			done++;
			if (r->result != CURLE_OK)
				failed++;
		}
		if (done == n)
			break;
		long wait = (long)(next_wake - now_ms());
		if (wait < 0)
			wait = 0;
		if (running > 0 && wait > 100)
			wait = 100;
		if (running > 0)
			curl_multi_poll(m, NULL, 0, (int)wait, NULL);
		else if (wait > 0) {
			struct timespec ts = { wait / 1000, (wait % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	return failed;
}

/*
 * The request's URL for messages, redacted: the upstream one, and the
 * mirror URL actually fetched when the mirror map rewrote it.  Caller frees.
 */
static char *named_url(const struct cd_http_req *r)
{
	char *u = cd_url_redact(r->url);
	if (!r->fetch_url || !strcmp(r->fetch_url, r->url))
		return u;
	char *f = cd_url_redact(r->fetch_url);
	char *both = cd_xasprintf("%s (fetched as %s)", u, f);
	free(u);
	free(f);
	return both;
}

const char *cd_http_req_error(const struct cd_http_req *r)
{
	static _Thread_local char msg[1024];
	if (r->result == CURLE_OK)
		return NULL;
	char *u = named_url(r);
	const char *why;
	if (r->aborted == 2 || r->result == CURLE_FILESIZE_EXCEEDED)
		why = "response body too large";
	else if (r->aborted == 1)
		why = "transfer stopped by the receiver";
	else
		why = r->errbuf;
	if (r->attempts > 1)
		snprintf(msg, sizeof(msg), "%s %s: %s (after %d attempts)", method_of(r), u, why, r->attempts);
	else
		snprintf(msg, sizeof(msg), "%s %s: %s", method_of(r), u, why);
	free(u);
	return msg;
}

int cd_http_perform(struct cd_http_req *r)
{
	struct cd_http_req *one[1] = { r };
	if (cd_http_perform_all(one, 1, 1))
		return cd_seterr_kind(CD_ERR_UNREACHABLE, "%s", cd_http_req_error(r));
	return 0;
}

int cd_http_status_error(const struct cd_http_req *r)
{
	char *u = named_url(r);
	const char *reason;
	switch (r->status) {
	case 401: reason = " (unauthorized)"; break;
	case 403: reason = " (forbidden)"; break;
	case 404: reason = " (not found)"; break;
	case 429: reason = " (too many requests)"; break;
	default: reason = ""; break;
	}
	if (r->attempts > 1)
		cd_seterr("%s %s: HTTP %ld%s (after %d attempts)", method_of(r), u, r->status, reason, r->attempts);
	else
		cd_seterr("%s %s: HTTP %ld%s", method_of(r), u, r->status, reason);
	free(u);
	return -1;
}

long long cd_http_content_length(const struct cd_http_req *r)
{
	curl_off_t n = -1;
	if (!r->easy || curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &n) != CURLE_OK || n < 0)
		return -1;
	return (long long)n;
}

int cd_http_header(const struct cd_http_req *r, const char *name, char *out, size_t outlen)
{
	struct curl_header *h;
	/* the last response of the last request (after redirects), its last occurrence */
	if (!r->easy || curl_easy_header(r->easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
	    (h->amount > 1 && curl_easy_header(r->easy, name, h->amount - 1, CURLH_HEADER, -1, &h) != CURLHE_OK))
		return 0;
	/* libcurl trims a value, but leaves the CR of one that is only blanks */
	const char *v = h->value + strspn(h->value, " \t");
	size_t n = strlen(v);
	while (n && (v[n - 1] == '\r' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= outlen)
		return 0;
	memcpy(out, v, n);
	out[n] = '\0';
	return 1;
}

int cd_http_byte_range(const char *v, const char *prefix, long long *first, long long *last)
{
	size_t pl = strlen(prefix);
	char *end;
	if (!strncmp(v, prefix, pl))
		v += pl;
	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	*first = strtoll(v, &end, 10);
	if (errno || *end != '-' || !isdigit((unsigned char)end[1]))
		return -1;
	*last = strtoll(end + 1, &end, 10);
	if (errno || *last < *first)
		return -1;
	if (*end == '/') {
		end++;
		if (*end == '*')
			end++;
		else
			while (isdigit((unsigned char)*end))
				end++;
	}
	return *end ? -1 : 0;
}

void cd_http_headers_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i; i = i->next)
		OPENSSL_cleanse(i->data, strlen(i->data));
	curl_slist_free_all(l);
}
