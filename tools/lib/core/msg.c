#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/msg.h"
#include "core/banned.h"

static const char *prog = "cdkit";
static int verbosity = 1;

/* Occupy a closed standard fd with /dev/null, opened so that using it fails. */
static void hold_fd(int fd, int flags)
{
	if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
		return;
	int n = open("/dev/null", flags);
	if (n >= 0 && n != fd) {
		dup2(n, fd);
		close(n);
	}
}

void cd_msg_init(const char *argv0)
{
	/* In fd order: open() returns the lowest free fd, which is the one held. */
	hold_fd(0, O_WRONLY);
	hold_fd(1, O_RDONLY);
	hold_fd(2, O_WRONLY);
	const char *slash = strrchr(argv0, '/');
	prog = slash ? slash + 1 : argv0;
	const char *v = getenv("CD_VERBOSE");
	if (v && *v == '1')
		verbosity = 2;
}

const char *cd_prog(void) { return prog; }
void cd_set_verbosity(int level) { verbosity = level; }
int cd_verbosity(void) { return verbosity; }

size_t cd_utf8_seq(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len;
	unsigned cp, min;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *cd_msg_escape(const char *in, char *out, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t len = strlen(in), o = 0;
	if (!n)
		return out;
	for (size_t i = 0; i < len;) {
		const unsigned char c = (unsigned char)in[i];
		size_t k = cd_utf8_seq(in + i, len - i);
		/* C0, DEL, and C1 (U+0080-U+009F: 0xc2 0x80-0x9f) control the terminal. */
		int ctl = c < 0x20 || c == 0x7f || (k == 2 && c == 0xc2 && (unsigned char)in[i + 1] < 0xa0);
		if (k && !ctl) {
			if (o + k >= n)
				break;
			memcpy(out + o, in + i, k);
			o += k;
			i += k;
			continue;
		}
		size_t m = k ? k : 1;
		if (o + 4 * m >= n)
			break;
		for (size_t j = 0; j < m; j++) {
			const unsigned char b = (unsigned char)in[i + j];
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hx[b >> 4];
			out[o++] = hx[b & 15];
		}
		i += m;
	}
	out[o] = '\0';
	return out;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char text[4096], safe[4096];
	vsnprintf(text, sizeof(text), fmt, ap);
	cd_msg_escape(text, safe, sizeof(safe));
	/* One write per line, so that messages of parallel workers don't mix. */
	fprintf(stderr, "%s: %s%s\n", prog, prefix, safe);
}

void cd_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void cd_warn(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void cd_info(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void cd_debug(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 2)
		return;
	va_start(ap, fmt);
	vreport("debug: ", fmt, ap);
	va_end(ap);
}

void cd_oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	abort();
}

void cd_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(CD_EXIT_USAGE);
}
