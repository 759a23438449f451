#include <string.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>

#include "core/error.h"
#include "vm/seed.h"
#include "core/banned.h"

static int add_file(struct archive *a, const char *name, const char *text)
{
	struct archive_entry *e = archive_entry_new();
	size_t len = strlen(text);
	int ret = 0;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(a, e) < ARCHIVE_WARN ||
	    archive_write_data(a, text, len) != (la_ssize_t)len)
		ret = cd_seterr("cannot add %s to the seed: %s", name, archive_error_string(a));
	archive_entry_free(e);
	return ret;
}

int cd_seed_write(const char *path, const char *meta_data, const char *user_data)
{
	struct archive *a = archive_write_new();
	int ret = -1;
	if (archive_write_set_format_iso9660(a) != ARCHIVE_OK ||
	    archive_write_set_option(a, "iso9660", "volume-id", "cidata") != ARCHIVE_OK ||
	    archive_write_set_option(a, "iso9660", "rockridge", "1") != ARCHIVE_OK ||
	    archive_write_set_option(a, "iso9660", "joliet", "1") != ARCHIVE_OK) {
		cd_seterr("cannot set up the ISO 9660 writer: %s", archive_error_string(a));
		goto out;
	}
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		cd_seterr("cannot create '%s': %s", path, archive_error_string(a));
		goto out;
	}
	if (add_file(a, "meta-data", meta_data) < 0 || add_file(a, "user-data", user_data) < 0)
		goto out;
	/* close writes the volume: its failure is a failed seed */
	if (archive_write_close(a) != ARCHIVE_OK) {
		cd_seterr("cannot write '%s': %s", path, archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	archive_write_free(a);
	return ret;
}
