#ifndef CD_CREDHELPER_H
#define CD_CREDHELPER_H
/*
 * Docker credential helpers: the "credHelpers" and "credsStore" of an auth
 * file name a program docker-credential-<name> (searched in PATH) that
 * keeps the credentials.  It is run as docker and podman run it:
 * "docker-credential-<name> get" with the server on stdin (the registry
 * host; "https://index.docker.io/v1/" for docker.io), answering
 * {"ServerURL", "Username", "Secret"} on stdout; a Username of "<token>"
 * makes Secret an identity token (auth.h).  Its stderr is left to it.
 *
 * Secrets: the answer is wiped once read; nothing of it reaches a message.
 */
#include <stddef.h>

#include "registry/auth.h"

#define CD_CREDHELPER_TIMEOUT_MS 60000 /* a helper that has not answered by then is killed */

enum cd_credhelper_kind {
	CD_CREDHELPER_HOST = 1,   /* credHelpers[host]: the host's own helper */
	CD_CREDHELPER_STORE,      /* credsStore: the helper for every host */
};

/*
 * The helper an auth file's text names for host: credHelpers (keys matched
 * as the "auths" keys are, auth.h) before credsStore.  1 with *name
 * (malloc'd) and *kind; 0 when there is none; -1 (cd_seterr, naming file)
 * when the value is not a string or not a plain program-name suffix
 * ([A-Za-z0-9._-], not starting with '.').
 */
int cd_credhelper_find(const char *text, size_t len, const char *file, const char *host,
		       char **name, enum cd_credhelper_kind *kind);

/*
 * Run helper name for host's credentials.  1 with c filled; 0 when the
 * helper says it has none ("credentials not found"); -1 (cd_seterr) when
 * it cannot be run, fails, takes longer than CD_CREDHELPER_TIMEOUT_MS or
 * answers something else.
 */
int cd_credhelper_get(const char *name, const char *host, struct cd_creds *c);

/*
 * A helper's answer (pure; fuzzers and tests call it): 1 with c filled,
 * -1 (cd_seterr, never quoting it) when it is not a JSON object with a
 * non-empty string Secret and a string Username.
 */
int cd_credhelper_answer(const char *text, size_t len, struct cd_creds *c);

#endif
