#ifndef CD_REF_H
#define CD_REF_H
/*
 * Image references: host[:port]/path[:tag][@digest].
 *
 * The grammar is the distribution project's (reference/regexp.go):
 * - the first component is a host when it holds a '.' or a ':' or is
 *   "localhost"; otherwise the host is docker.io and, for a one-component
 *   path, the path gets "library/" in front (what docker pull does);
 * - path components are lowercase [a-z0-9]+ joined by '.', '_', "__" or
 *   runs of '-', separated by '/'; the whole name (host/path, as parsed:
 *   "ubuntu" counts as docker.io/library/ubuntu) is at most 255 characters;
 * - a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
 * - a digest is "<alg>:<hex>" as digest.h checks it (sha256, sha512).
 *
 * A reference may have neither tag nor digest ("quay.io/containerdisks":
 * a repository prefix, or a repository).  Pure functions: thread-safe.
 */
#include <stddef.h>

#define CD_REF_NAME_MAX 255
#define CD_REF_TAG_MAX 128

struct cd_ref {
	char *host;    /* "quay.io", "127.0.0.1:5000", "docker.io" */
	char *path;    /* "containerdisks/fedora" (no leading or trailing '/') */
	char *tag;     /* NULL when none */
	char *digest;  /* NULL when none */
};

/*
 * Parse s into ref (all fields malloc'd, owned by ref).  -1 and cd_seterr()
 * ("invalid reference '<s>': <why>", s redacted by cd_ref_redact()) when
 * malformed; ref is then empty.
 */
int cd_ref_parse(struct cd_ref *ref, const char *s);
void cd_ref_release(struct cd_ref *ref);

/*
 * A copy of s, something given as a reference or registry
 * ("user:pass@host/org", "https://user:pass@host/..."), fit for messages:
 * whatever stands before an '@' that does not start the digest (a
 * user:password) becomes "***".  Caller frees.
 */
char *cd_ref_redact(const char *s);

/* "<prefix>/<name>", or name when prefix is "": a repository under a prefix.  Caller frees. */
char *cd_ref_join(const char *prefix, const char *name);
/* "host/path[:tag][@digest]"; caller frees.  Only tests call it (tests/unit/test-registry.c, tests/fuzz/fuzz-ref.c). */
char *cd_ref_format(const struct cd_ref *ref);

/* Checks of single parts (1 valid, 0 not): for callers that build references. */
int cd_ref_valid_path(const char *path);
int cd_ref_valid_tag(const char *tag);

/*
 * The host to talk to for host: "docker.io" and "index.docker.io" become
 * "registry-1.docker.io"; anything else is itself.  Borrowed/static result.
 */
const char *cd_ref_api_host(const char *host);

/* Is host (with or without :port) 127.0.0.1, [::1] or localhost? */
int cd_ref_host_is_loopback(const char *host);

/*
 * A registry named on a command line (--source-registry, --target-registry,
 * --registry): split "quay.io/containerdisks" or "127.0.0.1:5000" into
 * host and repository prefix (may be "").  -1 and cd_seterr() when
 * malformed or when it holds a tag or digest (the message shows spec
 * without any user:password).  Both malloc'd.
 */
int cd_ref_parse_registry(const char *spec, char **host, char **prefix);

#endif
