#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/ref.h"
#include "core/url.h"
#include "net/http.h"
#include "net/mirror.h"
#include "registry/client.h"
#include "stage/opts.h"
#include "core/banned.h"

struct cd_opts cd_opts = { .workers = 2, .dry_run = 1 };

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

static int is_bool_word(const char *s)
{
	static const char *const w[] = { "true", "false", "yes", "no", "1", "0" };
	for (size_t i = 0; i < sizeof(w) / sizeof(*w); i++)
		if (!strcmp(s, w[i]))
			return 1;
	return 0;
}

/* The long option spelt by "--name[=value]": its entry, or NULL.  *n: how many it abbreviates. */
static const struct option *long_named(const struct option *lo, const char *el, int *n)
{
	size_t len = strcspn(el + 2, "=");
	const struct option *hit = NULL;
	*n = 0;
	for (; lo->name; lo++) {
		if (strncmp(lo->name, el + 2, len))
			continue;
		if (strlen(lo->name) == len) {
			*n = 1;
			return lo;
		}
		hit = lo;
		(*n)++;
	}
	return hit;
}

/* getopt_long() said '?' or ':' (opterr 0): say which option in one line and exit 2. */
static void bad_option(int c, char **argv, const struct option *lo)
{
	const char *el = optind > 0 ? argv[optind - 1] : "";
	int n = 0;
	const struct option *o = !strncmp(el, "--", 2) ? long_named(lo, el, &n) : NULL;
	int len = (int)strcspn(el, "=");

	/* optopt names a short option, unless el is the long option it belongs to */
	if (optopt > 0 && optopt < 0x100 && !(o && n == 1 && o->val == optopt)) {
		if (c == ':')
			cd_usage_error("option '-%c' needs a value", optopt);
		cd_usage_error("unknown option '-%c'", optopt);
	}
	if (c == ':')
		cd_usage_error("option '%.*s' needs a value", len, el);
	if (n > 1) {
		char which[256] = "";
		size_t at = 0;
		for (const struct option *l = lo; l->name; l++)
			if (!strncmp(l->name, el + 2, (size_t)len - 2) && at + 1 < sizeof(which)) {
				/* a cut list still says it */
				cd_snprintf_cut(which + at, sizeof(which) - at, "%s--%s", at ? ", " : "", l->name);
				at = strlen(which);
			}
		cd_usage_error("ambiguous option '%.*s': %s?", len, el, which);
	}
	if (o && o->has_arg == no_argument && strchr(el, '='))
		cd_usage_error("option '--%s' takes no value", o->name);
	cd_usage_error("unknown option '%.*s'", len, el);
}

int cd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	char spec[64];
	int idx = -1;

	/* a leading ':' tells a missing value (':') from an unknown option ('?') */
	if (cd_snprintf(spec, sizeof(spec), ":%s", shortopts) < 0)
		cd_usage_error("internal error: short options '%s' too long", shortopts);
	opterr = 0;
	optopt = 0;
	int c = getopt_long(argc, argv, spec, longopts, &idx);
	if (c == '?' || c == ':')
		bad_option(c, argv, longopts);
	if (c != -1 && idx >= 0 && longopts[idx].has_arg == optional_argument && !optarg &&
	    optind < argc && is_bool_word(argv[optind]))
		optarg = argv[optind++];
	return c;
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
	case CD_OPT_FOCUS:
		if (cd_record_focus_check(arg) < 0)
			cd_usage_error("--focus: %s", cd_errmsg());
		cd_opts.focus = cd_xrealloc(cd_opts.focus, (cd_opts.nfocus + 1) * sizeof(*cd_opts.focus));
		cd_opts.focus[cd_opts.nfocus++] = arg;
		cd_pool_focus(cd_opts.focus, cd_opts.nfocus);
		return 1;
	case CD_OPT_TLS_VERIFY:
		cd_opts.tls_verify = tls_verify("tls-verify", arg);
		return 1;
	case CD_OPT_DRY_RUN:
		cd_opts.dry_run = arg ? cd_opt_bool("dry-run", arg) : 1;
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
	cd_pool_focus(NULL, 0);
	free(cd_opts.focus);
	cd_opts.focus = NULL;
	cd_opts.nfocus = 0;
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
