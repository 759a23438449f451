#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/msg.h"
#include "core/ref.h"
#include "core/url.h"
#include "net/http.h"
#include "net/mirror.h"
#include "registry/client.h"
#include "stage/opts.h"
#include "core/banned.h"

struct cd_opts cd_opts = { .workers = 2 };

long cd_opt_long(const char *name, const char *arg, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		cd_usage_error("invalid value '%s' for --%s: expected a number from %ld to %ld", arg, name, min, max);
	return v;
}

int cd_opt_bool(const char *name, const char *arg)
{
	if (!strcmp(arg, "true") || !strcmp(arg, "1") || !strcmp(arg, "yes"))
		return 1;
	if (!strcmp(arg, "false") || !strcmp(arg, "0") || !strcmp(arg, "no"))
		return 0;
	cd_usage_error("invalid value '%s' for --%s: expected true or false", arg, name);
}

/* --help and --version write to stdout too: a full disk there is exit 4, as for records. */
static void flush_stdout_or_die(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cd_error("cannot write to stdout: %s", strerror(errno));
		_exit(CD_EXIT_IO);
	}
}

/* Keep a user:password of a --mirror URL out of /proc/<pid>/cmdline, as --creds. */
static void wipe_mirror_userinfo(char *spec)
{
	char *eq = strchr(spec, '=');
	size_t off, len;
	if (!eq)
		return;
	*eq = '\0'; /* the prefix alone, for a moment */
	if (cd_url_userinfo(spec, &off, &len))
		OPENSSL_cleanse(spec + off, len);
	*eq = '=';
	if (cd_url_userinfo(eq + 1, &off, &len))
		OPENSSL_cleanse(eq + 1 + off, len);
}

int cd_opts_common(int opt, const char *arg, void (*usage)(int status))
{
	switch (opt) {
	case CD_OPT_HELP:
		atexit(flush_stdout_or_die); /* usage() exits */
		usage(CD_EXIT_OK);
		return 1;
	case CD_OPT_VERSION:
		printf("%s (cdkit) %s\n", cd_prog(), CD_VERSION);
		flush_stdout_or_die();
		exit(CD_EXIT_OK);
	case CD_OPT_QUIET:
		cd_set_verbosity(0);
		return 1;
	case CD_OPT_VERBOSE:
		cd_set_verbosity(2);
		return 1;
	case CD_OPT_WORKERS:
		cd_opts.workers = (int)cd_opt_long("workers", arg, 1, 64);
		return 1;
	case CD_OPT_MIRROR:
		if (cd_mirror_add(&cd_mirrors, arg) < 0)
			cd_usage_error("%s", cd_errmsg());
		wipe_mirror_userinfo((char *)arg);
		return 1;
	case CD_OPT_RETRIES:
		cd_http_cfg.retries = (int)cd_opt_long("retries", arg, 0, 100);
		return 1;
	case CD_OPT_TIMEOUT:
		cd_http_cfg.timeout = cd_opt_long("timeout", arg, 1, 86400);
		return 1;
	case CD_OPT_NET_TIMEOUT:
		cd_http_cfg.timeout = cd_opt_long("net-timeout", arg, 1, 86400);
		return 1;
	case CD_OPT_CONNECT_TIMEOUT:
		cd_http_cfg.connect_timeout = cd_opt_long("connect-timeout", arg, 1, 3600);
		return 1;
	case CD_OPT_CA_FILE:
		cd_http_cfg.ca_file = arg;
		return 1;
	case CD_OPT_INSECURE:
		cd_http_cfg.insecure = 1;
		return 1;
	case CD_OPT_PLAIN_HTTP:
		cd_opts.plain_http = 1;
		return 1;
	case CD_OPT_CREDS:
		if (!strchr(arg, ':'))
			cd_usage_error("invalid value for --creds: expected USER:PASSWORD");
		free(cd_opts.creds);
		cd_opts.creds = strdup(arg);
		/* Keep the password out of /proc/<pid>/cmdline where we can. */
		OPENSSL_cleanse((char *)arg, strlen(arg));
		return 1;
	case CD_OPT_AUTHFILE:
		cd_opts.authfile = arg;
		return 1;
	default:
		return 0;
	}
}

void cd_opts_finish(void)
{
	const char *env = getenv("CD_MIRRORS");
	if (env && cd_mirror_add_list(&cd_mirrors, env) < 0)
		cd_usage_error("CD_MIRRORS: %s", cd_errmsg());
	cd_http_global_init();
}

void cd_opts_release(void)
{
	if (cd_opts.creds) {
		OPENSSL_cleanse(cd_opts.creds, strlen(cd_opts.creds));
		free(cd_opts.creds);
		cd_opts.creds = NULL;
	}
	cd_mirror_release(&cd_mirrors);
	for (size_t i = 0; i < cd_opts.nnamed; i++)
		free(cd_opts.named[i]);
	free(cd_opts.named);
	cd_opts.named = NULL;
	cd_opts.nnamed = 0;
	cd_http_global_cleanup();
}

/* One registry host, however it is spelled: case, and docker.io's aliases. */
static int same_host(const char *a, const char *b)
{
	return !strcasecmp(cd_ref_api_host(a), cd_ref_api_host(b));
}

const char *cd_opts_creds_for(const char *host)
{
	for (size_t i = 0; cd_opts.creds && i < cd_opts.nnamed; i++)
		if (same_host(cd_opts.named[i], host))
			return cd_opts.creds;
	return NULL;
}

char *cd_opts_name_registry(const char *spec, const char *flag, char **prefix)
{
	char *host, *path;
	if (cd_ref_parse_registry(spec, &host, &path) < 0) {
		cd_opts_release(); /* wipe the credentials before exiting */
		if (flag)
			cd_usage_error("%s: %s", flag, cd_errmsg());
		cd_usage_error("%s", cd_errmsg());
	}
	if (prefix)
		*prefix = path;
	else
		free(path);
	cd_opts.named = cd_xrealloc(cd_opts.named, (cd_opts.nnamed + 1) * sizeof(*cd_opts.named));
	cd_opts.named[cd_opts.nnamed++] = cd_xstrdup(host);
	return host;
}

struct cd_registry *cd_opts_client(const char *host)
{
	struct cd_registry_opts o = { cd_opts.plain_http, cd_opts_creds_for(host), cd_opts.authfile };
	struct cd_registry *r = cd_registry_new(host, &o);
	if (r && cd_opts.creds && !o.creds)
		cd_debug("%s: not a registry named on the command line: --creds are not sent there (%s)",
			 host, cd_registry_has_creds(r) ? "using its auth file entry" : "anonymous");
	return r;
}

struct cd_registry *cd_opts_registry(const char *spec, const char *flag, char **prefix)
{
	char *host = cd_opts_name_registry(spec, flag, prefix);
	struct cd_registry *r = cd_opts_client(host);
	free(host);
	if (!r) {
		free(*prefix);
		*prefix = NULL;
		cd_error("%s", cd_errmsg());
		cd_opts_release();
		exit(CD_EXIT_FAIL);
	}
	return r;
}
