#ifndef CD_TOKEN_H
#define CD_TOKEN_H
/*
 * How a registry client authenticates: its credentials, the scheme the
 * registry asked for, and the bearer tokens it fetched, per scope.  The
 * client (client.c) asks for the Authorization line of each request, and
 * hands over every 401 answer; it says why when the registry refuses.  Not for use outside registry/, but for
 * cd_registry_token_answer(), which fuzzers and tests call.
 *
 * Secrets: the password, the Basic header and every token are wiped
 * (OPENSSL_cleanse) when released and never put into a message.
 */
#include <stddef.h>
#include <pthread.h>

#include "net/http.h"
#include "registry/auth.h"

struct cd_token;

struct cd_regauth {
	pthread_mutex_t mu;        /* guards everything below */
	struct cd_creds creds;
	const struct cd_tls *tls;  /* the registry's, for the token service too (set by the client) */
	char *basic;               /* "Basic <b64>" header value, or NULL */
	enum cd_auth_scheme scheme;
	char *realm, *service;     /* of the Bearer challenge */
	struct cd_token *tokens;
	size_t ntokens;
};

/* Look up the credentials for host (auth.h cd_creds_lookup).  -1 (cd_seterr) when they cannot be read. */
int cd_regauth_init(struct cd_regauth *a, const char *host, const char *creds, const char *authfile);
void cd_regauth_release(struct cd_regauth *a);

/* The Authorization header line for scope, or NULL; *sent: the scheme used.  Caller wipes. */
char *cd_regauth_line(struct cd_regauth *a, const char *scope, enum cd_auth_scheme *sent);
/*
 * After a 401 answer q to a request sent with sent: learn the challenge,
 * fetch a token for scope when it is Bearer (*fresh: a token was just
 * fetched, so a second refusal is final).  1: send the request again;
 * 0: refused, do not; -1: error (cd_seterr).
 */
int cd_regauth_challenged(struct cd_regauth *a, const struct cd_http_req *q, const char *scope,
			  enum cd_auth_scheme sent, int *fresh);
/*
 * A token service's answer, {"token" or "access_token", "expires_in"}:
 * 0 with *token (malloc'd; the caller wipes and frees it) and *ttl_ms,
 * how long to use it (expires_in less 5 s, expires_in taken between 10 s
 * and a day; 55 s when absent).  -1 when there is no usable token (none,
 * empty, or holding a byte that is not visible ASCII: it goes into a
 * header line) or body is over CD_TOKEN_ANSWER_MAX.  The token's copies
 * in the parsed document are wiped; body stays the caller's to wipe.
 * Fuzzers and tests call it (tests/fuzz/fuzz-token.c).
 */
int cd_registry_token_answer(const char *body, size_t len, char **token, long long *ttl_ms);

#endif
