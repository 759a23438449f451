/* Unit tests for the NoCloud seed: ISO 9660 volume id "cidata", both files, read back with libarchive's reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "core/error.h"
#include "core/msg.h"
#include "vm/boot.h"
#include "vm/seed.h"
#include "unit.h"
#include "core/banned.h"

/* The volume identifier of the ISO 9660 primary volume descriptor (sector 16). */
static int volume_id(const char *path, char out[33])
{
	unsigned char pvd[2048];
	FILE *fp = fopen(path, "rb");
	int ok = fp && fseek(fp, 16 * 2048, SEEK_SET) == 0 && fread(pvd, 1, sizeof(pvd), fp) == sizeof(pvd);
	if (fp)
		fclose(fp);
	if (!ok || pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5))
		return -1;
	memcpy(out, pvd + 40, 32);
	out[32] = 0;
	for (int i = 31; i >= 0 && out[i] == ' '; i--)
		out[i] = 0;
	return 0;
}

static void test_seed(void)
{
	char path[] = "/tmp/test-seed.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	char *ud = cd_boot_user_data("cdkit-boot-0123456789abcdef");
	CHECK(cd_seed_write(path, "instance-id: x\n", ud) == 0);

	char vol[33];
	CHECK(volume_id(path, vol) == 0);
	CHECK_STR(vol, "CIDATA"); /* ISO 9660 d-characters; Joliet and blkid say "cidata" */

	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int found_md = 0, found_ud = 0;
	archive_read_support_format_iso9660(a);
	CHECK(archive_read_open_filename(a, path, 10240) == ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char buf[1024] = "";
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf) - 1);
		if (n >= 0)
			buf[n] = 0;
		if (!strcmp(archive_entry_pathname(e), "meta-data")) {
			found_md = 1;
			CHECK_STR(buf, "instance-id: x\n");
		} else if (!strcmp(archive_entry_pathname(e), "user-data")) {
			found_ud = 1;
			CHECK_STR(buf, ud);
		}
	}
	CHECK(found_md && found_ud);
	archive_read_free(a);
	/* the marker line the test disk's init reads, and a cloud-config header */
	CHECK(!strncmp(ud, "#cloud-config\n#cdkit-marker: cdkit-boot-0123456789abcdef\n", 57));
	free(ud);
	unlink(path);

	CHECK(cd_seed_write("/nonexistent-dir/seed.iso", "a", "b") == -1);
	CHECK(strstr(cd_errmsg(), "/nonexistent-dir/seed.iso") != NULL);
}

int main(void)
{
	cd_msg_init("test-seed");
	test_seed();
	return unit_done("test-seed");
}
