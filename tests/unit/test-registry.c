/*
 * Unit tests for the registry client's pure parts: references, challenges,
 * auth files, Link headers, error bodies, manifest lists; hostile inputs too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/msg.h"
#include "core/oci.h"
#include "core/record.h"
#include "core/ref.h"
#include "registry/auth.h"
#include "registry/credhelper.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/tags.h"
#include "stage/diff.h"
#include "unit.h"
#include "core/banned.h"

static void check_ref(const char *s, const char *host, const char *path, const char *tag, const char *digest)
{
	struct cd_ref r;
	int ok = cd_ref_parse(&r, s);
	CHECK(ok == 0);
	if (ok)
		return;
	CHECK_STR(r.host, host);
	CHECK_STR(r.path, path);
	if (tag)
		CHECK_STR(r.tag, tag);
	else
		CHECK(r.tag == NULL);
	if (digest)
		CHECK_STR(r.digest, digest);
	else
		CHECK(r.digest == NULL);
	cd_ref_release(&r);
}

static void bad_ref(const char *s)
{
	struct cd_ref r;
	CHECK(cd_ref_parse(&r, s) == -1);
	CHECK(r.host == NULL && r.path == NULL && r.tag == NULL && r.digest == NULL);
}

#define D256 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_ref(void)
{
	check_ref("quay.io/containerdisks/fedora:41", "quay.io", "containerdisks/fedora", "41", NULL);
	check_ref("127.0.0.1:5000/a/b/c:1.2-3_x", "127.0.0.1:5000", "a/b/c", "1.2-3_x", NULL);
	check_ref("localhost/x", "localhost", "x", NULL, NULL);
	check_ref("localhost:5000/x@" D256, "localhost:5000", "x", NULL, D256);
	check_ref("quay.io/a/b:t@" D256, "quay.io", "a/b", "t", D256);
	check_ref("[::1]:5000/x:1", "[::1]:5000", "x", "1", NULL);
	check_ref("fedora", "docker.io", "library/fedora", NULL, NULL);
	check_ref("fedora:41", "docker.io", "library/fedora", "41", NULL);
	check_ref("kubevirt/fedora:41", "docker.io", "kubevirt/fedora", "41", NULL);
	check_ref("quay.io/containerdisks", "quay.io", "containerdisks", NULL, NULL);
	check_ref("r.example/a__b/c-d--e/f.g", "r.example", "a__b/c-d--e/f.g", NULL, NULL);

	bad_ref("");
	bad_ref("quay.io/");
	bad_ref("quay.io//x");
	bad_ref("quay.io/Upper");
	bad_ref("quay.io/x/");
	bad_ref("quay.io/-x");
	bad_ref("quay.io/x_");
	bad_ref("quay.io/a___b");
	bad_ref("quay.io/x:");
	bad_ref("quay.io/x:-tag");
	bad_ref("quay.io/x:t@sha256:abc");
	bad_ref("quay.io/x@md5:0123");
	bad_ref("quay.io:99999999/x");
	bad_ref("quay.io:/x");
	bad_ref("qu ay.io/x");
	bad_ref("quay.io/x y");
	bad_ref("quay.io/x\n");
	bad_ref("[::1/x");
	bad_ref("-bad.io/x");

	/* Over-long inputs are refused and the message stays bounded. */
	char big[2000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "quay.io/", 8);
	bad_ref(big);
	CHECK(strlen(cd_errmsg()) < 400);
	char tag[300];
	int n = snprintf(tag, sizeof(tag), "quay.io/x:");
	memset(tag + n, 't', sizeof(tag) - (size_t)n - 1);
	tag[sizeof(tag) - 1] = '\0';
	bad_ref(tag); /* a 289-character tag */

	struct cd_ref r;
	CHECK(cd_ref_parse(&r, "quay.io/a/b:t@" D256) == 0);
	char *f = cd_ref_format(&r);
	CHECK_STR(f, "quay.io/a/b:t@" D256);
	free(f);
	cd_ref_release(&r);

	CHECK(cd_ref_host_is_loopback("127.0.0.1:5000"));
	CHECK(cd_ref_host_is_loopback("localhost"));
	CHECK(cd_ref_host_is_loopback("LOCALHOST:1"));
	CHECK(cd_ref_host_is_loopback("[::1]:5000"));
	CHECK(!cd_ref_host_is_loopback("127.0.0.10:5000"));
	CHECK(!cd_ref_host_is_loopback("localhost.evil.example"));
	CHECK(!cd_ref_host_is_loopback("quay.io"));
	CHECK_STR(cd_ref_api_host("docker.io"), "registry-1.docker.io");
	CHECK_STR(cd_ref_api_host("quay.io"), "quay.io");

	char *host, *prefix;
	CHECK(cd_ref_parse_registry("quay.io/containerdisks", &host, &prefix) == 0);
	CHECK_STR(host, "quay.io");
	CHECK_STR(prefix, "containerdisks");
	free(host);
	free(prefix);
	CHECK(cd_ref_parse_registry("127.0.0.1:5000", &host, &prefix) == 0);
	CHECK_STR(host, "127.0.0.1:5000");
	CHECK_STR(prefix, "");
	free(host);
	free(prefix);
	CHECK(cd_ref_parse_registry("quay.io/containerdisks:41", &host, &prefix) == -1);
	CHECK(cd_ref_parse_registry("nohost", &host, &prefix) == -1);

	/* A user:password given where a reference belongs never reaches a message. */
	CHECK(cd_ref_parse_registry("bob:hunter2@quay.io/org", &host, &prefix) == -1);
	CHECK_STR(cd_errmsg(), "invalid reference '***@quay.io/org': malformed digest");
	CHECK(cd_ref_parse_registry("bob:hunter2@127.0.0.1:5000", &host, &prefix) == -1);
	CHECK_STR(cd_errmsg(), "invalid source registry '***@127.0.0.1:5000': expected HOST[:PORT][/PATH]");
	bad_ref("bob:hun/ter2@quay.io/a/b@" D256);
	CHECK(!strstr(cd_errmsg(), "hun"));
	char *shown = cd_ref_redact("quay.io/a/b@" D256);
	CHECK_STR(shown, "quay.io/a/b@" D256); /* a digest is no password */
	free(shown);
	shown = cd_ref_redact("https://bob:pw@quay.io/a");
	CHECK_STR(shown, "https://***@quay.io/a");
	free(shown);
	shown = cd_ref_redact("b:p@q@quay.io/a");
	CHECK_STR(shown, "***@quay.io/a");
	free(shown);
}

static void test_challenge(void)
{
	struct cd_challenge c;
	CHECK(cd_challenge_parse(&c, "Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\"") == 0);
	CHECK(c.scheme == CD_AUTH_BEARER);
	CHECK_STR(c.realm, "https://auth.example/token");
	CHECK_STR(c.service, "registry.example");
	CHECK_STR(c.scope, "repository:a/b:pull,push");
	CHECK(c.error == NULL);
	cd_challenge_release(&c);

	CHECK(cd_challenge_parse(&c, "  bearer  realm = \"r\" , error=\"insufficient_scope\",scope=x") == 0);
	CHECK(c.scheme == CD_AUTH_BEARER);
	CHECK_STR(c.realm, "r");
	CHECK_STR(c.error, "insufficient_scope");
	CHECK_STR(c.scope, "x");
	cd_challenge_release(&c);

	CHECK(cd_challenge_parse(&c, "Basic realm=\"a \\\"quoted\\\" realm\"") == 0);
	CHECK(c.scheme == CD_AUTH_BASIC);
	CHECK_STR(c.realm, "a \"quoted\" realm");
	cd_challenge_release(&c);

	/* Two challenges: the first one is read. */
	CHECK(cd_challenge_parse(&c, "Bearer realm=\"t\",service=\"s\", Basic realm=\"b\"") == 0);
	CHECK(c.scheme == CD_AUTH_BEARER);
	CHECK_STR(c.realm, "t");
	CHECK_STR(c.service, "s");
	cd_challenge_release(&c);

	CHECK(cd_challenge_parse(&c, "Negotiate") == 0);
	CHECK(c.scheme == CD_AUTH_OTHER);
	cd_challenge_release(&c);

	/* Hostile: unterminated quote, no '=', junk, empty, huge value. */
	CHECK(cd_challenge_parse(&c, "Bearer realm=\"https://x") == -1);
	CHECK(cd_challenge_parse(&c, "Bearer realm") == -1);
	CHECK(cd_challenge_parse(&c, "Bearer realm=\"a\" junk") == -1);
	CHECK(cd_challenge_parse(&c, "") == -1);
	CHECK(cd_challenge_parse(&c, "=x") == -1);
	CHECK(cd_challenge_parse(&c, "Bearer\x01 realm=x") == -1);
	struct cd_buf b;
	cd_buf_init(&b, 0);
	cd_buf_puts(&b, "Bearer realm=\"");
	for (int i = 0; i < 5000; i++)
		cd_buf_puts(&b, "a");
	cd_buf_puts(&b, "\"");
	CHECK(cd_challenge_parse(&c, b.p) == -1);
	CHECK(c.realm == NULL);
	cd_buf_release(&b);
}

static void test_base64(void)
{
	char *e = cd_base64_encode("user:pass", 9), *d;
	size_t n;
	CHECK_STR(e, "dXNlcjpwYXNz");
	CHECK(cd_base64_decode(e, strlen(e), &d, &n) == 0);
	CHECK(n == 9 && !memcmp(d, "user:pass", 9));
	free(e);
	free(d);
	e = cd_base64_encode("ab", 2);
	CHECK_STR(e, "YWI=");
	CHECK(cd_base64_decode("YWI", 3, &d, &n) == 0 && n == 2);
	free(d);
	free(e);
	CHECK(cd_base64_decode("!!!!", 4, &d, &n) == -1);
	CHECK(cd_base64_decode("YWJjZ", 5, &d, &n) == -1);
	CHECK(cd_base64_decode("", 0, &d, &n) == 0 && n == 0);
	free(d);
}

static int authfile(const char *text, const char *host, struct cd_creds *c)
{
	return cd_authfile_parse(text, strlen(text), "auth.json", host, c);
}

static void test_authfile(void)
{
	struct cd_creds c;
	/* "bob:se:cret" base64; the password may hold ':' */
	const char *doc = "{\"auths\":{"
		"\"quay.io\":{\"auth\":\"Ym9iOnNlOmNyZXQ=\"},"
		"\"https://index.docker.io/v1/\":{\"auth\":\"ZDpw\"},"
		"\"127.0.0.1:5000\":{\"username\":\"u\",\"password\":\"p\"},"
		"\"quay.io/org\":{\"auth\":\"b3JnOng=\"},"
		"\"http://reg.example:8443/v2/\":{\"auth\":\"dXJsOng=\"}"
		"}}";
	CHECK(authfile(doc, "quay.io", &c) == 1);
	CHECK_STR(c.user, "bob");
	CHECK_STR(c.pass, "se:cret");
	cd_creds_release(&c);
	CHECK(c.user == NULL && c.pass == NULL);
	CHECK(authfile(doc, "docker.io", &c) == 1);
	CHECK_STR(c.user, "d");
	cd_creds_release(&c);
	CHECK(authfile(doc, "127.0.0.1:5000", &c) == 1);
	CHECK_STR(c.user, "u");
	CHECK_STR(c.pass, "p");
	cd_creds_release(&c);
	CHECK(authfile(doc, "reg.example:8443", &c) == 1);
	CHECK_STR(c.user, "url");
	cd_creds_release(&c);
	CHECK(authfile(doc, "127.0.0.1:5001", &c) == 0);
	CHECK(authfile(doc, "reg.example", &c) == 0);
	CHECK(authfile("{}", "quay.io", &c) == 0);
	CHECK(authfile("{\"auths\":{}}", "quay.io", &c) == 0);

	/* Hostile or broken files: errors that never show the secret. */
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"auth\":\"c2VjcmV0LXdpdGhvdXQtY29sb24=\"}}}", "quay.io", &c) == -1);
	CHECK(strstr(cd_errmsg(), "c2VjcmV0") == NULL && strstr(cd_errmsg(), "secret") == NULL);
	CHECK_STR(cd_errmsg(), "auth.json: malformed \"auth\" entry for 'quay.io'");
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"auth\":\"%%%%\"}}}", "quay.io", &c) == -1);
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"auth\":\"OnB3\"}}}", "quay.io", &c) == -1); /* ":pw" empty user */
	CHECK(authfile("{\"auths\":[1,2]}", "quay.io", &c) == -1);
	CHECK(authfile("[]", "quay.io", &c) == -1);
	CHECK(authfile("{\"auths\":", "quay.io", &c) == -1);
	CHECK_STR(cd_errmsg(), "auth.json: not valid JSON");
	CHECK(authfile("{\"auths\":{\"quay.io\":\"str\"}}", "quay.io", &c) == 0);
	/* docker's identity tokens: the token, with the entry's user when it has one */
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"identitytoken\":\"x\"}}}", "quay.io", &c) == 1);
	CHECK(c.user == NULL && c.pass == NULL && c.token && !strcmp(c.token, "x") && cd_creds_any(&c));
	cd_creds_release(&c);
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"auth\":\"Ym9iOg==\",\"identitytoken\":\"t\"}}}", "quay.io", &c) == 1);
	CHECK_STR(c.user, "bob");
	CHECK(c.pass == NULL);
	CHECK_STR(c.token, "t");
	cd_creds_release(&c);
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"identitytoken\":\"\"}}}", "quay.io", &c) == 0);
	/* an identity token holding a NUL: refused, not cut to "" (fuzz-auth found it) */
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"auth\":\"Ym9iOg==\",\"identitytoken\":\"\\u0000tok\"}}}", "quay.io", &c) == -1);
	CHECK_STR(cd_errmsg(), "auth.json: malformed \"identitytoken\" entry for 'quay.io'");
	CHECK(c.user == NULL && c.pass == NULL && c.token == NULL);
	/* "auth" holding a NUL byte ("a\0:b") */
	CHECK(authfile("{\"auths\":{\"quay.io\":{\"auth\":\"YQA6Yg==\"}}}", "quay.io", &c) == -1);

	CHECK(cd_creds_parse(&c, "nocolon") == -1);
	CHECK(cd_creds_parse(&c, ":pw") == -1);
	CHECK(cd_creds_parse(&c, "u:") == 0);
	CHECK_STR(c.pass, "");
	cd_creds_release(&c);
}

static int helper_find(const char *text, const char *host, char **name, enum cd_credhelper_kind *kind)
{
	return cd_credhelper_find(text, strlen(text), "config.json", host, name, kind);
}

static void test_credhelper(void)
{
	struct cd_creds c;
	char *name;
	enum cd_credhelper_kind kind;
	const char *doc = "{\"credsStore\":\"desktop\",\"credHelpers\":{\"quay.io\":\"quay\",\"https://r.example:5000/v1/\":\"r\"}}";
	CHECK(helper_find(doc, "quay.io", &name, &kind) == 1 && kind == CD_CREDHELPER_HOST);
	CHECK_STR(name, "quay");
	free(name);
	CHECK(helper_find(doc, "r.example:5000", &name, &kind) == 1 && kind == CD_CREDHELPER_HOST);
	CHECK_STR(name, "r");
	free(name);
	CHECK(helper_find(doc, "other.example", &name, &kind) == 1 && kind == CD_CREDHELPER_STORE);
	CHECK_STR(name, "desktop");
	free(name);
	CHECK(helper_find("{\"credsStore\":\"\"}", "quay.io", &name, &kind) == 0 && !name);
	CHECK(helper_find("{\"auths\":{}}", "quay.io", &name, &kind) == 0);
	CHECK(helper_find("not json", "quay.io", &name, &kind) == 0);
	CHECK(helper_find("{\"credsStore\":\"../x\"}", "quay.io", &name, &kind) == -1);
	CHECK_STR(cd_errmsg(), "config.json: credsStore does not name a credential helper");
	CHECK(helper_find("{\"credsStore\":\".x\"}", "quay.io", &name, &kind) == -1);
	CHECK(helper_find("{\"credsStore\":7}", "quay.io", &name, &kind) == -1);
	CHECK(helper_find("{\"credHelpers\":{\"quay.io\":\"a/b\"}}", "quay.io", &name, &kind) == -1);
	CHECK(helper_find("{\"credHelpers\":[]}", "quay.io", &name, &kind) == -1);

#define ANSWER(s) cd_credhelper_answer(s, strlen(s), &c)
	CHECK(ANSWER("{\"ServerURL\":\"quay.io\",\"Username\":\"bob\",\"Secret\":\"pw\"}") == 1);
	CHECK_STR(c.user, "bob");
	CHECK_STR(c.pass, "pw");
	CHECK(c.token == NULL);
	cd_creds_release(&c);
	CHECK(ANSWER("{\"Username\":\"<token>\",\"Secret\":\"refresh\"}") == 1);
	CHECK(c.user == NULL && c.pass == NULL);
	CHECK_STR(c.token, "refresh");
	cd_creds_release(&c);
	CHECK(ANSWER("{\"Username\":\"bob\",\"Secret\":\"\"}") == -1);
	CHECK(ANSWER("{\"Username\":\"\",\"Secret\":\"s3cr3t\"}") == -1);
	CHECK(strstr(cd_errmsg(), "s3cr3t") == NULL);
	CHECK(ANSWER("{\"Secret\":\"s3cr3t\"}") == -1);
	CHECK(ANSWER("[\"s3cr3t\"]") == -1);
	CHECK(ANSWER("credentials not found in native keychain") == -1);
#undef ANSWER
}

static void test_creds_lookup(void)
{
	char dir[] = "/tmp/cdkit-unit-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *docker = cd_xasprintf("%s/.docker", dir), *cfg = cd_xasprintf("%s/.docker/config.json", dir);
	char *xdg = cd_xasprintf("%s/run", dir), *xdgc = cd_xasprintf("%s/run/containers", dir);
	char *xdgf = cd_xasprintf("%s/run/containers/auth.json", dir), *env = cd_xasprintf("%s/env.json", dir);
	CHECK(mkdir(docker, 0700) == 0 && mkdir(xdg, 0700) == 0 && mkdir(xdgc, 0700) == 0);
	FILE *f = fopen(cfg, "w");
	fputs("{\"auths\":{\"r.example\":{\"auth\":\"ZG9ja2VyOng=\"},\"d.example\":{\"auth\":\"ZDp4\"}}}", f); /* docker:x, d:x */
	fclose(f);
	f = fopen(xdgf, "w");
	fputs("{\"auths\":{\"r.example\":{\"auth\":\"eGRnOng=\"}}}", f); /* xdg:x */
	fclose(f);
	f = fopen(env, "w");
	fputs("{\"auths\":{\"r.example\":{\"auth\":\"ZW52Ong=\"}}}", f); /* env:x */
	fclose(f);
	setenv("HOME", dir, 1);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	unsetenv("REGISTRY_AUTH_FILE");

	struct cd_creds c;
	CHECK(cd_creds_lookup(&c, "r.example", "cli:pw", env) == 1);
	CHECK_STR(c.user, "cli");
	cd_creds_release(&c);
	CHECK(cd_creds_lookup(&c, "r.example", NULL, env) == 1);
	CHECK_STR(c.user, "env");
	cd_creds_release(&c);
	setenv("REGISTRY_AUTH_FILE", env, 1);
	CHECK(cd_creds_lookup(&c, "r.example", NULL, NULL) == 1);
	CHECK_STR(c.user, "env");
	cd_creds_release(&c);
	unsetenv("REGISTRY_AUTH_FILE");
	CHECK(cd_creds_lookup(&c, "r.example", NULL, NULL) == 1);
	CHECK_STR(c.user, "xdg");
	cd_creds_release(&c);
	CHECK(cd_creds_lookup(&c, "d.example", NULL, NULL) == 1); /* not in xdg: docker's */
	CHECK_STR(c.user, "d");
	cd_creds_release(&c);
	CHECK(cd_creds_lookup(&c, "none.example", NULL, NULL) == 0);
	char *missing = cd_xasprintf("%s/missing.json", dir);
	CHECK(cd_creds_lookup(&c, "r.example", NULL, missing) == -1);
	setenv("REGISTRY_AUTH_FILE", missing, 1);
	CHECK(cd_creds_lookup(&c, "r.example", NULL, NULL) == -1);
	unsetenv("REGISTRY_AUTH_FILE");

	unlink(cfg);
	unlink(xdgf);
	unlink(env);
	rmdir(xdgc);
	rmdir(xdg);
	rmdir(docker);
	rmdir(dir);
	free(docker);
	free(cfg);
	free(xdg);
	free(xdgc);
	free(xdgf);
	free(env);
	free(missing);
}

static void check_link(const char *link, const char *base, const char *want)
{
	char *next = NULL;
	int r = cd_registry_link_next(link, base, &next);
	if (want) {
		CHECK(r == 1);
		CHECK_STR(next, want);
	} else {
		CHECK(r == 0);
		CHECK(next == NULL);
	}
	free(next);
}

static void test_link(void)
{
	const char *base = "https://r.example:5000/v2/a/tags/list?n=2";
	check_link("</v2/a/tags/list?n=2&last=b>; rel=\"next\"", base, "https://r.example:5000/v2/a/tags/list?n=2&last=b");
	check_link("<https://other.example/v2/a/tags/list?last=b>; rel=next", base, "https://other.example/v2/a/tags/list?last=b");
	check_link("<list?last=c>; rel=\"next\"", base, "https://r.example:5000/v2/a/tags/list?last=c");
	check_link("</x>; rel=\"prev\", </y>; title=\"t;,\"; rel=\"last next\"", base, "https://r.example:5000/y");
	check_link("</x>; rel=\"prev\"", base, NULL);
	check_link("", base, NULL);
	check_link("  ,  ", base, NULL);

	char *next = NULL;
	CHECK(cd_registry_link_next("/v2/x; rel=next", base, &next) == -1);
	CHECK(cd_registry_link_next("</v2/x; rel=next", base, &next) == -1);
	CHECK(cd_registry_link_next("</v2/x>; rel=\"next", base, &next) == -1);
	CHECK(cd_registry_link_next("<>; rel=next", base, &next) == -1);
	CHECK(cd_registry_link_next("</v2/ x>; rel=next", base, &next) == -1);
	CHECK(cd_registry_link_next("</v2/x> junk; rel=next", base, &next) == -1);
	CHECK(cd_registry_link_next("</v2/x>; rel=next", "not-a-url", &next) == -1);
	CHECK(next == NULL);
	struct cd_buf b;
	cd_buf_init(&b, 0);
	cd_buf_puts(&b, "</");
	for (int i = 0; i < 10000; i++)
		cd_buf_puts(&b, "x");
	cd_buf_puts(&b, ">; rel=next");
	CHECK(cd_registry_link_next(b.p, base, &next) == -1);
	cd_buf_release(&b);
}

static void test_error_body(void)
{
	char msg[256];
	const char *b = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"41\"}}]}";
	CHECK(cd_registry_error_body(b, strlen(b), msg, sizeof(msg)) == CD_ERR_NOT_FOUND);
	CHECK_STR(msg, "manifest unknown (MANIFEST_UNKNOWN)");
	b = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}";
	CHECK(cd_registry_error_body(b, strlen(b), msg, sizeof(msg)) == CD_ERR_NOT_FOUND);
	b = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"},{\"code\":\"UNAUTHORIZED\"}]}";
	CHECK(cd_registry_error_body(b, strlen(b), msg, sizeof(msg)) == CD_ERR_AUTH);
	CHECK_STR(msg, "requested access to the resource is denied (DENIED); UNAUTHORIZED");
	b = "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}";
	CHECK(cd_registry_error_body(b, strlen(b), msg, sizeof(msg)) == CD_ERR_TOO_MANY);
	b = "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"Tag 41 was deleted or has expired. To pull, revive via time machine\"}]}";
	CHECK(cd_registry_error_body(b, strlen(b), msg, sizeof(msg)) == CD_ERR_NOT_FOUND);
	b = "{\"errors\":[{\"code\":\"BLOB_UPLOAD_INVALID\",\"message\":\"x\\u0007y\\nz\"}]}";
	CHECK(cd_registry_error_body(b, strlen(b), msg, sizeof(msg)) == CD_ERR_OTHER);
	CHECK_STR(msg, "x?y?z (BLOB_UPLOAD_INVALID)"); /* control characters never reach a terminal */
	CHECK(cd_registry_error_body("<html>502</html>", 16, msg, sizeof(msg)) == -1);
	CHECK_STR(msg, "");
	CHECK(cd_registry_error_body("{\"errors\":[]}", 13, msg, sizeof(msg)) == -1);
	CHECK(cd_registry_error_body("{\"errors\":\"x\"}", 14, msg, sizeof(msg)) == -1);
	CHECK(cd_registry_error_body(NULL, 0, msg, sizeof(msg)) == -1);
	/* A long message is cut. */
	struct cd_buf big;
	cd_buf_init(&big, 0);
	cd_buf_puts(&big, "{\"errors\":[{\"code\":\"X\",\"message\":\"");
	for (int i = 0; i < 3000; i++)
		cd_buf_puts(&big, "m");
	cd_buf_puts(&big, "\"}]}");
	CHECK(cd_registry_error_body(big.p, big.len, msg, sizeof(msg)) == CD_ERR_OTHER);
	CHECK(strlen(msg) < sizeof(msg));
	cd_buf_release(&big);
}

static void test_manifests(void)
{
	const char *list = "{\"schemaVersion\":2,\"mediaType\":\"" CD_MT_DOCKER_LIST "\",\"manifests\":["
		"{\"mediaType\":\"" CD_MT_DOCKER_MANIFEST "\",\"size\":10,\"digest\":\"" D256 "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" CD_MT_DOCKER_MANIFEST "\",\"size\":11,\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
		"{\"mediaType\":\"" CD_MT_DOCKER_MANIFEST "\",\"size\":12,\"digest\":\"sha256:2222222222222222222222222222222222222222222222222222222222222222\",\"platform\":{\"architecture\":\"s390x\",\"os\":\"windows\"}}"
		"]}";
	struct cd_descriptor d;
	CHECK(cd_manifest_index_find(list, strlen(list), "amd64", &d) == 1);
	CHECK_STR(d.digest, D256);
	CHECK(d.size == 10);
	CHECK_STR(d.media_type, CD_MT_DOCKER_MANIFEST);
	CHECK(cd_manifest_index_find(list, strlen(list), "arm64", &d) == 1);
	CHECK(d.size == 11);
	CHECK(cd_manifest_index_find(list, strlen(list), "s390x", &d) == 0); /* not linux */
	CHECK(cd_manifest_index_find(list, strlen(list), "riscv64", &d) == 0);
	const char *bad = "{\"manifests\":[{\"digest\":\"sha256:xyz\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
	CHECK(cd_manifest_index_find(bad, strlen(bad), "amd64", &d) == -1);
	CHECK(cd_manifest_index_find("{}", 2, "amd64", &d) == -1);
	CHECK(cd_manifest_index_find("nope", 4, "amd64", &d) == -1);
	const char *odd = "{\"manifests\":[1,\"x\",{\"platform\":7},{\"digest\":\"" D256 "\",\"platform\":{\"architecture\":\"amd64\"}}]}";
	CHECK(cd_manifest_index_find(odd, strlen(odd), "amd64", &d) == 1);

	const char *man = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" CD_MT_DOCKER_CONFIG "\",\"size\":5,\"digest\":\"" D256 "\"},\"layers\":[]}";
	CHECK(cd_manifest_config(man, strlen(man), &d) == 0);
	CHECK_STR(d.digest, D256);
	CHECK(d.size == 5);
	CHECK(cd_manifest_config("{\"config\":{}}", 13, &d) == -1);
	/* Sizes from outside: whole numbers in range, nothing a cast would make undefined. */
	static const char *bad_sizes[] = { "-1", "1e308", "-1e400", "1e400", "nan", "0.5", "\"5\"", "null",
					   "1125899906842625" };
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(*bad_sizes); i++) {
		char b[512];
		snprintf(b, sizeof(b), "{\"config\":{\"size\":%s,\"digest\":\"" D256 "\"}}", bad_sizes[i]);
		CHECK(cd_manifest_config(b, strlen(b), &d) == -1);
	}
	const char *big = "{\"config\":{\"size\":1125899906842624,\"digest\":\"" D256 "\"}}";
	CHECK(cd_manifest_config(big, strlen(big), &d) == 0 && d.size == CD_SIZE_MAX);
	const char *nosize = "{\"config\":{\"digest\":\"" D256 "\"}}";
	CHECK(cd_manifest_config(nosize, strlen(nosize), &d) == 0 && d.size == -1);
	CHECK(cd_manifest_config("[]", 2, &d) == -1);
	CHECK(cd_manifest_is_index(CD_MT_OCI_INDEX) && cd_manifest_is_index(CD_MT_DOCKER_LIST));
	CHECK(!cd_manifest_is_index(CD_MT_OCI_MANIFEST));
}

static void check_diff(const char *in, int force, const char *action, const char *reason, const char *changed)
{
	struct cd_diff_opts o = { force & 1, (force & 2) != 0 };
	jv out = cd_diff_record(jv_parse(in), &o);
	CHECK_STR(cd_jv_str(out, "action"), action);
	CHECK_STR(cd_jv_str(out, "reason"), reason);
	jv c = jv_dump_string(jv_object_get(jv_copy(out), jv_string("changed")), 0);
	CHECK_STR(jv_string_value(c), changed);
	jv_free(c);
	jv_free(out);
}

static void test_diff(void)
{
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],\"published\":{\"amd64\":{\"shasum\":\"ab\"}}}",
		   0, "skip", "up to date", "[]");
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],\"published\":{\"amd64\":{\"shasum\":\"ab\"}}}",
		   1, "build", "forced (up to date)", "[]");
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"},{\"arch\":\"arm64\",\"checksum\":\"cd\"}],"
		   "\"published\":{\"amd64\":{\"shasum\":\"ab\"},\"arm64\":{\"shasum\":\"ce\"}}}",
		   0, "build", "arm64 checksum changed", "[\"arm64\"]");
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"\"}],\"published\":{\"amd64\":{\"shasum\":\"ab\"}}}",
		   0, "build", "amd64 has no upstream checksum nor HTTP validators", "[\"amd64\"]");
	/* no checksum: the HTTP validators decide (issue 12.1) */
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"http\":{\"etag\":\"\\\"a\\\"\",\"length\":5}}],"
		   "\"published\":{\"amd64\":{\"shasum\":\"ab\",\"http\":{\"length\":5,\"etag\":\"\\\"a\\\"\"}}}}",
		   0, "skip", "up to date", "[]");
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"http\":{\"etag\":\"\\\"b\\\"\",\"length\":5}}],"
		   "\"published\":{\"amd64\":{\"shasum\":\"ab\",\"http\":{\"length\":5,\"etag\":\"\\\"a\\\"\"}}}}",
		   0, "build", "amd64 upstream file changed (HTTP validators differ)", "[\"amd64\"]");
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"http\":{\"length\":5}}],\"published\":{\"amd64\":{\"shasum\":\"ab\"}}}",
		   0, "build", "amd64 has no upstream checksum and its image no HTTP validators label", "[\"amd64\"]");
	/* an arch upstream no longer lists is carried, or goes with --allow-arch-removal (issue 12.3) */
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],"
		   "\"published\":{\"amd64\":{\"shasum\":\"ab\"},\"s390x\":{\"shasum\":\"cd\"}}}",
		   0, "skip", "up to date", "[]");
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],"
		   "\"published\":{\"amd64\":{\"shasum\":\"ab\"},\"s390x\":{\"shasum\":\"cd\"}}}",
		   2, "build", "s390x no longer listed upstream: dropped (--allow-arch-removal)", "[\"amd64\"]");
	{
		struct cd_diff_opts o = { 0, 0 };
		jv c = cd_diff_record(jv_parse("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],"
					      "\"published\":{\"amd64\":{\"shasum\":\"ab\"},\"s390x\":{\"shasum\":\"cd\"}}}"), &o);
		jv d = jv_dump_string(jv_object_get(jv_copy(c), jv_string("carried")), JV_PRINT_SORTED);
		CHECK_STR(jv_string_value(d), "[{\"arch\":\"s390x\",\"reason\":\"upstream no longer lists it\"}]");
		CHECK(cd_diff_carried(c) == 1);
		jv_free(d);
		jv_free(c);
		/* one cd-discover carried already is left alone */
		c = cd_diff_record(jv_parse("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],"
					   "\"carried\":[{\"arch\":\"arm64\",\"reason\":\"HTTP 404\"}],"
					   "\"published\":{\"amd64\":{\"shasum\":\"ab\"},\"arm64\":{\"shasum\":\"cd\"}}}"), &o);
		CHECK(cd_diff_carried(c) == 1);
		CHECK_STR(cd_jv_str(c, "action"), "skip");
		jv_free(c);
	}
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],\"published\":{}}",
		   0, "build", "not published", "[\"amd64\"]");
	check_diff("{\"artifacts\":[{\"arch\":\"amd64\",\"checksum\":\"sha256:ab\"}],\"published\":{\"amd64\":7}}",
		   0, "build", "amd64 not published", "[\"amd64\"]");
	struct cd_diff_opts none = { 0, 0 };
	jv out = cd_diff_record(jv_parse("{\"artifacts\":[{\"checksum\":\"x\"}],\"published\":{}}"), &none);
	CHECK(cd_record_has_error(out));
	jv_free(out);
	out = cd_diff_record(jv_parse("{\"artifacts\":\"x\",\"published\":{}}"), &none);
	CHECK(cd_record_has_error(out));
	jv_free(out);
}

int main(int argc, char **argv)
{
	cd_msg_init(argv[0]);
	test_ref();
	test_challenge();
	test_base64();
	test_authfile();
	test_credhelper();
	test_creds_lookup();
	test_link();
	test_error_body();
	test_manifests();
	test_diff();
	return unit_done("test-registry");
}
