#ifndef CD_CERTS_H
#define CD_CERTS_H
/*
 * A registry's TLS settings as containers tools take them: a certificate
 * folder per registry host, /etc/containers/certs.d/<host>/ (<host> with
 * its port, as in references), or the one a --*-cert-dir flag names.  In
 * it, as podman reads it: every *.crt is a CA to trust (with --ca-file's
 * bundle, when there is one); a *.cert and the *.key of the same name are
 * the client certificate and its key (the first pair, by name).  A .cert
 * without its .key or a .key without its .cert is an error.
 *
 * The certs.d roots looked at, the first holding <host>/ wins:
 * $CD_CERTS_D alone when set (tests point it elsewhere), else
 * ~/.config/containers/certs.d, /etc/containers/certs.d and
 * /etc/docker/certs.d.
 */
#include <stddef.h>

#include "net/http.h"

struct cd_regtls {
	struct cd_tls tls;   /* what the registry's requests get; points into the fields below */
	char *dir;           /* the folder read, or NULL */
	char *ca_pem;
	char *cert, *key;
};

/*
 * t's settings for host: verification off when insecure; ca_file (may be
 * NULL); the certificate folder cert_dir, or when NULL host's folder of
 * certs.d (none is fine).  -1 (cd_seterr, naming the file) when a file of
 * the folder cannot be read or is over CD_CERT_FILE_MAX; t is then empty.
 */
int cd_regtls_init(struct cd_regtls *t, const char *host, int insecure, const char *ca_file,
		   const char *cert_dir);
void cd_regtls_release(struct cd_regtls *t);

#endif
