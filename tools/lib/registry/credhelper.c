/* Docker credential helpers (credhelper.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jv.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/limits.h"
#include "registry/auth.h"
#include "registry/credhelper.h"
#include "core/banned.h"

extern char **environ;

static int valid_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* name into *out, or -1 when it cannot name a helper. */
static int take_name(jv v, const char *file, const char *what, char **out)
{
	if (jv_get_kind(v) != JV_KIND_STRING || !valid_name(jv_string_value(v)))
		return cd_seterr("%s: %s does not name a credential helper", file, what);
	*out = cd_xstrdup(jv_string_value(v));
	return 1;
}

int cd_credhelper_find(const char *text, size_t len, const char *file, const char *host,
		       char **name, enum cd_credhelper_kind *kind)
{
	*name = NULL;
	jv doc = jv_parse_sized(text, (int)len);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return 0; /* cd_authfile_parse() says what is wrong with it */
	}
	int ret = 0;
	jv helpers = jv_object_get(jv_copy(doc), jv_string("credHelpers"));
	if (jv_get_kind(helpers) == JV_KIND_OBJECT) {
		jv_object_foreach(helpers, key, v) {
			if (!ret && cd_authfile_key_matches(jv_string_value(key), host)) {
				ret = take_name(v, file, "credHelpers", name);
				*kind = CD_CREDHELPER_HOST;
			}
			jv_free(key);
			jv_free(v);
		}
	} else if (jv_get_kind(helpers) != JV_KIND_NULL && jv_get_kind(helpers) != JV_KIND_INVALID) {
		ret = cd_seterr("%s: \"credHelpers\" is not an object", file);
	}
	jv_free(helpers);
	jv store = jv_object_get(doc, jv_string("credsStore"));
	if (!ret && jv_get_kind(store) != JV_KIND_NULL && jv_get_kind(store) != JV_KIND_INVALID &&
	    !(jv_get_kind(store) == JV_KIND_STRING && !*jv_string_value(store))) {
		ret = take_name(store, file, "credsStore", name);
		*kind = CD_CREDHELPER_STORE;
	}
	jv_free(store);
	return ret;
}

int cd_credhelper_answer(const char *text, size_t len, struct cd_creds *c)
{
	memset(c, 0, sizeof(*c));
	jv doc = jv_parse_sized(text, (int)len);
	const char *user = cd_jv_str(doc, "Username");
	const char *secret = cd_jv_str(doc, "Secret");
	int ret;
	if (!user || !secret || !*secret || jv_get_kind(doc) != JV_KIND_OBJECT) {
		ret = cd_seterr("not a credentials answer");
	} else if (!strcmp(user, "<token>")) {
		c->token = cd_xstrdup(secret);
		ret = 1;
	} else if (!*user) {
		ret = cd_seterr("credentials answer without a user name");
	} else {
		c->user = cd_xstrdup(user);
		c->pass = cd_xstrdup(secret);
		ret = 1;
	}
	if (secret)
		OPENSSL_cleanse((char *)secret, strlen(secret));
	jv_free(doc);
	return ret;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything the child writes to fd, at most max bytes, before the deadline.  0, or -1 (errno). */
static int read_answer(int fd, struct cd_buf *out, long long deadline)
{
	char chunk[4096];
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = { fd, POLLIN, 0 };
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			continue;
		ssize_t k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			return 0;
		int full = cd_buf_add(out, chunk, (size_t)k);
		OPENSSL_cleanse(chunk, (size_t)k);
		if (full < 0) {
			errno = EFBIG;
			return -1;
		}
	}
}

/* The server as docker names it to helpers. */
static const char *server_of(const char *host)
{
	return strcmp(host, "docker.io") ? host : "https://index.docker.io/v1/";
}

int cd_credhelper_get(const char *name, const char *host, struct cd_creds *c)
{
	memset(c, 0, sizeof(*c));
	if (!valid_name(name))
		return cd_seterr("'%.80s' does not name a credential helper", name);
	char *prog = cd_xasprintf("docker-credential-%s", name);
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, ret = -1;
	pid_t pid = -1;
	struct cd_buf ans;
	cd_buf_init(&ans, CD_AUTHFILE_MAX);
	/*
	 * The server goes into the pipe before the helper starts (it is far
	 * below the pipe's size), so a helper that never reads it cannot
	 * block us or send us SIGPIPE.
	 */
	const char *server = server_of(host);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    cd_write_all(in[1], server, strlen(server)) < 0) {
		cd_seterr("credential helper %s: %s", prog, strerror(errno));
		goto out;
	}
	close(in[1]);
	in[1] = -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	char *argv[] = { prog, (char *)"get", NULL };
	int e = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		pid = -1;
		cd_seterr("cannot run credential helper %s: %s", prog, strerror(e));
		goto out;
	}
	close(out[1]);
	out[1] = -1;
	if (read_answer(out[0], &ans, now_ms() + CD_CREDHELPER_TIMEOUT_MS) < 0) {
		int why = errno;
		kill(pid, SIGKILL);
		cd_seterr("credential helper %s: %s", prog,
			  why == ETIMEDOUT ? "no answer in time" : why == EFBIG ? "answer too long" : strerror(why));
		goto out;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		if (cd_credhelper_answer(ans.p ? ans.p : "", ans.len, c) < 0)
			cd_seterr("credential helper %s: answer for '%s' is not credentials", prog, host);
		else
			ret = 1;
	} else if (ans.p && strstr(ans.p, "credentials not found")) {
		ret = 0;
	} else if (WIFEXITED(st)) {
		cd_seterr("credential helper %s failed for '%s' (exit status %d)", prog, host, WEXITSTATUS(st));
	} else {
		cd_seterr("credential helper %s was killed by signal %d", prog, WTERMSIG(st));
	}
out:
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (ans.p)
		OPENSSL_cleanse(ans.p, ans.len);
	cd_buf_release(&ans);
	free(prog);
	return ret;
}
