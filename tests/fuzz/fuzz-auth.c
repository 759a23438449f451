/*
 * Auth files (auth.c cd_authfile_parse: containers-auth.json, docker
 * config.json; credhelper.c cd_credhelper_find: the helpers they name),
 * the base64 of their "auth" values, USER:PASS credentials and credential
 * helpers' answers.  Byte 0 picks the registry host to look up.
 */
#include "core/base64.h"
#include "registry/auth.h"
#include "registry/credhelper.h"
#include "fuzz.h"
#include "core/banned.h"

static const char *const hosts[] = {
	"quay.io", "127.0.0.1:5000", "docker.io", "localhost:5000", "[::1]:5000", "registry.example.com",
};

static void check_base64(const char *s, size_t n)
{
	char *dec, *again;
	size_t dlen, alen;
	if (cd_base64_decode(s, n, &dec, &dlen) < 0)
		return;
	FUZZ_ASSERT(dec[dlen] == '\0');
	char *enc = cd_base64_encode(dec, dlen);
	FUZZ_ASSERT(cd_base64_decode(enc, strlen(enc), &again, &alen) == 0);
	FUZZ_ASSERT(alen == dlen && !memcmp(again, dec, dlen));
	free(again);
	free(enc);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *host = hosts[data[0] % (sizeof(hosts) / sizeof(*hosts))];
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct cd_creds c;
	int r = cd_authfile_parse(text, len, "auth.json", host, &c);
	FUZZ_ASSERT(r >= -1 && r <= 1);
	if (r == 1) {
		FUZZ_ASSERT((c.token && *c.token && !c.pass) || (c.user && *c.user && c.pass));
		cd_creds_release(&c);
	} else {
		FUZZ_ASSERT(!c.user && !c.pass && !c.token);
	}
	char *name = NULL;
	enum cd_credhelper_kind kind;
	r = cd_credhelper_find(text, len, "auth.json", host, &name, &kind);
	FUZZ_ASSERT(r >= -1 && r <= 1 && (r == 1) == (name != NULL));
	free(name);
	r = cd_credhelper_answer(text, len, &c);
	FUZZ_ASSERT(r == 1 || r == -1);
	if (r == 1) {
		FUZZ_ASSERT((c.token && *c.token && !c.user) || (c.user && *c.user && c.pass && *c.pass));
		cd_creds_release(&c);
	}

	char *s = fuzz_strndup(text, len);
	check_base64(s, strlen(s));
	if (cd_creds_parse(&c, s) == 0) {
		FUZZ_ASSERT(c.user && *c.user && !strchr(c.user, ':') && c.pass);
		cd_creds_release(&c);
	}
	free(s);
	return 0;
}
