/*
 * The registry client's write side, against a real registry:
 *
 *   CD_TEST_REGISTRY=127.0.0.1:PORT [CD_TEST_CREDS=user:pass] test-regwrite
 *
 * Without CD_TEST_REGISTRY it checks nothing and says so (make unit runs it
 * bare); tests/registry-client.bats runs it against the real registry, plain
 * and with token auth.  Round trip: monolithic and chunked (resumed) blob
 * uploads, cross-repository mount, manifest PUT by digest and by tag, GET,
 * HEAD, tag list, streamed blob read, image lookup, DELETE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/msg.h"
#include "core/oci.h"
#include "net/http.h"
#include "registry/blob.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/platform.h"
#include "registry/tags.h"
#include "registry/upload.h"
#include "unit.h"
#include "core/banned.h"

#define BLOB_SIZE (300 * 1024)

/* A step the rest depends on: stop this part of the test when it fails. */
#define REQUIRE(cond) do { int ok_ = (cond); CHECK(ok_); if (!ok_) { fprintf(stderr, "error: %s\n", cd_errmsg()); return; } } while (0)

static struct cd_registry *reg;
static char repo_a[64], repo_b[64];

/* A temporary file holding n pseudo-random bytes; its digest in dg. */
static int make_blob(size_t n, unsigned seed, char dg[CD_DIGEST_MAX])
{
	char path[] = "/tmp/cdkit-regwrite-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	unsigned char *p = malloc(n);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	CHECK(write(fd, p, n) == (ssize_t)n);
	cd_sha256_digest(p, n, dg);
	free(p);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

struct sink {
	struct cd_hasher h;
	long long n;
};

static size_t sink(const char *p, size_t n, void *ctx)
{
	struct sink *s = ctx;
	cd_hasher_update(&s->h, p, n);
	s->n += (long long)n;
	return n;
}

static void test_blobs(char dg1[CD_DIGEST_MAX], char dg2[CD_DIGEST_MAX])
{
	struct cd_blob_source src;
	long long size = 0;
	int fd = make_blob(BLOB_SIZE, 1, dg1);

	CHECK(cd_registry_blob_exists(reg, repo_a, dg1, NULL) == 0);
	cd_blob_source_fd(&src, fd, BLOB_SIZE);
	REQUIRE(cd_registry_blob_upload(reg, repo_a, dg1, &src) == 0);
	CHECK(cd_registry_blob_exists(reg, repo_a, dg1, &size) == 1);
	CHECK(size == BLOB_SIZE);
	close(fd);

	/* Chunked, with a resume in the middle from the session's Location. */
	struct cd_upload up, up2;
	fd = make_blob(BLOB_SIZE, 2, dg2);
	cd_blob_source_fd(&src, fd, BLOB_SIZE);
	REQUIRE(cd_registry_upload_start(reg, repo_a, &up) == 0);
	CHECK(up.offset == 0);
	CHECK(cd_registry_upload_chunk(&up, &src, 100000) == 0);
	CHECK(up.offset == 100000);
	REQUIRE(cd_registry_upload_resume(reg, repo_a, up.location, &up2) == 0);
	CHECK(up2.offset == 100000);
	CHECK(src.seek(src.ctx, up2.offset) == 0);
	CHECK(cd_registry_upload_chunk(&up2, &src, BLOB_SIZE - up2.offset) == 0);
	CHECK(up2.offset == BLOB_SIZE);
	CHECK(cd_registry_upload_finish(&up2, dg2, NULL) == 0);
	CHECK(cd_registry_blob_exists(reg, repo_a, dg2, &size) == 1 && size == BLOB_SIZE);
	cd_upload_release(&up);
	cd_upload_release(&up2);

	/* A wrong digest is refused by the registry at the final PUT. */
	char zero[CD_DIGEST_MAX];
	cd_sha256_digest("", 0, zero);
	CHECK(src.seek(src.ctx, 0) == 0);
	CHECK(cd_registry_blob_upload(reg, repo_a, zero, &src) == -1);
	CHECK(cd_errkind() == CD_ERR_OTHER);
	CHECK(strstr(cd_errmsg(), "DIGEST_INVALID") != NULL);
	close(fd);

	/* Mount into another repository: 201; of an unknown blob: 202 and a session. */
	CHECK(cd_registry_blob_mount(reg, repo_b, dg1, repo_a, &up) == 1);
	CHECK(cd_registry_blob_exists(reg, repo_b, dg1, NULL) == 1);
	REQUIRE(cd_registry_blob_mount(reg, repo_b, zero, repo_a, &up) == 0);
	CHECK(up.location != NULL);
	REQUIRE(cd_registry_upload_cancel(&up) == 0);
	cd_upload_release(&up);

	/* Streamed read, checked. */
	struct sink s = { .n = 0 };
	char hex[CD_HEX_MAX];
	cd_hasher_init(&s.h, CD_HASH_SHA256);
	CHECK(cd_registry_blob_get(reg, repo_b, dg1, sink, &s) == 0);
	cd_hasher_final_hex(&s.h, hex);
	cd_hasher_release(&s.h);
	CHECK(s.n == BLOB_SIZE && !strcmp(hex, dg1 + 7));
	CHECK(cd_registry_blob_get(reg, repo_b, dg2, sink, &s) == -1);
	CHECK(cd_errkind() == CD_ERR_NOT_FOUND);
}

static void test_manifests(const char *dg1)
{
	const char *cfg = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"shasum\":\"abc\"}},"
			  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	char cdg[CD_DIGEST_MAX], mdg[CD_DIGEST_MAX], out[CD_DIGEST_MAX];
	cd_sha256_digest(cfg, strlen(cfg), cdg);
	char path[] = "/tmp/cdkit-regwrite-cfg-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	CHECK(write(fd, cfg, strlen(cfg)) == (ssize_t)strlen(cfg));
	lseek(fd, 0, SEEK_SET);
	struct cd_blob_source src;
	cd_blob_source_fd(&src, fd, (long long)strlen(cfg));
	int up = cd_registry_blob_upload(reg, repo_b, cdg, &src);
	close(fd);
	REQUIRE(up == 0);

	char *man = cd_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"},"
				 "\"layers\":[{\"mediaType\":\"%s\",\"size\":%d,\"digest\":\"%s\"}]}",
				 CD_MT_DOCKER_MANIFEST, CD_MT_DOCKER_CONFIG, strlen(cfg), cdg, CD_MT_DOCKER_LAYER, BLOB_SIZE, dg1);
	cd_sha256_digest(man, strlen(man), mdg);
	CHECK(cd_registry_manifest_put(reg, repo_b, NULL, CD_MT_DOCKER_MANIFEST, man, strlen(man), out) == 0);
	CHECK_STR(out, mdg);
	CHECK(cd_registry_manifest_put(reg, repo_b, "v1", CD_MT_DOCKER_MANIFEST, man, strlen(man), out) == 0);
	CHECK(cd_registry_manifest_put(reg, repo_b, "v2", CD_MT_DOCKER_MANIFEST, man, strlen(man), NULL) == 0);

	struct cd_manifest m;
	CHECK(cd_registry_manifest_get(reg, repo_b, "v1", &m) == 0);
	CHECK_STR(m.digest, mdg);
	CHECK_STR(m.media_type, CD_MT_DOCKER_MANIFEST);
	CHECK(m.len == strlen(man) && !memcmp(m.body, man, m.len));

	struct cd_descriptor d;
	CHECK(cd_registry_manifest_head(reg, repo_b, "v2", &d) == 0);
	CHECK_STR(d.digest, mdg);
	CHECK(d.size == (long long)strlen(man));

	struct cd_image img;
	CHECK(cd_registry_image_for_arch(reg, repo_b, &m, "arm64", &img) == 1);
	CHECK_STR(img.config_digest, cdg);
	CHECK_STR(img.manifest.digest, mdg);
	cd_image_release(&img);
	CHECK(cd_registry_image_for_arch(reg, repo_b, &m, "amd64", &img) == 0);
	cd_manifest_release(&m);

	jv tags;
	CHECK(cd_registry_tags(reg, repo_b, &tags) == 0);
	CHECK(jv_get_kind(tags) == JV_KIND_ARRAY && jv_array_length(jv_copy(tags)) == 2);
	jv_free(tags);

	CHECK(cd_registry_manifest_delete(reg, repo_b, "v1") == -1); /* by tag: refused here */
	CHECK(cd_registry_manifest_delete(reg, repo_b, mdg) == 0);
	CHECK(cd_registry_manifest_get(reg, repo_b, "v1", &m) == -1);
	CHECK(cd_errkind() == CD_ERR_NOT_FOUND);
	CHECK(cd_registry_manifest_get(reg, "cdkit-test/never-pushed", "1", &m) == -1);
	CHECK(cd_errkind() == CD_ERR_NOT_FOUND);
	free(man);
}

int main(int argc, char **argv)
{
	cd_msg_init(argv[0]);
	const char *host = getenv("CD_TEST_REGISTRY");
	if (!host || !*host) {
		printf("test-regwrite: 0 passed, 0 failed (needs CD_TEST_REGISTRY; run by tests/registry-client.bats)\n");
		return 0;
	}
	cd_http_global_init();
	struct cd_registry_opts o = { .creds = getenv("CD_TEST_CREDS") };
	reg = cd_registry_new(host, &o);
	CHECK(reg != NULL);
	if (!reg)
		return unit_done("test-regwrite");
	const char *tags_repo = getenv("CD_TEST_TAGS_REPO");
	if (tags_repo) {
		/* Only list the tags of that repository, one per line. */
		jv tags;
		int r = cd_registry_tags(reg, tags_repo, &tags);
		CHECK(r == 0);
		if (r == 0) {
			jv_array_foreach(tags, i, t) {
				printf("%s\n", jv_string_value(t));
				jv_free(t);
			}
			jv_free(tags);
		} else {
			fprintf(stderr, "error: %s\n", cd_errmsg());
		}
		cd_registry_free(reg);
		cd_http_global_cleanup();
		return unit_done("test-regwrite");
	}
	snprintf(repo_a, sizeof(repo_a), "cdkit-test/a%ld", (long)getpid());
	snprintf(repo_b, sizeof(repo_b), "cdkit-test/b%ld", (long)getpid());
	CHECK(cd_registry_ping(reg) == 0);
	char dg1[CD_DIGEST_MAX], dg2[CD_DIGEST_MAX];
	int before = unit_fail;
	test_blobs(dg1, dg2);
	if (unit_fail == before)
		test_manifests(dg1);
	if (unit_fail)
		fprintf(stderr, "last error: %s\n", cd_errmsg());
	cd_registry_free(reg);
	cd_http_global_cleanup();
	return unit_done("test-regwrite");
}
