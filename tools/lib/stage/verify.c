#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arch.h"
#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/msg.h"
#include "core/oci.h"
#include "core/record.h"
#include "core/ref.h"
#include "image/disk.h"
#include "image/layer-check.h"
#include "image/layer.h"
#include "registry/blob.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "stage/opts.h"
#include "stage/verify.h"
#include "vm/boot.h"
#include "core/banned.h"


enum family { FAM_DOCKER, FAM_OCI };

/* One architecture the record names, and what the index says about it. */
struct want {
	char arch[32];
	const char *shasum;          /* upstream checksum hex, borrowed from the record */
	struct cd_descriptor desc;   /* its manifest, from the index */
	int found;
};

struct run {
	jv checks;
	int ok;
	struct cd_verify_failure *fail;
	struct cd_registry *reg;
	const char *repo;
	enum family fam;
	const struct cd_verify_opts *o;
};

static void add(struct run *r, const char *name, const char *arch, int ok, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add(struct run *r, const char *name, const char *arch, int ok, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(detail)) /* a long registry message: keep its start */
		memcpy(detail + sizeof(detail) - 4, "...", 4);
	jv c = jv_object();
	c = jv_object_set(c, jv_string("name"), jv_string(name));
	c = jv_object_set(c, jv_string("arch"), arch ? jv_string(arch) : jv_null());
	c = jv_object_set(c, jv_string("ok"), jv_bool(ok));
	c = jv_object_set(c, jv_string("detail"), jv_string(detail));
	r->checks = jv_array_append(r->checks, c);
	if (ok || !r->ok)
		return;
	r->ok = 0;
	cd_snprintf_cut(r->fail->arch, sizeof(r->fail->arch), "%s", arch ? arch : "");
	cd_snprintf_cut(r->fail->message, sizeof(r->fail->message), "%s: %s", name, detail);
}

/* Borrowed string member of obj, or NULL. */
static const char *str(jv obj, const char *key)
{
	return cd_jv_str(obj, key);
}

/* obj[key] (consumes nothing; caller frees the result). */
static jv get(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(obj), jv_string(key));
}

static const char *short_type(const char *mt)
{
	if (!strcmp(mt, CD_MT_DOCKER_LIST))
		return "Docker manifest list";
	if (!strcmp(mt, CD_MT_OCI_INDEX))
		return "OCI index";
	if (!strcmp(mt, CD_MT_DOCKER_MANIFEST))
		return "Docker manifest";
	if (!strcmp(mt, CD_MT_OCI_MANIFEST))
		return "OCI manifest";
	return mt;
}

/* ---- the record's architectures ---- */

static int read_wants(jv rec, struct want *w, size_t *n, char *why, size_t whylen)
{
	jv arts = get(rec, "artifacts");
	int ret = 0;
	*n = 0;
	if (jv_get_kind(arts) != JV_KIND_ARRAY || jv_array_length(jv_copy(arts)) == 0) {
		cd_snprintf_cut(why, whylen, "the record has no artifacts");
		ret = -1;
		goto out;
	}
	jv_array_foreach(arts, i, a) {
		const char *arch = str(a, "arch"), *sum = str(a, "checksum");
		if (!arch || *n >= CD_NARCH || strlen(arch) >= sizeof(w->arch)) {
			cd_snprintf_cut(why, whylen, "artifact %d has no usable arch", i);
			ret = -1;
		} else {
			memset(&w[*n], 0, sizeof(*w));
			memcpy(w[*n].arch, arch, strlen(arch) + 1);
			if (sum) {
				const char *colon = strchr(sum, ':');
				w[*n].shasum = colon ? colon + 1 : sum; /* alive in rec */
			}
			(*n)++;
		}
		jv_free(a);
	}
out:
	jv_free(arts);
	return ret;
}

/* A shasum label as cd-build and medius write it: sha256 or sha512 in lowercase hex. */
static int is_hex_sum(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return !s[n] && (n == 64 || n == 128);
}

/* ---- the top manifest: an index or list, or one image ---- */

static int check_index(struct run *r, const struct cd_manifest *top, struct want *w, size_t nw)
{
	jv doc = jv_parse_sized(top->body, (int)top->len);
	jv list = get(doc, "manifests");
	const char *want_mt = r->fam == FAM_DOCKER ? CD_MT_DOCKER_MANIFEST : CD_MT_OCI_MANIFEST;
	int ret = -1;
	char seen[256] = "";
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		add(r, "top", NULL, 0, "%s %s has no manifests list", short_type(top->media_type), top->digest);
		goto out;
	}
	jv_array_foreach(list, i, e) {
		jv plat = get(e, "platform");
		const char *mt = str(e, "mediaType"), *dg = str(e, "digest");
		const char *os = str(plat, "os"), *arch = str(plat, "architecture");
		long long dsize = -1;
		struct want *hit = NULL;
		for (size_t k = 0; arch && k < nw; k++)
			if (!strcmp(w[k].arch, arch))
				hit = &w[k];
		int bad = 1;
		if (!mt || strcmp(mt, want_mt))
			add(r, "top", NULL, 0, "entry %d of the %s has media type '%s', want %s", i,
			    short_type(top->media_type), mt ? mt : "(none)", want_mt);
		else if (!dg || strlen(dg) >= CD_DIGEST_MAX || cd_json_size(e, &dsize) != 1)
			add(r, "top", NULL, 0, "entry %d of the %s has no digest or size", i,
			    short_type(top->media_type));
		else if (!os || strcmp(os, "linux") || !arch)
			add(r, "top", NULL, 0, "entry %d has platform %s/%s, want linux/<arch>", i,
			    os ? os : "?", arch ? arch : "?");
		else if (!hit)
			add(r, "top", NULL, 0, "the index has linux/%s, which the record does not have", arch);
		else if (hit->found)
			add(r, "top", NULL, 0, "the index has linux/%s twice", arch);
		else
			bad = 0;
		if (!bad) {
			hit->found = 1;
			memcpy(hit->desc.media_type, mt, strlen(mt) + 1);
			memcpy(hit->desc.digest, dg, strlen(dg) + 1);
			hit->desc.size = dsize;
			size_t l = strlen(seen);
			cd_snprintf_cut(seen + l, sizeof(seen) - l, " linux/%s", arch);
		}
		jv_free(plat);
		jv_free(e);
		if (bad) {
			jv_free(list);
			jv_free(doc);
			return -1;
		}
	}
	for (size_t k = 0; k < nw; k++)
		if (!w[k].found) {
			add(r, "top", NULL, 0, "the %s %s has no linux/%s entry", short_type(top->media_type),
			    top->digest, w[k].arch);
			goto out;
		}
	add(r, "top", NULL, 1, "%s %s:%s", short_type(top->media_type), top->digest, seen);
	ret = 0;
out:
	jv_free(list);
	jv_free(doc);
	return ret;
}

/* ---- one architecture ---- */

struct parsed_manifest {
	struct cd_descriptor config, layer;
};

static int read_desc(jv d, struct cd_descriptor *out)
{
	const char *mt = str(d, "mediaType"), *dg = str(d, "digest");
	long long size;
	int ok = mt && dg && strlen(mt) < CD_MEDIA_TYPE_MAX && strlen(dg) < CD_DIGEST_MAX &&
		 cd_json_size(d, &size) == 1;
	if (ok) {
		memcpy(out->media_type, mt, strlen(mt) + 1);
		memcpy(out->digest, dg, strlen(dg) + 1);
		out->size = size;
	}
	return ok ? 0 : -1;
}

static enum cd_layer_filter layer_filter(const char *mt)
{
	if (!strcmp(mt, CD_MT_DOCKER_LAYER) || !strcmp(mt, CD_MT_OCI_LAYER_GZIP))
		return CD_FILTER_GZIP;
	if (!strcmp(mt, CD_MT_OCI_LAYER_ZSTD))
		return CD_FILTER_ZSTD;
	return CD_FILTER_NONE;
}

static int layer_type_ok(enum family fam, const char *mt)
{
	if (fam == FAM_DOCKER)
		return !strcmp(mt, CD_MT_DOCKER_LAYER);
	return !strcmp(mt, CD_MT_OCI_LAYER_GZIP) || !strcmp(mt, CD_MT_OCI_LAYER_ZSTD) ||
	       !strcmp(mt, CD_MT_OCI_LAYER);
}

static int check_manifest(struct run *r, const struct want *w, const struct cd_manifest *m,
			  struct parsed_manifest *pm)
{
	const char *want_mt = r->fam == FAM_DOCKER ? CD_MT_DOCKER_MANIFEST : CD_MT_OCI_MANIFEST;
	const char *want_cfg = r->fam == FAM_DOCKER ? CD_MT_DOCKER_CONFIG : CD_MT_OCI_CONFIG;
	jv doc = jv_parse_sized(m->body, (int)m->len);
	jv layers = get(doc, "layers"), cfg = get(doc, "config");
	const char *body_mt = str(doc, "mediaType");
	int ret = -1, nl = jv_get_kind(layers) == JV_KIND_ARRAY ? jv_array_length(jv_copy(layers)) : -1;
	if (w->desc.size >= 0 && w->found && (long long)m->len != w->desc.size)
		add(r, "manifest", w->arch, 0, "%s is %zu bytes, the index says %lld", m->digest, m->len,
		    w->desc.size);
	else if (strcmp(m->media_type, want_mt) || (body_mt && strcmp(body_mt, want_mt)))
		add(r, "manifest", w->arch, 0, "%s has media type '%s', want %s", m->digest,
		    body_mt ? body_mt : m->media_type, want_mt);
	else if (cd_jv_num(doc, "schemaVersion", 0) != 2)
		add(r, "manifest", w->arch, 0, "%s is not schema version 2", m->digest);
	else if (read_desc(cfg, &pm->config) < 0 || strcmp(pm->config.media_type, want_cfg))
		add(r, "manifest", w->arch, 0, "%s: config descriptor missing or not %s", m->digest, want_cfg);
	else if (nl != 1)
		add(r, "manifest", w->arch, 0, "%s has %d layers: a containerdisk has exactly one",
		    m->digest, nl);
	else {
		jv l0 = jv_array_get(jv_copy(layers), 0);
		int ok = read_desc(l0, &pm->layer) == 0 && layer_type_ok(r->fam, pm->layer.media_type);
		jv_free(l0);
		if (!ok)
			add(r, "manifest", w->arch, 0, "%s: layer descriptor missing or of a media type a %s cannot hold",
			    m->digest, short_type(want_mt));
		else {
			add(r, "manifest", w->arch, 1, "%s %s, one layer %s (%lld bytes)", short_type(want_mt),
			    m->digest, pm->layer.media_type, pm->layer.size);
			ret = 0;
		}
	}
	jv_free(cfg);
	jv_free(layers);
	jv_free(doc);
	return ret;
}

static int read_diff_id(jv ids, char diff_id[CD_DIGEST_MAX])
{
	jv id = jv_array_get(jv_copy(ids), 0);
	enum cd_hash alg;
	const char *hex;
	int ret = -1;
	if (jv_get_kind(id) == JV_KIND_STRING && cd_digest_parse(jv_string_value(id), &alg, &hex) == 0 &&
	    alg == CD_HASH_SHA256)
		ret = cd_snprintf(diff_id, CD_DIGEST_MAX, "%s", jv_string_value(id)) < 0 ? -1 : 0;
	jv_free(id);
	return ret;
}

/* The config blob body (len bytes) that descriptor d names. */
static int check_config_body(struct run *r, const struct want *w, const struct cd_descriptor *d,
			     const char *body, size_t len, char diff_id[CD_DIGEST_MAX])
{
	int ret = -1;
	jv doc = jv_parse_sized(body, (int)len);
	jv rootfs = get(doc, "rootfs"), cfg = get(doc, "config");
	jv ids = get(rootfs, "diff_ids"), labels = get(cfg, "Labels");
	const char *arch = str(doc, "architecture"), *os = str(doc, "os"), *sum = str(labels, "shasum");
	if ((long long)len != d->size)
		add(r, "config", w->arch, 0, "%s is %zu bytes, the manifest says %lld", d->digest, len, d->size);
	else if (jv_get_kind(doc) != JV_KIND_OBJECT)
		add(r, "config", w->arch, 0, "%s is not a JSON object", d->digest);
	else if (!arch || strcmp(arch, w->arch) || !os || strcmp(os, "linux"))
		add(r, "config", w->arch, 0, "%s says %s/%s, want linux/%s", d->digest, os ? os : "?",
		    arch ? arch : "?", w->arch);
	else if (jv_get_kind(ids) != JV_KIND_ARRAY || jv_array_length(jv_copy(ids)) != 1)
		add(r, "config", w->arch, 0, "%s does not list exactly one diff_id", d->digest);
	else if (read_diff_id(ids, diff_id) < 0)
		add(r, "config", w->arch, 0, "%s: its diff_id is not a sha256 digest", d->digest);
	else {
		add(r, "config", w->arch, 1, "%s linux/%s", d->digest, arch);
		ret = 0;
	}
	if (ret == 0) { /* a wrong label does not stop the layer checks */
		if (!sum)
			add(r, "shasum", w->arch, 0, "the config has no shasum label");
		else if (!w->shasum && !is_hex_sum(sum))
			add(r, "shasum", w->arch, 0, "label shasum '%.140s' is not a sha256 or sha512 in hex", sum);
		else if (!w->shasum) /* upstream gave none: the label is the bytes' own (cd-build) */
			add(r, "shasum", w->arch, 1, "no upstream checksum for %s to compare; label shasum %s",
			    w->arch, sum);
		else if (!sum)
			add(r, "shasum", w->arch, 0, "the config has no shasum label");
		else if (strcmp(sum, w->shasum))
			add(r, "shasum", w->arch, 0, "label shasum '%.140s' differs from the upstream checksum '%s'",
			    sum, w->shasum);
		else
			add(r, "shasum", w->arch, 1, "label shasum equals the upstream checksum %s", w->shasum);
	}
	jv_free(labels);
	jv_free(ids);
	jv_free(cfg);
	jv_free(rootfs);
	jv_free(doc);
	return ret;
}

static int check_config(struct run *r, const struct want *w, const struct cd_descriptor *d,
			char diff_id[CD_DIGEST_MAX])
{
	char *body = NULL;
	size_t len = 0;
	if (cd_registry_blob_get_mem(r->reg, r->repo, d->digest, CD_MANIFEST_MAX, &body, &len) < 0) {
		add(r, "config", w->arch, 0, "%s", cd_errmsg());
		return -1;
	}
	int ret = check_config_body(r, w, d, body, len, diff_id);
	free(body);
	return ret;
}

static const char *format_name(enum cd_disk_format f)
{
	return f == CD_DISK_QCOW2 ? "qcow2" : f == CD_DISK_RAW ? "raw" : "unknown";
}

/* The layer blob, streamed from the registry into the layer checker. */
static int check_layer(struct run *r, const struct want *w, const struct cd_descriptor *d,
		       const char *diff_id, int extract_fd, struct cd_layer_check *res)
{
	struct cd_blob_pump pump;
	struct cd_err why;
	int fd;
	if (cd_blob_pump_start(&pump, r->reg, r->repo, d->digest, &fd) < 0) {
		add(r, "layer", w->arch, 0, "%s", cd_errmsg());
		return -1;
	}
	int cr = cd_layer_check(fd, layer_filter(d->media_type), extract_fd, res);
	cd_err_save(&why);
	close(fd);
	/* a blob that is not what its digest says makes the content moot */
	if (cd_blob_pump_finish(&pump) < 0)
		add(r, "layer", w->arch, 0, "%s", cd_errmsg());
	else if (pump.bytes != d->size)
		add(r, "layer", w->arch, 0, "blob %s is %lld bytes, the manifest says %lld", d->digest,
		    pump.bytes, d->size);
	else if (cr < 0)
		add(r, "layer", w->arch, 0, "%s", why.msg);
	else if (strcmp(res->diff_id, diff_id))
		add(r, "layer", w->arch, 0, "the uncompressed layer is %s, the config's diff_id says %s",
		    res->diff_id, diff_id);
	else {
		char note[96] = "";
		if (res->unchecked)
			cd_snprintf_cut(note, sizeof(note), "; %lu qcow2 tables before the L1 table not checked",
					res->unchecked);
		add(r, "layer", w->arch, 1, "%s (%lld bytes): disk/disk.img %s, %llu bytes, virtual size %llu, uid/gid %d%s",
		    d->digest, pump.bytes, format_name(res->disk.format), (unsigned long long)res->disk_bytes,
		    (unsigned long long)res->disk.virtual_size, CD_DISK_UID, note);
		return 0;
	}
	return -1;
}

/* A private folder for the extracted disk; "" when it cannot be made (add()ed). */
static int make_workdir(struct run *r, const char *arch, char *dir, size_t len)
{
	const char *base = r->o->tmpdir ? r->o->tmpdir : getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if (cd_snprintf(dir, len, "%s/cd-verify.XXXXXX", base) < 0 || !mkdtemp(dir)) {
		add(r, "boot", arch, 0, "cannot make a folder under '%s': %s", base,
		    errno ? strerror(errno) : cd_errmsg());
		return -1;
	}
	return 0;
}

static void check_boot(struct run *r, const struct want *w, const char *disk,
		       const struct cd_layer_check *res, const char *dir)
{
	struct cd_boot_opts bo = { .timeout = r->o->boot_timeout, .accel = r->o->accel, .workdir = dir };
	char detail[1024] = "";
	if (cd_boot_disk(w->arch, disk, format_name(res->disk.format), &bo, detail, sizeof(detail)) < 0)
		add(r, "boot", w->arch, 0, "%s", cd_errmsg());
	else
		add(r, "boot", w->arch, 1, "%s", detail);
}

static void check_arch(struct run *r, const struct want *w, const struct cd_manifest *top)
{
	struct cd_manifest own = { 0 };
	const struct cd_manifest *m = top;
	struct parsed_manifest pm;
	struct cd_layer_check res;
	char dir[4096] = "", disk[4200] = "", diff_id[CD_DIGEST_MAX];
	int fd = -1;

	if (w->found) {
		if (cd_registry_manifest_get(r->reg, r->repo, w->desc.digest, &own) < 0) {
			add(r, "manifest", w->arch, 0, "%s", cd_errmsg());
			return;
		}
		m = &own;
	}
	if (check_manifest(r, w, m, &pm) < 0 || check_config(r, w, &pm.config, diff_id) < 0)
		goto out;
	if (r->o->flags & CD_VERIFY_BOOT) {
		if (make_workdir(r, w->arch, dir, sizeof(dir)) < 0)
			goto out;
		if (cd_snprintf(disk, sizeof(disk), "%s/disk.img", dir) < 0 ||
		    (fd = open(disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			add(r, "boot", w->arch, 0, "cannot create '%s': %s", disk, strerror(errno));
			goto out;
		}
	}
	int lr = check_layer(r, w, &pm.layer, diff_id, fd, &res);
	if (fd >= 0 && close(fd) < 0 && lr == 0) {
		add(r, "boot", w->arch, 0, "cannot write '%s': %s", disk, strerror(errno));
		lr = -1;
	}
	fd = -1;
	if (lr == 0 && (r->o->flags & CD_VERIFY_BOOT))
		check_boot(r, w, disk, &res, dir);
out:
	if (fd >= 0)
		close(fd);
	if (disk[0])
		unlink(disk);
	if (dir[0])
		rmdir(dir);
	cd_manifest_release(&own);
}

/* The pushed manifest: its family, and for an index or list its entries. */
static int check_top(struct run *r, const struct cd_manifest *top, struct want *w, size_t nw)
{
	int index = cd_manifest_is_index(top->media_type);
	if (!strcmp(top->media_type, CD_MT_DOCKER_LIST) || !strcmp(top->media_type, CD_MT_DOCKER_MANIFEST))
		r->fam = FAM_DOCKER;
	else if (!strcmp(top->media_type, CD_MT_OCI_INDEX) || !strcmp(top->media_type, CD_MT_OCI_MANIFEST))
		r->fam = FAM_OCI;
	else {
		add(r, "top", NULL, 0, "%s has media type '%s', not an image manifest or index", top->digest,
		    top->media_type);
		return -1;
	}
	if (index)
		return check_index(r, top, w, nw);
	if (nw != 1) {
		add(r, "top", NULL, 0, "%s is a single %s but the record has %zu architectures", top->digest,
		    short_type(top->media_type), nw);
		return -1;
	}
	add(r, "top", NULL, 1, "%s %s", short_type(top->media_type), top->digest);
	return 0;
}

static jv verified(struct run *r)
{
	jv v = jv_object();
	v = jv_object_set(v, jv_string("ok"), jv_bool(r->ok));
	return jv_object_set(v, jv_string("checks"), r->checks);
}

jv cd_verify_record(jv rec, const struct cd_verify_opts *o, struct cd_verify_failure *fail)
{
	struct run r = { .checks = jv_array(), .ok = 1, .fail = fail, .o = o };
	struct want w[CD_NARCH];
	struct cd_ref ref = { 0 };
	struct cd_manifest top = { 0 };
	size_t nw = 0;
	char why[256];
	jv pushed = get(rec, "pushed");
	const char *repo = str(pushed, "repository"), *digest = str(pushed, "digest");

	memset(fail, 0, sizeof(*fail));
	if (!repo || !digest) {
		add(&r, "top", NULL, 0, "\"pushed\" has no repository or digest");
		goto out;
	}
	if (read_wants(rec, w, &nw, why, sizeof(why)) < 0) {
		add(&r, "top", NULL, 0, "%s", why);
		goto out;
	}
	if (cd_ref_parse(&ref, repo) < 0 || ref.tag || ref.digest) {
		add(&r, "top", NULL, 0, "%s", ref.host ? "pushed.repository must name a repository only" : cd_errmsg());
		goto out;
	}
	r.reg = cd_opts_client(ref.host);
	r.repo = ref.path;
	if (!r.reg) {
		add(&r, "top", NULL, 0, "%s", cd_errmsg());
		goto out;
	}
	if (cd_registry_manifest_get(r.reg, r.repo, digest, &top) < 0) {
		add(&r, "top", NULL, 0, "%s", cd_errmsg());
		goto out;
	}
	if (check_top(&r, &top, w, nw) < 0)
		goto out;
	for (size_t k = 0; k < nw; k++)
		check_arch(&r, &w[k], &top);
out:
	cd_manifest_release(&top);
	if (r.reg)
		cd_registry_free(r.reg);
	cd_ref_release(&ref);
	jv_free(pushed);
	return verified(&r);
}

jv cd_verify_documents(jv rec, const struct cd_manifest *top, const struct cd_manifest *image,
		       const char *config, size_t config_len, struct cd_verify_failure *fail)
{
	struct run r = { .checks = jv_array(), .ok = 1, .fail = fail };
	struct want w[CD_NARCH];
	size_t nw = 0;
	char why[256];

	memset(fail, 0, sizeof(*fail));
	if (read_wants(rec, w, &nw, why, sizeof(why)) < 0) {
		add(&r, "top", NULL, 0, "%s", why);
		return verified(&r);
	}
	if (check_top(&r, top, w, nw) < 0)
		return verified(&r);
	for (size_t k = 0; k < nw; k++) {
		struct parsed_manifest pm;
		char diff_id[CD_DIGEST_MAX];
		if (check_manifest(&r, &w[k], w[k].found ? image : top, &pm) == 0)
			check_config_body(&r, &w[k], &pm.config, config, config_len, diff_id);
	}
	return verified(&r);
}

/* -v: each boot check, which names the accelerator and why (v borrowed). */
static void say_boot(const char *id, jv v)
{
	jv checks = jv_object_get(jv_copy(v), jv_string("checks"));
	if (jv_get_kind(checks) == JV_KIND_ARRAY) {
		jv_array_foreach(checks, i, c) {
			jv name = jv_object_get(jv_copy(c), jv_string("name"));
			jv arch = jv_object_get(jv_copy(c), jv_string("arch"));
			jv detail = jv_object_get(c, jv_string("detail"));
			if (jv_get_kind(name) == JV_KIND_STRING && !strcmp(jv_string_value(name), "boot") &&
			    jv_get_kind(arch) == JV_KIND_STRING && jv_get_kind(detail) == JV_KIND_STRING)
				cd_debug("%s: %s: boot: %s", id, jv_string_value(arch), jv_string_value(detail));
			jv_free(name);
			jv_free(arch);
			jv_free(detail);
		}
	}
	jv_free(checks);
}

jv cd_verify_one(jv rec, void *opts)
{
	const struct cd_verify_opts *o = opts;
	struct cd_verify_failure fail;
	jv pushed = jv_object_get(jv_copy(rec), jv_string("pushed"));
	int has = jv_get_kind(pushed) == JV_KIND_OBJECT;
	jv_free(pushed);
	if (!has)
		return rec;
	char *id = cd_record_id(rec);
	jv v = cd_verify_record(rec, o, &fail);
	int ok = cd_jv_true(v, "ok");
	rec = jv_object_set(rec, jv_string("verified"), v);
	if (cd_verbosity() >= 2)
		say_boot(id, v);
	if (ok)
		cd_info("%s: verified", id);
	else /* the record loop says it on stderr */
		rec = cd_record_set_error(rec, fail.arch[0] ? fail.arch : NULL, "%s", fail.message);
	free(id);
	return rec;
}

int cd_verify_accel(struct cd_verify_opts *o, const char *mode)
{
	if (!strcmp(mode, "auto"))
		o->accel = CD_BOOT_AUTO;
	else if (!strcmp(mode, "kvm"))
		o->accel = CD_BOOT_KVM;
	else if (!strcmp(mode, "tcg"))
		o->accel = CD_BOOT_TCG;
	else
		return -1;
	return 0;
}
