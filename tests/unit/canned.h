#ifndef CD_CANNED_H
#define CD_CANNED_H
/*
 * A canned HTTP answer on loopback, for tests of what libcurl and
 * net/http make of it: a thread accepts one connection, reads the
 * request's head, sends the answer as given and hangs up.  Used by
 * tests/unit/test-http.c and tests/fuzz/fuzz-headers.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "net/http.h"

struct canned {
	int lfd;
	const char *answer;
	size_t len;
};

/* Accept one connection, read the request's head, send the answer, hang up. */
static inline void *serve(void *arg)
{
	struct canned *c = arg;
	int fd = accept(c->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	char buf[4096];
	size_t have = 0;
	ssize_t n;
	while (have < sizeof(buf) - 1 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	/* the client may hang up early (a header block too large): no SIGPIPE */
	(void)send(fd, c->answer, c->len, MSG_NOSIGNAL);
	close(fd);
	return NULL;
}

/* GET a canned answer (len bytes) into q; cd_http_perform()'s result. */
static inline int get_canned(struct cd_http_req *q, const char *answer, size_t len, char *url, size_t urlsz)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct canned c = { socket(AF_INET, SOCK_STREAM, 0), answer, len };
	if (c.lfd < 0 || bind(c.lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(c.lfd, 1) < 0 ||
	    getsockname(c.lfd, (struct sockaddr *)&a, &al) < 0) {
		perror("listen");
		exit(1);
	}
	if (cd_snprintf(url, urlsz, "http://127.0.0.1:%d/", ntohs(a.sin_port)) < 0)
		exit(1);
	pthread_t t;
	pthread_create(&t, NULL, serve, &c);
	cd_http_req_init(q, url);
	q->flags = CD_HTTP_NO_RETRY | CD_HTTP_NO_MIRROR;
	int r = cd_http_perform(q);
	pthread_join(t, NULL);
	close(c.lfd);
	return r;
}

#endif
