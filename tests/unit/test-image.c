/* Unit tests for image.c: the exact config/manifest/index bytes, and layout commit/abort. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/msg.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/layout.h"
#include "unit.h"
#include "core/banned.h"

static char *slurp(const char *dir, const char *name)
{
	char *p = cd_xasprintf("%s/%s", dir, name), *s = NULL;
	FILE *f = fopen(p, "r");
	free(p);
	if (!f)
		return cd_xstrdup("(missing)");
	size_t n = 0;
	if (getdelim(&s, &n, '\0', f) < 0) {
		free(s);
		s = cd_xstrdup("(empty)");
	}
	fclose(f);
	return s;
}

static char *blob(const char *dir, const char *digest)
{
	char *name = cd_xasprintf("blobs/sha256/%s", digest + 7);
	char *s = slurp(dir, name);
	free(name);
	return s;
}

#define SHASUM "cf51fab7d9028e63317d3d55df52effcaf5104833c9521b38af4825e07bfb6bd"

static void fake_layer(struct cd_image_arch *a, const char *arch)
{
	memset(a, 0, sizeof(*a));
	a->arch = arch;
	a->shasum = SHASUM;
	snprintf(a->layer.digest, sizeof(a->layer.digest), "sha256:%064d", 1);
	snprintf(a->layer.diff_id, sizeof(a->layer.diff_id), "sha256:%064d", 2);
	a->layer.size = 1234;
}

static void test_single(const char *out)
{
	struct cd_layout l;
	struct cd_image_opts o = { .oci = 0, .comp = CD_COMP_GZIP, .created = -1 };
	struct cd_image_arch a;
	char digest[CD_DIGEST_MAX];
	jv env = JV_OBJECT(jv_string("B"), jv_string("2"), jv_string("A"), jv_string("x=y"));
	CHECK(cd_layout_begin(&l, out, "one", "41") == 0);
	fake_layer(&a, "amd64");
	CHECK(cd_image_add_arch(&l, &o, env, &a) == 0);
	CHECK(cd_image_finish(&l, &o, &a, 1, 0, "41", digest) == 0);
	CHECK(cd_layout_commit(&l) == 0);
	CHECK_STR(digest, a.manifest);
	char *dir = cd_xasprintf("%s/one/41", out);
	char *m = blob(dir, a.manifest);
	const char *cfg = strstr(m, "\"digest\":\"sha256:");
	char cdig[CD_DIGEST_MAX] = "";
	if (cfg)
		snprintf(cdig, sizeof(cdig), "%.71s", cfg + 10);
	char *c = blob(dir, cdig);
	CHECK_STR(c, "{\"architecture\":\"amd64\",\"config\":{\"Entrypoint\":[\"no-entrypoint\"],\"Env\":[\"A=x=y\",\"B=2\"],"
		     "\"Labels\":{\"shasum\":\"cf51fab7d9028e63317d3d55df52effcaf5104833c9521b38af4825e07bfb6bd\"}},"
		     "\"history\":[{}],\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[\"sha256:"
		     "0000000000000000000000000000000000000000000000000000000000000002\"],\"type\":\"layers\"}}");
	CHECK(strstr(m, "\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"") != NULL);
	CHECK(strstr(m, "{\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000001\","
			"\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":1234}") != NULL);
	char *idx = slurp(dir, "index.json");
	CHECK(strstr(idx, "\"annotations\":{\"org.opencontainers.image.ref.name\":\"41\"}") != NULL);
	CHECK(strstr(idx, "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}") != NULL);
	char *lay = slurp(dir, "oci-layout");
	CHECK_STR(lay, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(lay);
	free(idx);
	free(c);
	free(m);
	free(dir);
	cd_layout_release(&l);
	jv_free(env);
}

static void test_list_and_replace(const char *out)
{
	struct cd_layout l;
	struct cd_image_opts o = { .oci = 1, .comp = CD_COMP_ZSTD, .created = 1700000000, .annotate = 1 };
	struct cd_image_arch a[2];
	char digest[CD_DIGEST_MAX];
	/* A second build of "one" replaces the first one whole. */
	CHECK(cd_layout_begin(&l, out, "one", "41") == 0);
	fake_layer(&a[0], "amd64");
	fake_layer(&a[1], "arm64");
	a[1].http = "{\"etag\":\"\\\"x\\\"\"}";
	CHECK(cd_image_add_arch(&l, &o, jv_null(), &a[0]) == 0);
	CHECK(cd_image_add_arch(&l, &o, jv_null(), &a[1]) == 0);
	CHECK(cd_image_finish(&l, &o, a, 2, 1, "41", digest) == 0);
	CHECK(cd_layout_commit(&l) == 0);
	char *dir = cd_xasprintf("%s/one/41", out);
	char *top = blob(dir, digest);
	CHECK(strstr(top, "\"mediaType\":\"application/vnd.oci.image.index.v1+json\"") != NULL);
	CHECK(strstr(top, "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}") != NULL);
	/* cdkit's annotations on each descriptor and manifest (oci.h), the validators label in the config */
	CHECK(strstr(top, "\"annotations\":{\"cdkit.arch\":\"amd64\",\"cdkit.shasum\":\"" SHASUM "\"}") != NULL);
	CHECK(strstr(top, "\"cdkit.arch\":\"arm64\",\"cdkit.shasum\":\"" SHASUM "\",\"cdkit.upstream.http\":\"{\\\"etag\\\"") != NULL);
	char *m = blob(dir, a[1].manifest);
	CHECK(strstr(m, "application/vnd.oci.image.layer.v1.tar+zstd") != NULL);
	CHECK(strstr(m, "\"annotations\":{\"cdkit.arch\":\"arm64\"") != NULL);
	free(m);
	free(top);
	free(dir);
	cd_layout_release(&l);

	/* An aborted layout leaves nothing behind. */
	CHECK(cd_layout_begin(&l, out, "two", "1") == 0);
	cd_layout_abort(&l);
	char *two = cd_xasprintf("%s/two", out);
	struct stat st;
	CHECK(stat(two, &st) < 0);
	free(two);
	/* Nothing but "one" in the output: no temporary or replaced folder left. */
	DIR *d = opendir(out);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			n++;
			CHECK_STR(e->d_name, "one");
		}
	if (d)
		closedir(d);
	CHECK(n == 1);
	cd_layout_release(&l);
}

/* a-b:1 and a:b-1 get folders of their own; names that are not one folder are refused. */
static void test_names(const char *out)
{
	static const char *nv[][2] = { { "a-b", "1" }, { "a", "b-1" } };
	struct cd_image_opts o = { .comp = CD_COMP_GZIP, .created = -1 };
	struct cd_layout l;
	for (int i = 0; i < 2; i++) {
		struct cd_image_arch a;
		char digest[CD_DIGEST_MAX];
		CHECK(cd_layout_begin(&l, out, nv[i][0], nv[i][1]) == 0);
		fake_layer(&a, i ? "arm64" : "amd64");
		CHECK(cd_image_add_arch(&l, &o, jv_null(), &a) == 0);
		CHECK(cd_image_finish(&l, &o, &a, 1, 0, nv[i][1], digest) == 0);
		CHECK(cd_layout_commit(&l) == 0);
		cd_layout_release(&l);
	}
	char *ab = cd_xasprintf("%s/a-b/1", out), *a = cd_xasprintf("%s/a/b-1", out);
	char *i1 = slurp(ab, "index.json"), *i2 = slurp(a, "index.json");
	CHECK(strstr(i1, "amd64") && strstr(i2, "arm64"));
	free(i1);
	free(i2);
	free(ab);
	free(a);
	const char *bad[][2] = { { "..", "1" }, { "a", ".." }, { "a/b", "1" }, { "a", "" }, { ".x", "1" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK(cd_layout_begin(&l, out, bad[i][0], bad[i][1]) == -1);
		CHECK(strstr(cd_errmsg(), "cannot name a folder") != NULL);
		cd_layout_release(&l);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/cd-test-image.XXXXXX";
	cd_msg_init("test-image");
	if (!mkdtemp(tmpl))
		return 1;
	test_single(tmpl);
	test_list_and_replace(tmpl);
	test_names(tmpl);
	char *cmd = cd_xasprintf("rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		unit_fail++;
	free(cmd);
	return unit_done("test-image");
}
