/* Manifests in a registry (manifest.h). */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/oci.h"
#include "net/http.h"
#include "registry/call.h"
#include "registry/manifest.h"
#include "core/banned.h"

#define ACCEPT_MANIFESTS "Accept: " CD_MT_OCI_INDEX ", " CD_MT_OCI_MANIFEST ", " \
	CD_MT_DOCKER_LIST ", " CD_MT_DOCKER_MANIFEST

void cd_manifest_release(struct cd_manifest *m)
{
	free(m->body);
	memset(m, 0, sizeof(*m));
}

static void content_type(const struct cd_http_req *q, char *out, size_t n)
{
	char v[256];
	out[0] = '\0';
	if (!cd_http_header(q, "Content-Type", v, sizeof(v)))
		return;
	size_t l = strcspn(v, "; ");
	if (l < n) {
		memcpy(out, v, l);
		out[l] = '\0';
	}
}

static void body_media_type(const char *body, size_t len, char *out, size_t n)
{
	jv doc = jv_parse_sized(body, (int)len);
	const char *mt = cd_jv_str(doc, "mediaType");
	if (mt && strlen(mt) < n)
		memcpy(out, mt, strlen(mt) + 1);
	jv_free(doc);
}

/* Is body the manifest we asked for?  Sets m->digest. */
static int verify_manifest(const char *what, const char *ref, const struct cd_http_req *q,
			   struct cd_manifest *m)
{
	char hdr[CD_DIGEST_MAX + 8];
	const char *want = NULL;
	if (cd_registry_is_digest(ref))
		want = ref;
	else if (cd_http_header(q, "Docker-Content-Digest", hdr, sizeof(hdr)))
		want = hdr;
	if (want) {
		int ok = cd_digest_check(want, m->body, m->len);
		if (ok < 0)
			return cd_seterr_kind(CD_ERR_INTEGRITY, "%s: registry sent a malformed digest", what);
		if (!ok) {
			char got[CD_DIGEST_MAX];
			cd_sha256_digest(m->body, m->len, got);
			return cd_seterr_kind(CD_ERR_INTEGRITY, "%s: manifest digest mismatch: expected %s, got %s",
					      what, want, got);
		}
		memcpy(m->digest, want, strlen(want) + 1);
	} else {
		cd_sha256_digest(m->body, m->len, m->digest);
	}
	return 0;
}

/* One GET or HEAD of manifest repo:ref, kept in c for the caller to read.  Release c either way. */
static int manifest_call(struct cd_registry *r, const char *repo, const char *ref, unsigned flags,
			 struct cd_call *c)
{
	cd_call_init(c, r, repo, ref, cd_registry_scope(repo, "pull"),
		     cd_registry_url(r, "/v2/%s/manifests/%s", repo, ref));
	c->headers = curl_slist_append(NULL, ACCEPT_MANIFESTS);
	c->q.flags = flags;
	c->q.max_body = CD_MANIFEST_MAX;
	c->body = "manifest";
	return cd_call_run(c, (const long[]){ 200, 0 });
}

int cd_registry_manifest_get(struct cd_registry *r, const char *repo, const char *ref,
			     struct cd_manifest *out)
{
	memset(out, 0, sizeof(*out));
	if (cd_registry_check_names(repo, ref) < 0)
		return -1;
	struct cd_call c;
	int ret = manifest_call(r, repo, ref, 0, &c);
	if (!ret) {
		out->body = cd_buf_detach(&c.q.body, &out->len);
		content_type(&c.q, out->media_type, sizeof(out->media_type));
		if (!out->media_type[0] || !strcmp(out->media_type, "application/json"))
			body_media_type(out->body, out->len, out->media_type, sizeof(out->media_type));
		ret = verify_manifest(c.what, ref, &c.q, out);
		if (ret < 0)
			cd_manifest_release(out);
	}
	cd_call_release(&c);
	return ret;
}

int cd_registry_manifest_head(struct cd_registry *r, const char *repo, const char *ref,
			      struct cd_descriptor *out)
{
	memset(out, 0, sizeof(*out));
	out->size = -1;
	if (cd_registry_check_names(repo, ref) < 0)
		return -1;
	struct cd_call c;
	int ret = manifest_call(r, repo, ref, CD_HTTP_HEAD, &c);
	char dg[CD_DIGEST_MAX + 8];
	enum cd_hash alg;
	const char *hex;
	if (!ret) {
		content_type(&c.q, out->media_type, sizeof(out->media_type));
		out->size = cd_http_content_length(&c.q);
	}
	if (ret < 0) {
		/* said by the call */
	} else if (out->size > CD_MANIFEST_MAX) {
		ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: manifest larger than %u MiB: refused", c.what,
				     CD_MANIFEST_MAX >> 20);
	} else if (cd_http_header(&c.q, "Docker-Content-Digest", dg, sizeof(dg)) &&
		   cd_digest_parse(dg, &alg, &hex) == 0) {
		if (cd_registry_is_digest(ref) && strcmp(dg, ref))
			ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: registry answered for digest %s", c.what, dg);
		else
			memcpy(out->digest, dg, strlen(dg) + 1);
	} else {
		/* No digest header: fetch the body and compute it. */
		struct cd_manifest m;
		ret = cd_registry_manifest_get(r, repo, ref, &m);
		if (!ret) {
			memcpy(out->digest, m.digest, sizeof(out->digest));
			memcpy(out->media_type, m.media_type, sizeof(out->media_type));
			out->size = (long long)m.len;
			cd_manifest_release(&m);
		}
	}
	cd_call_release(&c);
	return ret;
}

int cd_registry_manifest_put(struct cd_registry *r, const char *repo, const char *ref,
			     const char *media_type, const void *body, size_t len,
			     char digest_out[CD_DIGEST_MAX])
{
	char digest[CD_DIGEST_MAX];
	cd_sha256_digest(body, len, digest);
	if (!ref)
		ref = digest;
	if (cd_registry_check_names(repo, ref) < 0)
		return -1;
	if (len > CD_MANIFEST_MAX)
		return cd_seterr_kind(CD_ERR_INTEGRITY, "manifest larger than %u MiB", CD_MANIFEST_MAX >> 20);
	if (cd_registry_is_digest(ref) && cd_digest_check(ref, body, len) != 1)
		return cd_seterr_kind(CD_ERR_INTEGRITY, "manifest does not match digest %s", ref);
	struct cd_call c;
	char *ct = cd_xasprintf("Content-Type: %s", media_type);
	cd_call_init(&c, r, repo, ref, cd_registry_scope(repo, "pull,push"),
		     cd_registry_url(r, "/v2/%s/manifests/%s", repo, ref));
	c.headers = curl_slist_append(NULL, ct);
	free(ct);
	c.q.method = "PUT";
	c.q.upload = body;
	c.q.upload_len = len;
	c.pre = "PUT ";
	int ret = cd_call_run(&c, (const long[]){ 201, 200, 0 });
	char dg[CD_DIGEST_MAX + 8];
	if (!ret && cd_http_header(&c.q, "Docker-Content-Digest", dg, sizeof(dg)) && strcmp(dg, digest) &&
	    !strncmp(dg, "sha256:", 7))
		ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: registry stored digest %s, expected %s", c.what, dg, digest);
	if (!ret && digest_out)
		memcpy(digest_out, digest, sizeof(digest));
	cd_call_release(&c);
	return ret;
}

int cd_registry_manifest_delete(struct cd_registry *r, const char *repo, const char *digest)
{
	if (cd_registry_check_names(repo, digest) < 0)
		return -1;
	if (!cd_registry_is_digest(digest))
		return cd_seterr("manifests are deleted by digest, not by tag ('%s')", digest);
	struct cd_call c;
	/* distribution wants the "delete" action for any DELETE in a repository */
	cd_call_init(&c, r, repo, digest, cd_xasprintf("repository:%s:delete repository:%s:pull,push", repo, repo),
		     cd_registry_url(r, "/v2/%s/manifests/%s", repo, digest));
	c.q.method = "DELETE";
	c.pre = "DELETE ";
	int ret = cd_call_run(&c, (const long[]){ 202, 200, 204, 0 });
	cd_call_release(&c);
	return ret;
}

/* --- bodies ------------------------------------------------------------------ */

int cd_manifest_is_index(const char *media_type)
{
	return !strcmp(media_type, CD_MT_OCI_INDEX) || !strcmp(media_type, CD_MT_DOCKER_LIST);
}

/* Fill a descriptor from a JSON object: 0, or -1 when it is not one. */
static int descriptor_of(jv d, struct cd_descriptor *out)
{
	const char *mt = cd_jv_str(d, "mediaType");
	const char *dg = cd_jv_str(d, "digest");
	enum cd_hash alg;
	const char *hex;
	if (!dg || cd_digest_parse(dg, &alg, &hex) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (mt && strlen(mt) < sizeof(out->media_type))
		memcpy(out->media_type, mt, strlen(mt) + 1);
	memcpy(out->digest, dg, strlen(dg) + 1);
	return cd_json_size(d, &out->size) < 0 ? -1 : 0;
}

int cd_manifest_index_find(const char *body, size_t len, const char *arch,
			   struct cd_descriptor *out)
{
	jv doc = jv_parse_sized(body, (int)len);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return cd_seterr("manifest list is not a JSON object");
	}
	jv ms = jv_object_get(doc, jv_string("manifests"));
	if (jv_get_kind(ms) != JV_KIND_ARRAY) {
		jv_free(ms);
		return cd_seterr("manifest list has no \"manifests\" array");
	}
	int found = 0, bad = 0;
	jv_array_foreach(ms, i, m) {
		if (found || bad) {
			jv_free(m);
			continue;
		}
		jv plat = jv_get_kind(m) == JV_KIND_OBJECT ? jv_object_get(jv_copy(m), jv_string("platform"))
							   : jv_invalid();
		const char *a = cd_jv_str(plat, "architecture");
		const char *os = cd_jv_str(plat, "os");
		if (a && !strcmp(a, arch) && (!os || !strcmp(os, "linux"))) {
			if (descriptor_of(m, out) < 0)
				bad = 1;
			else
				found = 1;
		}
		jv_free(plat);
		jv_free(m);
	}
	jv_free(ms);
	if (bad)
		return cd_seterr("manifest list entry for '%s' has a malformed digest or size", arch);
	return found;
}

int cd_manifest_config(const char *body, size_t len, struct cd_descriptor *out)
{
	jv doc = jv_parse_sized(body, (int)len);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return cd_seterr("manifest is not a JSON object");
	}
	jv cfg = jv_object_get(doc, jv_string("config"));
	int r = jv_get_kind(cfg) == JV_KIND_OBJECT ? descriptor_of(cfg, out) : -1;
	jv_free(cfg);
	if (r < 0)
		return cd_seterr("manifest has no valid \"config\" descriptor");
	return 0;
}
