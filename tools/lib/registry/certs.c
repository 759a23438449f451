/* A registry's TLS settings: certs.d and certificate folders (certs.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/io.h"
#include "core/limits.h"
#include "registry/certs.h"
#include "core/banned.h"

#define CERT_FILES_MAX 64 /* files of one certificate folder looked at */

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && !strcmp(s + n - k, suffix);
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* host's folder under the first certs.d root that has one, or NULL. */
static char *certs_d_dir(const char *host)
{
	const char *env = getenv("CD_CERTS_D"), *home = getenv("HOME");
	char *roots[3] = { NULL, NULL, NULL };
	if (env && *env) {
		roots[0] = cd_xstrdup(env);
	} else {
		if (home && *home)
			roots[0] = cd_xasprintf("%s/.config/containers/certs.d", home);
		roots[1] = cd_xstrdup("/etc/containers/certs.d");
		roots[2] = cd_xstrdup("/etc/docker/certs.d");
	}
	char *found = NULL;
	for (int i = 0; i < 3; i++) {
		if (roots[i] && !found) {
			char *d = cd_xasprintf("%s/%s", roots[i], host);
			if (is_dir(d))
				found = d;
			else
				free(d);
		}
		free(roots[i]);
	}
	return found;
}

/* Append file dir/name to b (a CA in PEM), with a newline between files. */
static int add_ca(struct cd_buf *b, const char *path)
{
	char *text;
	size_t len;
	int r = cd_read_file(path, CD_CERT_FILE_MAX, 0, &text, &len);
	if (r < 0)
		return -1;
	r = cd_buf_add(b, text, len) | cd_buf_adds(b, "\n");
	free(text);
	return r < 0 ? cd_seterr("%s: too many CA certificates", path) : 0;
}

static int read_dir(struct cd_regtls *t, const char *dir, const char *ca_file)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return cd_seterr("cannot read certificate folder '%s': %s", dir, strerror(errno));
	struct cd_buf ca;
	cd_buf_init(&ca, CERT_FILES_MAX * (size_t)CD_CERT_FILE_MAX);
	int ret = 0, cas = 0;
	if (ca_file && add_ca(&ca, ca_file) < 0)
		ret = -1;
	for (int i = 0; i < n && i < CERT_FILES_MAX && !ret; i++) {
		const char *name = ents[i]->d_name;
		char *p = cd_xasprintf("%s/%s", dir, name);
		if (has_suffix(name, ".crt")) {
			ret = add_ca(&ca, p);
			cas++;
		} else if (has_suffix(name, ".cert") && !t->cert) {
			char *key = cd_xasprintf("%.*s.key", (int)(strlen(p) - 5), p);
			if (access(key, R_OK) < 0) {
				ret = cd_seterr("certificate folder '%s': %s has no key %s", dir, name, key);
				free(key);
			} else {
				t->cert = p;
				t->key = key;
				p = NULL;
			}
		} else if (has_suffix(name, ".key")) {
			char *cert = cd_xasprintf("%.*s.cert", (int)(strlen(p) - 4), p);
			if (access(cert, F_OK) < 0)
				ret = cd_seterr("certificate folder '%s': %s has no certificate %s", dir, name, cert);
			free(cert);
		}
		free(p);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (!ret && cas)
		t->ca_pem = cd_buf_detach(&ca, &t->tls.ca_pem_len);
	cd_buf_release(&ca);
	return ret;
}

int cd_regtls_init(struct cd_regtls *t, const char *host, int insecure, const char *ca_file,
		   const char *cert_dir)
{
	memset(t, 0, sizeof(*t));
	t->dir = cert_dir ? cd_xstrdup(cert_dir) : certs_d_dir(host);
	if (t->dir && read_dir(t, t->dir, ca_file) < 0) {
		cd_regtls_release(t);
		return -1;
	}
	t->tls.insecure = insecure;
	t->tls.ca_file = ca_file;
	t->tls.ca_pem = t->ca_pem;
	t->tls.cert_file = t->cert;
	t->tls.key_file = t->key;
	return 0;
}

void cd_regtls_release(struct cd_regtls *t)
{
	free(t->dir);
	free(t->ca_pem);
	free(t->cert);
	free(t->key);
	memset(t, 0, sizeof(*t));
}
