#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/digest.h"
#include "core/error.h"
#include "core/oci.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/layout.h"
#include "core/banned.h"


const char *cd_image_manifest_type(int oci)
{
	return oci ? CD_MT_OCI_MANIFEST : CD_MT_DOCKER_MANIFEST;
}

const char *cd_image_list_type(int oci)
{
	return oci ? CD_MT_OCI_INDEX : CD_MT_DOCKER_LIST;
}

const char *cd_image_layer_type(int oci, enum cd_compression c)
{
	if (oci)
		return c == CD_COMP_GZIP ? CD_MT_OCI_LAYER_GZIP
		     : c == CD_COMP_ZSTD ? CD_MT_OCI_LAYER_ZSTD
					 : CD_MT_OCI_LAYER;
	return c == CD_COMP_GZIP ? CD_MT_DOCKER_LAYER : CD_MT_DOCKER_LAYER_TAR;
}

/* Store a JSON document (consumed) as a blob; digest and size out. */
static int put_json(struct cd_layout *l, jv doc, char digest[CD_DIGEST_MAX], long long *size)
{
	jv s = jv_dump_string(doc, JV_PRINT_SORTED);
	const char *p = jv_string_value(s);
	size_t n = strlen(p);
	int r = cd_layout_add_blob(l, p, n, digest);
	*size = (long long)n;
	jv_free(s);
	return r;
}

/* The record's env as sorted "K=V" strings.  Borrows env. */
static int env_list(jv env, jv *out)
{
	*out = jv_array();
	if (jv_get_kind(env) == JV_KIND_NULL || jv_get_kind(env) == JV_KIND_INVALID)
		return 0;
	if (jv_get_kind(env) != JV_KIND_OBJECT)
		return cd_seterr("env is not an object");
	jv keys = jv_keys(jv_copy(env)); /* sorted */
	int n = jv_array_length(jv_copy(keys)), r = 0;
	for (int i = 0; i < n && !r; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		jv v = jv_object_get(jv_copy(env), jv_copy(k));
		if (jv_get_kind(v) != JV_KIND_STRING || strchr(jv_string_value(k), '='))
			r = cd_seterr("env '%.80s' is not a NAME: \"value\" pair", jv_string_value(k));
		else
			*out = jv_array_append(*out, jv_string_fmt("%s=%s", jv_string_value(k), jv_string_value(v)));
		jv_free(k);
		jv_free(v);
	}
	jv_free(keys);
	return r;
}

static jv rfc3339(long long t)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return jv_string(buf);
}

static jv config_doc(const struct cd_image_opts *o, jv envs, const struct cd_image_arch *a)
{
	jv labels = JV_OBJECT(jv_string("shasum"), jv_string(a->shasum));
	if (a->http)
		labels = jv_object_set(labels, jv_string(CD_LABEL_HTTP), jv_string(a->http));
	jv cfg = JV_OBJECT(jv_string("Entrypoint"), JV_ARRAY(jv_string("no-entrypoint")),
			   jv_string("Labels"), labels);
	if (jv_array_length(jv_copy(envs)) > 0)
		cfg = jv_object_set(cfg, jv_string("Env"), envs);
	else
		jv_free(envs);
	jv hist = jv_object();
	jv doc = JV_OBJECT(jv_string("architecture"), jv_string(a->arch),
			   jv_string("os"), jv_string("linux"),
			   jv_string("config"), cfg,
			   jv_string("rootfs"), JV_OBJECT(jv_string("type"), jv_string("layers"),
							  jv_string("diff_ids"), JV_ARRAY(jv_string(a->layer.diff_id))));
	if (o->created >= 0) {
		doc = jv_object_set(doc, jv_string("created"), rfc3339(o->created));
		hist = jv_object_set(hist, jv_string("created"), rfc3339(o->created));
	}
	return jv_object_set(doc, jv_string("history"), JV_ARRAY(hist));
}

static jv descriptor(const char *type, const char *digest, long long size)
{
	return JV_OBJECT(jv_string("mediaType"), jv_string(type), jv_string("digest"), jv_string(digest),
			 jv_string("size"), jv_number((double)size));
}

static jv platform(const char *arch)
{
	return JV_OBJECT(jv_string("architecture"), jv_string(arch), jv_string("os"), jv_string("linux"));
}

jv cd_image_annotations(const char *arch, const char *shasum, const char *http)
{
	jv ann = JV_OBJECT(jv_string(CD_ANN_ARCH), jv_string(arch), jv_string(CD_ANN_SHASUM), jv_string(shasum));
	if (http)
		ann = jv_object_set(ann, jv_string(CD_ANN_HTTP), jv_string(http));
	return ann;
}

int cd_image_add_arch(struct cd_layout *l, const struct cd_image_opts *o, jv env,
		      struct cd_image_arch *a)
{
	jv envs;
	char cdig[CD_DIGEST_MAX];
	long long csize;
	if (env_list(env, &envs) < 0) {
		jv_free(envs);
		return -1;
	}
	if (put_json(l, config_doc(o, envs, a), cdig, &csize) < 0)
		return -1;
	jv m = JV_OBJECT(jv_string("schemaVersion"), jv_number(2),
			 jv_string("mediaType"), jv_string(cd_image_manifest_type(o->oci)),
			 jv_string("config"), descriptor(o->oci ? CD_MT_OCI_CONFIG : CD_MT_DOCKER_CONFIG, cdig, csize),
			 jv_string("layers"), JV_ARRAY(descriptor(cd_image_layer_type(o->oci, o->comp),
								  a->layer.digest, a->layer.size)));
	if (o->annotate)
		m = jv_object_set(m, jv_string("annotations"), cd_image_annotations(a->arch, a->shasum, a->http));
	return put_json(l, m, a->manifest, &a->manifest_size);
}

int cd_image_finish(struct cd_layout *l, const struct cd_image_opts *o,
		    const struct cd_image_arch *a, size_t n, int list, const char *ref,
		    char digest[CD_DIGEST_MAX])
{
	jv top;
	if (list) {
		jv ms = jv_array();
		for (size_t i = 0; i < n; i++) {
			jv d = descriptor(cd_image_manifest_type(o->oci), a[i].manifest, a[i].manifest_size);
			d = jv_object_set(d, jv_string("platform"), platform(a[i].arch));
			if (o->annotate)
				d = jv_object_set(d, jv_string("annotations"),
						  cd_image_annotations(a[i].arch, a[i].shasum, a[i].http));
			ms = jv_array_append(ms, d);
		}
		jv idx = JV_OBJECT(jv_string("schemaVersion"), jv_number(2),
				   jv_string("mediaType"), jv_string(cd_image_list_type(o->oci)),
				   jv_string("manifests"), ms);
		long long size;
		if (put_json(l, idx, digest, &size) < 0)
			return -1;
		top = descriptor(cd_image_list_type(o->oci), digest, size);
	} else {
		memcpy(digest, a[0].manifest, CD_DIGEST_MAX);
		top = descriptor(cd_image_manifest_type(o->oci), a[0].manifest, a[0].manifest_size);
		top = jv_object_set(top, jv_string("platform"), platform(a[0].arch));
	}
	top = jv_object_set(top, jv_string("annotations"), JV_OBJECT(jv_string(CD_OCI_REF_NAME), jv_string(ref)));
	jv layout = JV_OBJECT(jv_string("schemaVersion"), jv_number(2),
			      jv_string("mediaType"), jv_string(CD_MT_OCI_INDEX),
			      jv_string("manifests"), JV_ARRAY(top));
	jv s = jv_dump_string(layout, JV_PRINT_SORTED);
	int r = cd_layout_write_index(l, jv_string_value(s));
	jv_free(s);
	return r;
}
