#ifndef CD_CALL_H
#define CD_CALL_H
/*
 * One call to a registry: what every module of registry/ does to send a
 * request and read its answer, written once.  Not for use outside
 * registry/.
 *
 *	struct cd_call c;
 *	cd_call_init(&c, r, repo, ref, cd_registry_scope(repo, "pull"),
 *		     cd_registry_url(r, "/v2/%s/blobs/%s", repo, ref));
 *	c.q.flags = CD_HTTP_HEAD;
 *	int ret = cd_call_run(&c, (const long[]){ 200, 0 });
 *	...read c.q (status, body, headers)...
 *	cd_call_release(&c);
 *
 * cd_call_run() authenticates for the call's scope, and on failure leaves
 * the one error every call gives: the transport's reason, or the
 * registry's answer (its error body, quay's text, or the status), named
 * by c.what.
 */
#include <curl/curl.h>

#include "net/http.h"
#include "registry/client.h"

struct cd_call {
	struct cd_registry *reg;
	struct cd_http_req q;        /* set method, flags, bodies, max_body before running */
	char *what;                  /* "<host>/<repo>[:tag|@digest]": the object in messages */
	char *url;
	char *scope;
	struct curl_slist *headers;  /* extra request headers; freed with the call */
	/* a call that got no answer says "<pre><what><post>: <reason>" */
	const char *pre, *post;
	/* an answer over q.max_body is "<what>: <body> larger than <max>: refused" */
	const char *body;
	/* makes a request body ready for another attempt (after a 401), or NULL */
	int (*rewind)(void *ctx);
	void *rewind_ctx;
};

/*
 * A call about repo[:ref|@ref] (ref may be NULL) of r, to url, for scope;
 * url and scope are malloc'd and become the call's.
 */
void cd_call_init(struct cd_call *c, struct cd_registry *r, const char *repo, const char *ref,
		  char *scope, char *url);
/*
 * Run the call.  0 when the answer's status is one of ok (0-terminated):
 * c->q.status says which; -1 with the error otherwise.
 */
int cd_call_run(struct cd_call *c, const long *ok);
void cd_call_release(struct cd_call *c);

/* "<scheme>://<host><path>", path a printf format.  Caller frees. */
char *cd_registry_url(struct cd_registry *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A Location header against the registry: an absolute URL, or NULL when loc is none. */
char *cd_registry_location(struct cd_registry *r, const char *loc);
/* "repository:<repo>:<actions>".  Caller frees. */
char *cd_registry_scope(const char *repo, const char *actions);
/* Is ref a digest ("<alg>:<hex>") rather than a tag? */
int cd_registry_is_digest(const char *ref);
/* -1 (cd_seterr) unless repo is a repository path and ref (when not NULL) a tag or digest. */
int cd_registry_check_names(const char *repo, const char *ref);

#endif
