/* Unit tests for checksum file parsing (checksum.h), incl. hostile input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "upstream/checksum.h"
#include "unit.h"
#include "core/banned.h"

#define H64 "84e67ec05f085bbf2fe42d3a341bfff4a4800ef1957655443638522c4c73e02c"

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	p = cd_xmalloc((size_t)n + 1);
	*len = fread(p, 1, (size_t)n, fp);
	fclose(fp);
	return p;
}

static void parse(const char *text, struct cd_checksum_list *l)
{
	memset(l, 0, sizeof(*l));
	cd_checksum_parse(text, strlen(text), l);
}

static void test_forms(void)
{
	struct cd_checksum_list l;
	const struct cd_checksum_entry *e;

	parse("SHA256 (a b.qcow2) = " H64 "\n", &l);
	CHECK(l.n == 1);
	CHECK_STR(l.v[0].name, "a b.qcow2");
	CHECK_STR(l.v[0].digest, "sha256:" H64);
	CHECK(l.v[0].size == -1);
	cd_checksum_list_release(&l);

	parse(H64 "  gnu.img\r\n" H64 " *star.img\n" H64 " one.img", &l);
	CHECK(l.n == 3);
	CHECK_STR(l.v[0].name, "gnu.img");
	CHECK_STR(l.v[1].name, "star.img");
	CHECK_STR(l.v[2].name, "one.img");
	cd_checksum_list_release(&l);

	parse(H64 "\n", &l); /* single bare line (.sha256 files) */
	CHECK(l.n == 1 && !strcmp(l.v[0].name, ""));
	cd_checksum_list_release(&l);

	parse("84E67EC05F085BBF2FE42D3A341BFFF4A4800EF1957655443638522C4C73E02C  up.img\n", &l);
	CHECK(l.n == 1 && !strcmp(l.v[0].digest, "sha256:" H64));
	cd_checksum_list_release(&l);

	/* sha512 in both forms; the length tells GNU lines apart */
	parse("SHA512 (x) = " H64 H64 "\n" H64 H64 "  y\n", &l);
	CHECK(l.n == 2);
	CHECK(!strncmp(l.v[0].digest, "sha512:", 7) && strlen(l.v[0].digest) == 7 + 128);
	CHECK(!strncmp(l.v[1].digest, "sha512:", 7));
	cd_checksum_list_release(&l);

	/* "# name: N bytes" gives the size, before or after the entry */
	parse("# a.qcow2: 755043840 bytes\nSHA256 (a.qcow2) = " H64 "\n"
	      "SHA256 (b) = " H64 "\n# b: 12 bytes\n# c: 99 bytes\n", &l);
	CHECK(l.n == 2);
	e = cd_checksum_find(&l, "a.qcow2");
	CHECK(e && e->size == 755043840);
	e = cd_checksum_find(&l, "b");
	CHECK(e && e->size == 12);
	CHECK(cd_checksum_find(&l, "c") == NULL);
	cd_checksum_list_release(&l);
}

static void test_hostile(void)
{
	struct cd_checksum_list l;

	/* truncated hex, wrong algorithm length, junk around */
	parse("SHA256 (cut.qcow2) = 84e67ec05f085bbf2fe42d3a\n"
	      "SHA256 (long) = " H64 "00\n"
	      "SHA512 (short) = " H64 "\n"
	      "MD5 (m) = 0123456789abcdef0123456789abcdef\n"
	      "84e67ec05f085bbf2fe42d3a341bfff4a4800ef19576554436385  shorthex\n"
	      H64 "x  nothex\n"
	      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
	      "-----BEGIN PGP SIGNATURE-----\niQIzBAEBCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n"
	      "SHA256 (noclose = " H64 "\n"
	      "# x: lots bytes\n#: 5 bytes\n# y: 5 bytesX\n"
	      "SHA256 (ok) = " H64, &l);
	CHECK(l.n == 1);
	CHECK(l.n == 1 && !strcmp(l.v[0].name, "ok"));
	cd_checksum_list_release(&l);

	parse("", &l);
	CHECK(l.n == 0);
	cd_checksum_list_release(&l);

	{ /* NUL bytes inside a line: the line is ignored */
		static const char nul[] = H64 "  a\0b\n" H64 "  c\n";
		memset(&l, 0, sizeof(l));
		cd_checksum_parse(nul, sizeof(nul) - 1, &l);
		CHECK(l.n == 1 && !strcmp(l.v[0].name, "c"));
		cd_checksum_list_release(&l);
	}
}

static void test_files(void)
{
	struct cd_checksum_list l = { 0 };
	const struct cd_checksum_entry *e;
	size_t len, i;
	char *t;

	/* CentOS Stream 9 BSD file with a wget log appended */
	t = slurp("tests/fixtures/upstream/hashsum__broken.checksum", &len);
	CHECK(t != NULL);
	if (t) {
		cd_checksum_parse(t, len, &l);
		CHECK(l.n == 5);
		e = cd_checksum_find(&l, "CentOS-Stream-GenericCloud-9-20211119.0.x86_64.qcow2");
		CHECK(e && !strcmp(e->digest, "sha256:" H64) && e->size == 746657280);
		for (i = 0; i < l.n; i++)
			CHECK(!strstr(l.v[i].name, "CHECKSUM") && !strstr(l.v[i].name, "--"));
		cd_checksum_list_release(&l);
		free(t);
	}

	/* both dated and -latest names are listed; the parser keeps both (the catalog picks) */
	t = slurp("tests/fixtures/upstream/centosstream__centos-stream10-x86_64.checksum", &len);
	CHECK(t != NULL);
	if (t) {
		cd_checksum_parse(t, len, &l);
		e = cd_checksum_find(&l, "CentOS-Stream-GenericCloud-10-latest.x86_64.qcow2");
		CHECK(e != NULL);
		e = cd_checksum_find(&l, "CentOS-Stream-GenericCloud-10-20241118.0.x86_64.qcow2");
		CHECK(e && e->size == 954073088);
		cd_checksum_list_release(&l);
		free(t);
	}

	t = slurp("tests/fixtures/upstream/hashsum__gnu.checksum", &len);
	CHECK(t != NULL);
	if (t) {
		cd_checksum_parse(t, len, &l);
		CHECK(l.n == 33); /* the last line has no newline */
		CHECK_STR(l.v[0].name, "rhcos-4.9.0-x86_64-aws.x86_64.vmdk.gz");
		cd_checksum_list_release(&l);
		free(t);
	}
}

static void test_normalize(void)
{
	char out[160];

	CHECK(cd_checksum_normalize("sha256:" H64, out, sizeof(out)) == 0);
	CHECK_STR(out, "sha256:" H64);
	/* Debian: unpadded base64 sha512 */
	CHECK(cd_checksum_normalize("sha512:pY2GUl11/Y4TmiMCUxzl0qt17wJzz+ePnVOq2ksj79RfhDO0gG+kVwz+mByPrib15ehVy9ZrohmIYvKBJf0tRQ",
				    out, sizeof(out)) == 0);
	CHECK_STR(out, "sha512:a58d86525d75fd8e139a2302531ce5d2ab75ef0273cfe78f9d53aada4b23efd4"
		  "5f8433b4806fa4570cfe981c8fae26f5e5e855cbd66ba2198862f28125fd2d45");
	CHECK(cd_checksum_normalize("sha512:pY2GUl11", out, sizeof(out)) == -1);
	CHECK(cd_checksum_normalize("sha256:" H64 "00", out, sizeof(out)) == -1);
	CHECK(cd_checksum_normalize("md5:0123456789abcdef0123456789abcdef", out, sizeof(out)) == -1);
	CHECK(cd_checksum_normalize(H64, out, sizeof(out)) == -1);
	CHECK(cd_checksum_normalize("sha256:!!!!", out, sizeof(out)) == -1);
	CHECK(cd_checksum_normalize("sha256:" H64, out, 20) == -1);
}

/* Which "# name: N bytes" comment an entry takes, and how long that takes. */
static void test_sizes(void)
{
	struct cd_checksum_list l;

	/* the first comment after the entry, else the first one in the file */
	parse("# a: 1 bytes\n" H64 "  a\n# a: 2 bytes\n# a: 3 bytes\n" H64 "  a\n"
	      H64 "  b\n" H64 "  a\n# c: 4 bytes\n", &l);
	CHECK(l.n == 4);
	CHECK(l.n == 4 && l.v[0].size == 2 && l.v[1].size == 1 && l.v[2].size == -1 && l.v[3].size == 1);
	CHECK(l.n == 4 && !strcmp(l.v[2].name, "b") && !strcmp(l.v[3].name, "a"));
	cd_checksum_list_release(&l);

	/*
	 * An upstream (or a mirror) serving 8 MiB of comments: n^2 name
	 * comparisons took a quarter of an hour; a bounded wait, not a timing.
	 */
	struct cd_buf b;
	cd_buf_init(&b, 0);
	for (unsigned i = 0; b.len < (8u << 20); i++) {
		cd_buf_putf(&b, "# f%u: %u bytes\n", i, i);
		if (i % 16 == 0)
			cd_buf_putf(&b, H64 "  f%u\n", i);
	}
	alarm(60);
	memset(&l, 0, sizeof(l));
	cd_checksum_parse(b.p, b.len, &l);
	alarm(0);
	CHECK(l.n > 10000);
	CHECK(l.n > 10000 && l.v[0].size == 0 && l.v[1].size == 16 && l.v[2].size == 32);
	cd_checksum_list_release(&l);
	cd_buf_release(&b);
}

int main(void)
{
	test_forms();
	test_hostile();
	test_sizes();
	test_files();
	test_normalize();
	return unit_done("test-checksum");
}
