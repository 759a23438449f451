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

/* A --creds value: kept, and wiped from argv. */
static void take_creds(char **slot, const char *flag, const char *arg)
{
	if (!strchr(arg, ':'))
		cd_usage_error("invalid value for --%s: expected USER:PASSWORD", flag);
	if (*slot) {
		OPENSSL_cleanse(*slot, strlen(*slot));
		free(*slot);
	}
	*slot = cd_xstrdup(arg);
	/* Keep the password out of /proc/<pid>/cmdline where we can. */
	OPENSSL_cleanse((char *)arg, strlen(arg));
}

/* --tls-verify[=BOOL] and the per-side ones, as skopeo spells them. */
static int tls_verify(const char *flag, const char *arg)
{
	return !arg || cd_opt_bool(flag, arg) ? CD_TLS_VERIFY : CD_TLS_SKIP;
}

/* CD_OPTS_REGISTRY_SIDES.  1 when opt was one. */
static int side_option(int opt, const char *arg)
{
	switch (opt) {
	case CD_OPT_SRC_CREDS:
		take_creds(&cd_opts.src.creds, "src-creds", arg);
		return 1;
	case CD_OPT_DEST_CREDS:
		take_creds(&cd_opts.dst.creds, "dest-creds", arg);
		return 1;
	case CD_OPT_SRC_AUTHFILE:
		cd_opts.src.authfile = arg;
		return 1;
	case CD_OPT_DEST_AUTHFILE:
		cd_opts.dst.authfile = arg;
		return 1;
	case CD_OPT_SRC_TLS_VERIFY:
		cd_opts.src.tls_verify = tls_verify("src-tls-verify", arg);
		return 1;
	case CD_OPT_DEST_TLS_VERIFY:
		cd_opts.dst.tls_verify = tls_verify("dest-tls-verify", arg);
		return 1;
	case CD_OPT_SRC_CERT_DIR:
		cd_opts.src.cert_dir = arg;
		return 1;
	case CD_OPT_DEST_CERT_DIR:
		cd_opts.dst.cert_dir = arg;
		return 1;
	default:
		return 0;
	}
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
		take_creds(&cd_opts.creds, "creds", arg);
		return 1;
	case CD_OPT_AUTHFILE:
		cd_opts.authfile = arg;
		return 1;
	case CD_OPT_TLS_VERIFY:
		cd_opts.tls_verify = tls_verify("tls-verify", arg);
		return 1;
	default:
		return side_option(opt, arg);
	}
}

void cd_opts_finish(void)
{
	const char *env = getenv("CD_MIRRORS");
	if (env && cd_mirror_add_list(&cd_mirrors, env) < 0)
		cd_usage_error("CD_MIRRORS: %s", cd_errmsg());
	cd_http_global_init();
}

static void wipe_creds(char **c)
{
	if (*c) {
		OPENSSL_cleanse(*c, strlen(*c));
		free(*c);
		*c = NULL;
	}
}

void cd_opts_release(void)
{
	wipe_creds(&cd_opts.creds);
	wipe_creds(&cd_opts.src.creds);
	wipe_creds(&cd_opts.dst.creds);
	free(cd_opts.src.host);
	free(cd_opts.dst.host);
	cd_opts.src.host = cd_opts.dst.host = NULL;
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

static const struct cd_opts_side *side_of(enum cd_opts_side_id side)
{
	if (side == CD_SIDE_SRC)
		return &cd_opts.src;
	if (side == CD_SIDE_DST)
		return &cd_opts.dst;
	return NULL;
}

static struct cd_registry *client_for(const char *host, enum cd_opts_side_id side)
{
	const struct cd_opts_side *sd = side_of(side);
	struct cd_registry_opts o = { .plain_http = cd_opts.plain_http, .creds = cd_opts_creds_for(host),
				      .authfile = cd_opts.authfile, .tls_verify = cd_opts.tls_verify };
	if (sd && sd->creds)
		o.creds = sd->creds;
	if (sd && sd->authfile)
		o.authfile = sd->authfile;
	if (sd && sd->tls_verify)
		o.tls_verify = sd->tls_verify;
	if (sd)
		o.cert_dir = sd->cert_dir;
	struct cd_registry *r = cd_registry_new(host, &o);
	if (r && cd_opts.creds && !o.creds)
		cd_debug("%s: not a registry named on the command line: --creds are not sent there (%s)",
			 host, cd_registry_has_creds(r) ? "using its auth file entry" : "anonymous");
	return r;
}

struct cd_registry *cd_opts_client(const char *host)
{
	/* A record naming a side's registry gets that side's settings (its --src-creds too). */
	if (cd_opts.dst.host && same_host(cd_opts.dst.host, host))
		return client_for(host, CD_SIDE_DST);
	if (cd_opts.src.host && same_host(cd_opts.src.host, host))
		return client_for(host, CD_SIDE_SRC);
	return client_for(host, CD_SIDE_ANY);
}

struct cd_registry *cd_opts_registry(const char *spec, const char *flag, char **prefix)
{
	return cd_opts_registry_side(spec, flag, CD_SIDE_ANY, prefix);
}

struct cd_registry *cd_opts_registry_side(const char *spec, const char *flag, enum cd_opts_side_id side,
					  char **prefix)
{
	char *host = cd_opts_name_registry(spec, flag, prefix);
	if (side != CD_SIDE_ANY) {
		struct cd_opts_side *sd = side == CD_SIDE_SRC ? &cd_opts.src : &cd_opts.dst;
		free(sd->host);
		sd->host = cd_xstrdup(host);
	}
	struct cd_registry *r = client_for(host, side);
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
