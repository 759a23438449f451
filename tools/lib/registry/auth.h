#ifndef CD_AUTH_H
#define CD_AUTH_H
/*
 * Registry credentials and authentication challenges: the pure parts of
 * registry authentication (the client in registry.h uses them).
 *
 * Secrets: a struct cd_creds holds a password; cd_creds_release() wipes it
 * (OPENSSL_cleanse).  No function here puts a user's password, an auth
 * file's "auth" value or a token into an error message.
 */
#include <stddef.h>

struct cd_creds {
	char *user;   /* NULL: anonymous (but see token) */
	char *pass;   /* wiped on release */
	char *token;  /* an identity token (the OAuth2 refresh token of the token flow), or NULL; wiped */
};

/* 1 when c holds anything to authenticate with (a user or an identity token). */
int cd_creds_any(const struct cd_creds *c);

void cd_creds_release(struct cd_creds *c);

/*
 * Split "USER:PASS" (at the first ':') into c.  -1 (message without the
 * value) when there is no ':' or the user is empty.
 */
int cd_creds_parse(struct cd_creds *c, const char *userpass);

/*
 * Find credentials for registry host (as written in references, with its
 * port: "127.0.0.1:5000", "quay.io") in the text of a containers-auth.json
 * or docker config.json.  Keys of the "auths" map match when they are the
 * host itself, or a URL or path on it ("https://quay.io/v1/", "quay.io/org"
 * for the host part only); "docker.io" also matches
 * "https://index.docker.io/v1/".  An entry's "identitytoken" (docker's, an
 * OAuth2 refresh token) wins, with the user of its "auth" or "username"
 * when there is one; else its "auth" is base64 "user:pass"; else
 * "username"/"password" fields are read.  (Its "credHelpers" and
 * "credsStore": credhelper.h.)
 *
 * 1 found (c filled), 0 no entry for host, -1 malformed file or entry
 * (cd_seterr(), naming file but never the secret).  file names the file
 * in messages.
 */
int cd_authfile_parse(const char *text, size_t len, const char *file,
		      const char *host, struct cd_creds *c);

/* Does an "auths" (or "credHelpers") key name host?  See cd_authfile_parse(). */
int cd_authfile_key_matches(const char *key, const char *host);

/*
 * Credentials for host, in the order containers tools use:
 *   creds ("USER:PASS" from --creds), else authfile (--authfile; an error if
 *   unreadable), else $REGISTRY_AUTH_FILE (likewise), else
 *   ${XDG_RUNTIME_DIR}/containers/auth.json, else
 *   ${DOCKER_CONFIG:-~/.docker}/config.json (these two skipped when
 *   absent).  In each file, as docker reads it: credHelpers[host]'s helper
 *   (its answer final), else the credsStore helper, else, when that has
 *   nothing for host, the "auths" entry (credhelper.h).
 * 1 found, 0 none (anonymous), -1 error.  Files over 1 MiB are refused.
 */
int cd_creds_lookup(struct cd_creds *c, const char *host, const char *creds,
		    const char *authfile);

/*
 * A WWW-Authenticate challenge: scheme and the parameters registries use.
 * Parameter values are unquoted (backslash escapes honoured).
 */
enum cd_auth_scheme { CD_AUTH_NONE, CD_AUTH_BASIC, CD_AUTH_BEARER, CD_AUTH_OTHER };

struct cd_challenge {
	enum cd_auth_scheme scheme;
	char *realm;    /* NULL when absent */
	char *service;
	char *scope;
	char *error;    /* "invalid_token", "insufficient_scope", ... */
};

/*
 * Parse a WWW-Authenticate header value.  Only the first challenge is
 * read (registries send one).  -1 on a malformed value (unterminated
 * quote, missing '=', a value over 4 KiB, ...).  c is empty on -1.
 */
int cd_challenge_parse(struct cd_challenge *c, const char *value);
void cd_challenge_release(struct cd_challenge *c);

#endif
