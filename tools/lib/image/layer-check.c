#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/io.h"
#include "image/disk.h"
#include "image/layer-check.h"
#include "image/layer.h"
#include "core/banned.h"


/* Entry name without "./" and trailing slashes, for comparison and messages. */
static void clean_name(const char *in, char *out, size_t outlen)
{
	while (in[0] == '.' && in[1] == '/')
		in += 2;
	size_t n = strlen(in);
	while (n > 1 && in[n - 1] == '/')
		n--;
	if (n >= outlen)
		n = outlen - 1; /* only ever compared with short names and quoted */
	memcpy(out, in, n);
	out[n] = 0;
}

static int check_owner(struct archive_entry *e, const char *name, mode_t perm)
{
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	if (uid != CD_DISK_UID || gid != CD_DISK_GID)
		return cd_seterr("'%s' belongs to uid %lld gid %lld, not %d:%d (qemu)",
				 name, (long long)uid, (long long)gid, CD_DISK_UID, CD_DISK_GID);
	if ((archive_entry_perm(e) & perm) != perm)
		return cd_seterr("'%s' has mode %04o: the qemu user cannot %s it", name,
				 (unsigned)archive_entry_perm(e), perm == 0400 ? "read" : "open");
	return 0;
}

static int read_disk(struct archive *a, uint64_t size, int extract_fd,
		     struct cd_layer_check *res)
{
	unsigned char probe[CD_DISK_PROBE_LEN];
	size_t have = 0;
	int probed = 0, ret = -1;
	struct cd_qcow2_scan scan = { 0 };
	char *buf = cd_xmalloc(1 << 16);
	for (;;) {
		la_ssize_t got = archive_read_data(a, buf, 1 << 16);
		if (got < 0) {
			cd_seterr("%s", archive_error_string(a));
			goto out;
		}
		if (got <= 0)
			break;
		if (extract_fd >= 0 && cd_write_all(extract_fd, buf, (size_t)got) < 0) {
			cd_seterr("cannot write the extracted disk: %s", strerror(errno));
			goto out;
		}
		const char *p = buf;
		size_t n = (size_t)got;
		if (!probed) {
			size_t take = n < sizeof(probe) - have ? n : sizeof(probe) - have;
			memcpy(probe + have, p, take);
			have += take;
			if (have < sizeof(probe) && have < size)
				continue;
			if (cd_disk_probe(probe, have, size, &res->disk) < 0)
				goto out;
			probed = 1;
			if (res->disk.format == CD_DISK_QCOW2) {
				cd_qcow2_scan_init(&scan, &res->disk);
				if (cd_qcow2_scan_feed(&scan, probe, have) < 0)
					goto out;
			}
			p += take;
			n -= take;
		}
		if (res->disk.format == CD_DISK_QCOW2 && n && cd_qcow2_scan_feed(&scan, p, n) < 0)
			goto out;
	}
	if (!probed && cd_disk_probe(probe, have, size, &res->disk) < 0)
		goto out;
	if (res->disk.format == CD_DISK_QCOW2) {
		if (!probed) {
			cd_qcow2_scan_init(&scan, &res->disk);
			cd_qcow2_scan_feed(&scan, probe, have);
		}
		if (cd_qcow2_scan_finish(&scan) < 0)
			goto out;
		res->unchecked = scan.unchecked;
	}
	ret = 0;
out:
	if (ret < 0)
		cd_adderr("disk/disk.img");
	cd_qcow2_scan_release(&scan);
	free(buf);
	return ret;
}

static int filter_ok(struct archive *a, enum cd_layer_filter want)
{
	static const char *names[] = { "any", "uncompressed", "gzip", "zstd" };
	int code = archive_filter_code(a, 0);
	enum cd_layer_filter got = code == ARCHIVE_FILTER_NONE ? CD_FILTER_NONE
		: code == ARCHIVE_FILTER_GZIP ? CD_FILTER_GZIP
		: code == ARCHIVE_FILTER_ZSTD ? CD_FILTER_ZSTD : CD_FILTER_ANY;
	if (got == CD_FILTER_ANY)
		return cd_seterr("layer compression '%s' is not gzip, zstd or none", archive_filter_name(a, 0));
	if (want != CD_FILTER_ANY && want != got)
		return cd_seterr("layer is %s but its media type says %s", names[got], names[want]);
	return 0;
}

static int check_entries(struct archive *a, int extract_fd, struct cd_layer_check *res)
{
	struct archive_entry *e;
	int have_disk = 0;
	for (;;) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return cd_seterr("layer is not a readable tar: %s", archive_error_string(a));
		char name[128];
		clean_name(archive_entry_pathname(e) ? archive_entry_pathname(e) : "", name, sizeof(name));
		mode_t type = archive_entry_filetype(e);
		if (!strcmp(name, "disk")) {
			if (type != (mode_t)AE_IFDIR)
				return cd_seterr("'disk' is not a directory");
			if (check_owner(e, "disk/", 0500) < 0)
				return -1;
			res->have_dir = 1;
			continue;
		}
		if (strcmp(name, "disk/disk.img"))
			return cd_seterr("unexpected entry '%s' in the layer (only disk/ and disk/disk.img belong there)",
					 name);
		if (have_disk)
			return cd_seterr("disk/disk.img appears twice in the layer");
		have_disk = 1;
		if (type != (mode_t)AE_IFREG || archive_entry_hardlink(e))
			return cd_seterr("disk/disk.img is not a regular file");
		if (check_owner(e, "disk/disk.img", 0400) < 0)
			return -1;
		if (archive_entry_size(e) <= 0)
			return cd_seterr("disk/disk.img is empty");
		res->disk_bytes = (uint64_t)archive_entry_size(e);
		if (read_disk(a, res->disk_bytes, extract_fd, res) < 0)
			return -1;
	}
	if (!have_disk)
		return cd_seterr("the layer has no disk/disk.img");
	return 0;
}

/*
 * Two readers: a raw one undoes the compression, and its bytes feed both
 * the diff_id hash and the tar reader (through this callback).
 */
struct untar {
	struct archive *raw;
	struct cd_hasher h;
	char buf[1 << 16];
};

static la_ssize_t untar_read(struct archive *tar, void *ctx, const void **out)
{
	struct untar *u = ctx;
	la_ssize_t n = archive_read_data(u->raw, u->buf, sizeof(u->buf));
	if (n < 0) {
		archive_set_error(tar, EIO, "%s", archive_error_string(u->raw));
		return -1;
	}
	cd_hasher_update(&u->h, u->buf, (size_t)n);
	*out = u->buf;
	return n;
}

static int check_stream(struct untar *u, int fd, enum cd_layer_filter want, int extract_fd,
			struct cd_layer_check *res)
{
	struct archive_entry *e;
	struct archive *tar;
	char hex[CD_HEX_MAX];
	int ret;
	archive_read_support_filter_gzip(u->raw);
	archive_read_support_filter_zstd(u->raw);
	archive_read_support_format_raw(u->raw);
	if (archive_read_open_fd(u->raw, fd, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(u->raw, &e) != ARCHIVE_OK)
		return cd_seterr("layer is not readable: %s", archive_error_string(u->raw));
	if (filter_ok(u->raw, want) < 0)
		return -1;
	tar = archive_read_new();
	archive_read_support_format_tar(tar);
	if (archive_read_open(tar, u, NULL, untar_read, NULL) != ARCHIVE_OK)
		ret = cd_seterr("layer is not a readable tar: %s", archive_error_string(tar));
	else
		ret = check_entries(tar, extract_fd, res);
	archive_read_close(tar);
	archive_read_free(tar);
	if (ret < 0)
		return -1;
	/* what the tar reader left (end blocks, padding) is part of the diff_id */
	la_ssize_t n;
	while ((n = archive_read_data(u->raw, u->buf, sizeof(u->buf))) > 0)
		cd_hasher_update(&u->h, u->buf, (size_t)n);
	if (n < 0)
		return cd_seterr("layer is not readable: %s", archive_error_string(u->raw));
	cd_hasher_final_hex(&u->h, hex);
	return cd_snprintf(res->diff_id, sizeof(res->diff_id), "sha256:%s", hex) < 0 ? -1 : 0;
}

int cd_layer_check(int fd, enum cd_layer_filter want, int extract_fd, struct cd_layer_check *res)
{
	struct untar *u = cd_xcalloc(1, sizeof(*u));
	int ret = -1;
	memset(res, 0, sizeof(*res));
	u->raw = archive_read_new();
	if (cd_hasher_init(&u->h, CD_HASH_SHA256) == 0) {
		ret = check_stream(u, fd, want, extract_fd, res);
		cd_hasher_release(&u->h);
	}
	archive_read_close(u->raw);
	archive_read_free(u->raw);
	free(u);
	/* Drain: the caller's digest must see every byte of the blob. */
	char buf[1 << 14];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	return ret;
}
