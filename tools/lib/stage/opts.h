#ifndef CD_OPTS_H
#define CD_OPTS_H
/*
 * Options every tool spells the same way.  A tool builds its getopt_long
 * table from its own entries plus the CD_OPTS_* groups it needs, and hands
 * each option it does not know to cd_opts_common().
 *
 *   static const struct option longopts[] = {
 *           { "focus", required_argument, NULL, OPT_FOCUS },
 *           CD_OPTS_BASE, CD_OPTS_HTTP, { 0 } };
 */
#include <getopt.h>

enum cd_opt {
	CD_OPT_HELP = 'h',
	CD_OPT_QUIET = 'q',
	CD_OPT_VERBOSE = 'v',
	CD_OPT_WORKERS = 'j',
	CD_OPT_VERSION = 0x100,
	CD_OPT_MIRROR,
	CD_OPT_RETRIES,
	CD_OPT_TIMEOUT,
	CD_OPT_CONNECT_TIMEOUT,
	CD_OPT_CA_FILE,
	CD_OPT_INSECURE,
	CD_OPT_PLAIN_HTTP,
	CD_OPT_CREDS,
	CD_OPT_AUTHFILE,
	CD_OPT_DRY_RUN,
	CD_OPT_CHUNK_SIZE,
	CD_OPT_PARALLEL,
	CD_OPT_TARGET_REGISTRY,
	CD_OPT_SOURCE_REGISTRY,
	CD_OPT_TLS_VERIFY,
	CD_OPT_SRC_CREDS,
	CD_OPT_DEST_CREDS,
	CD_OPT_SRC_AUTHFILE,
	CD_OPT_DEST_AUTHFILE,
	CD_OPT_SRC_TLS_VERIFY,
	CD_OPT_DEST_TLS_VERIFY,
	CD_OPT_SRC_CERT_DIR,
	CD_OPT_DEST_CERT_DIR,
	CD_OPT_FOCUS,
	CD_OPT_TOOL = 0x200, /* tools number their own options from here */
};

#define CD_OPTS_BASE                                              \
	{ "help", no_argument, NULL, CD_OPT_HELP },               \
	{ "version", no_argument, NULL, CD_OPT_VERSION },         \
	{ "quiet", no_argument, NULL, CD_OPT_QUIET },             \
	{ "verbose", no_argument, NULL, CD_OPT_VERBOSE }
/* Retries and timeouts: every tool that talks HTTP. */
#define CD_OPTS_NET                                                       \
	{ "retries", required_argument, NULL, CD_OPT_RETRIES },           \
	{ "timeout", required_argument, NULL, CD_OPT_TIMEOUT },           \
	{ "connect-timeout", required_argument, NULL, CD_OPT_CONNECT_TIMEOUT }
/* CD_OPTS_NET plus the mirror map: tools that fetch from upstream. */
#define CD_OPTS_HTTP                                                      \
	{ "mirror", required_argument, NULL, CD_OPT_MIRROR },             \
	CD_OPTS_NET
#define CD_OPTS_WORKERS { "workers", required_argument, NULL, CD_OPT_WORKERS }
/* Every stage that reads records: only these are worked on (core/loop.h). */
#define CD_OPTS_FOCUS { "focus", required_argument, NULL, CD_OPT_FOCUS }
#define CD_OPTS_REGISTRY                                                 \
	{ "ca-file", required_argument, NULL, CD_OPT_CA_FILE },          \
	{ "insecure-skip-tls", no_argument, NULL, CD_OPT_INSECURE },     \
	{ "tls-verify", optional_argument, NULL, CD_OPT_TLS_VERIFY },    \
	{ "plain-http", no_argument, NULL, CD_OPT_PLAIN_HTTP },          \
	{ "creds", required_argument, NULL, CD_OPT_CREDS },              \
	{ "authfile", required_argument, NULL, CD_OPT_AUTHFILE }

/*
 * Tools with a source and a destination registry (cd-push, cd-promote):
 * skopeo's per-side flags, over the CD_OPTS_REGISTRY ones for that side.
 */
#define CD_OPTS_REGISTRY_SIDES                                                  \
	{ "src-creds", required_argument, NULL, CD_OPT_SRC_CREDS },             \
	{ "dest-creds", required_argument, NULL, CD_OPT_DEST_CREDS },           \
	{ "src-authfile", required_argument, NULL, CD_OPT_SRC_AUTHFILE },       \
	{ "dest-authfile", required_argument, NULL, CD_OPT_DEST_AUTHFILE },     \
	{ "src-tls-verify", optional_argument, NULL, CD_OPT_SRC_TLS_VERIFY },   \
	{ "dest-tls-verify", optional_argument, NULL, CD_OPT_DEST_TLS_VERIFY }, \
	{ "src-cert-dir", required_argument, NULL, CD_OPT_SRC_CERT_DIR },       \
	{ "dest-cert-dir", required_argument, NULL, CD_OPT_DEST_CERT_DIR }

/* Tools that send only when told to (cd-push, cd-promote, cd-docs): cd_opts.dry_run. */
#define CD_OPTS_DRY_RUN { "dry-run", optional_argument, NULL, CD_OPT_DRY_RUN }
/* Tools that write to a registry (cd-push, cd-promote): publish.h. */
#define CD_OPTS_XFER                                                       \
	CD_OPTS_DRY_RUN,                                                   \
	{ "chunk-size", required_argument, NULL, CD_OPT_CHUNK_SIZE },      \
	{ "parallel", required_argument, NULL, CD_OPT_PARALLEL }

/* Help text for the groups, to paste into a tool's usage(). */
#define CD_HELP_BASE \
	"  -q, --quiet              only errors on stderr\n" \
	"  -v, --verbose            more detail on stderr (retries, requests)\n" \
	"  -h, --help               show this help and exit\n" \
	"      --version            show the version and exit\n"
/* column: the flag and its argument, padded to 21 characters */
#define CD_HELP_NET_TIMEOUT(column) \
	"      " column "a transfer slower than 1 KiB/s for this long has\n" \
	"                           stalled and is given up (default 30); a small one\n" \
	"                           (index, checksum file, manifest, token, config)\n" \
	"                           must also be complete within 4 times this\n"
#define CD_HELP_NET \
	"      --retries N          retries on connection errors, timeouts, 429 and 5xx\n" \
	"                           (default 4)\n" \
	CD_HELP_NET_TIMEOUT("--timeout SECONDS    ") \
	"      --connect-timeout S  connection timeout (default 15)\n"
#define CD_HELP_HTTP \
	"      --mirror PREFIX=URL  fetch URLs starting with PREFIX from URL instead\n" \
	"                           (repeatable; also CD_MIRRORS=\"P=U P=U\", the place\n" \
	"                           for a URL with user:password@)\n" \
	CD_HELP_NET
#define CD_HELP_WORKERS \
	"  -j, --workers N          process N records at once (default 2)\n"
#define CD_HELP_FOCUS \
	"      --focus NAME:VERSION only work on this image (repeatable); NAME:* for\n" \
	"                           every version of NAME; the other records pass\n" \
	"                           through untouched\n"
#define CD_HELP_REGISTRY \
	"      --ca-file PATH       trust this CA bundle for registry TLS (with the\n" \
	"                           registry's certs.d folder: CD_CERTS_D below)\n" \
	"      --insecure-skip-tls  do not verify registry TLS certificates\n" \
	"      --tls-verify[=BOOL]  verify registry TLS certificates (default true);\n" \
	"                           --tls-verify=false is --insecure-skip-tls, and\n" \
	"                           also allows plain HTTP to a registry without TLS\n" \
	"      --plain-http         talk plain HTTP to the registry (implied for\n" \
	"                           127.0.0.1 and localhost)\n" \
	"      --creds USER:PASS    credentials for the registries named on the command\n" \
	"                           line, never sent elsewhere (else, and for any other\n" \
	"                           registry: --authfile, REGISTRY_AUTH_FILE,\n" \
	"                           containers or docker auth, per host)\n" \
	"      --authfile PATH      containers-auth.json / docker config.json to read\n" \
	"                           (its credHelpers and credsStore run\n" \
	"                           docker-credential-NAME; default auth files:\n" \
	"                           $XDG_RUNTIME_DIR/containers/auth.json, then\n" \
	"                           ${DOCKER_CONFIG:-~/.docker}/config.json)\n"
/* The environment CD_HELP_REGISTRY refers to, for the end of a tool's usage(). */
#define CD_HELP_REGISTRY_ENV \
	"environment: CD_CERTS_D  the certs.d folder to read instead of\n" \
	"~/.config/containers/certs.d, /etc/containers/certs.d and\n" \
	"/etc/docker/certs.d: its <host:port>/ folder holds the registry's CAs\n" \
	"(*.crt) and client certificate (*.cert with its *.key)\n"
#define CD_HELP_REGISTRY_SIDES \
	"      --src-creds USER:PASS\n" \
	"      --dest-creds USER:PASS\n" \
	"                           credentials for --source-registry or\n" \
	"                           --target-registry only (over --creds)\n" \
	"      --src-authfile PATH\n" \
	"      --dest-authfile PATH auth file for that registry (over --authfile)\n" \
	"      --src-tls-verify[=BOOL]\n" \
	"      --dest-tls-verify[=BOOL]\n" \
	"                           verify that registry's TLS certificates (over\n" \
	"                           --tls-verify and --insecure-skip-tls)\n" \
	"      --src-cert-dir DIR\n" \
	"      --dest-cert-dir DIR  that registry's CAs (*.crt) and client\n" \
	"                           certificate (*.cert, *.key), instead of its\n" \
	"                           certs.d folder\n" \
	"                           (--source-registry and --target-registry naming\n" \
	"                           one registry: its --dest- settings apply)\n"

#define CD_HELP_DRY_RUN \
	"      --dry-run[=BOOL]     only say what would be sent (default true;\n" \
	"                           --dry-run=false sends)\n"
#define CD_HELP_XFER \
	CD_HELP_DRY_RUN \
	"      --chunk-size BYTES   upload blobs in PATCH chunks of BYTES (default: one\n" \
	"                           streaming PUT per blob)\n" \
	"      --parallel N         blobs of one image sent at once (default 4)\n"

/* The settings of one side (cd_opts.src, cd_opts.dst): unset ones are the common ones. */
struct cd_opts_side {
	char *creds;            /* wiped and freed by cd_opts_release() */
	const char *authfile;
	int tls_verify;         /* enum cd_tls_verify (registry/client.h) */
	const char *cert_dir;
	char *host;             /* the side's registry, once named (cd_opts_registry_side) */
};

enum cd_opts_side_id { CD_SIDE_ANY, CD_SIDE_SRC, CD_SIDE_DST };

struct cd_opts {
	int workers;
	int plain_http;
	char *creds;            /* wiped and freed by cd_opts_release() */
	const char *authfile;
	int tls_verify;         /* enum cd_tls_verify: --tls-verify */
	char **named;           /* registry hosts named on the command line */
	size_t nnamed;
	struct cd_opts_side src, dst;
	const char **focus;     /* --focus values (borrowed from argv) */
	size_t nfocus;
	int dry_run;            /* --dry-run[=BOOL]; default 1: send nothing */
};
extern struct cd_opts cd_opts;

/*
 * Credentials given on the command line (--creds) are for the registries
 * the command line names (--source-registry, --target-registry,
 * cd-verify's --registry) and go to no other host: a record naming another
 * registry gets that host's auth-file entry or nothing.  These are the
 * command line's credentials for host, or NULL.  (--src-creds and
 * --dest-creds go further: to their own side's registry only, see
 * cd_opts_registry_side().)
 */
const char *cd_opts_creds_for(const char *host);

/*
 * getopt_long() for every tool: the same arguments and result, but a bad
 * command line never reaches the tool.  An unknown or ambiguous option, a
 * missing value or a value given to an option that takes none exits 2 with
 * one line naming it and "Try '<prog> --help'" (getopt itself prints
 * nothing).  An optional_argument option (--dry-run) followed by a
 * separate true/false/yes/no/1/0 takes it as its value, as
 * "--dry-run false" is meant: the tools take no operands.
 */
int cd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/*
 * Handle a common option.  1 when it was one, 0 when the tool must handle
 * it.  --help calls usage(0); --version prints and exits; bad values exit 2.
 */
int cd_opts_common(int opt, const char *arg, void (*usage)(int status));
/* After option parsing: read CD_MIRRORS, initialise libcurl. */
void cd_opts_finish(void);
void cd_opts_release(void);

struct cd_registry;
/*
 * A registry named on the command line (HOST[:PORT][/PATH]): parse it
 * (cd_ref_parse_registry) and note its host as one the command line's
 * credentials are for.  Exits 2 with "<flag>: <why>" (just "<why>" when
 * flag is NULL) on a malformed value, after cd_opts_release().  Returns the
 * host; *prefix (when not NULL) gets the path.  Both malloc'd.
 */
char *cd_opts_name_registry(const char *spec, const char *flag, char **prefix);
/*
 * A --source-registry/--target-registry value: cd_opts_name_registry(),
 * then a client for it (cd_opts_client()).  Exits 1 when the client cannot
 * be made, after cd_opts_release().  *prefix is malloc'd.
 */
struct cd_registry *cd_opts_registry(const char *spec, const char *flag, char **prefix);
/*
 * cd_opts_registry() for the source (CD_SIDE_SRC: --source-registry) or
 * target (CD_SIDE_DST: --target-registry) of a copy: that side's settings
 * (--src-* or --dest-*) over the common ones.  --src-creds go to the
 * source registry only, --dest-creds to the target only.
 */
struct cd_registry *cd_opts_registry_side(const char *spec, const char *flag, enum cd_opts_side_id side,
					  char **prefix);
/*
 * A client for host with the command line's settings: --plain-http,
 * --authfile, --tls-verify, and --creds when the command line named host.
 * NULL and cd_seterr() when its credentials cannot be read.
 */
struct cd_registry *cd_opts_client(const char *host);

/* Strict number parsing for option values: exits 2 with a message. */
long cd_opt_long(const char *name, const char *arg, long min, long max);
/* "true"/"false"/"1"/"0"/"yes"/"no"; exits 2 otherwise. */
int cd_opt_bool(const char *name, const char *arg);

#endif
