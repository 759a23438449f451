#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <openssl/rand.h>

#include "boot.h"
#include "buf.h"
#include "digest.h"
#include "msg.h"
#include "seed.h"
#include "banned.h"

static const struct boot_arch {
	const char *arch, *qemu, *machine;
} arches[] = {
	{ "amd64", "qemu-system-x86_64", "x86_64" },
	{ "arm64", "qemu-system-aarch64", "aarch64" },
	{ "s390x", "qemu-system-s390x", "s390x" },
};

/* UEFI firmware for arm64 guests, from Debian's qemu-efi-aarch64. */
static const char *arm64_firmware[] = {
	"/usr/share/qemu-efi-aarch64/QEMU_EFI.fd",
	"/usr/share/AAVMF/AAVMF_CODE.fd",
	"/usr/share/qemu/edk2-aarch64-code.fd",
};

static const struct boot_arch *find_arch(const char *arch)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (!strcmp(arches[i].arch, arch))
			return &arches[i];
	return NULL;
}

const char *cd_boot_qemu_name(const char *arch)
{
	const struct boot_arch *a = find_arch(arch);
	return a ? a->qemu : NULL;
}

/* The executable bin in $PATH, or NULL.  Caller frees. */
static char *find_in_path(const char *bin)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (const char *p = path; ; ) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *cand = cd_xasprintf("%.*s/%s", (int)n, n ? p : ".", bin);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!end)
			return NULL;
		p = end + 1;
	}
}

static int kvm_usable(const struct boot_arch *a)
{
	struct utsname u;
	if (uname(&u) < 0 || strcmp(u.machine, a->machine))
		return 0;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

char *cd_boot_user_data(const char *marker)
{
	/*
	 * cloud-init ignores the comment line; the test disk's init reads it.
	 * Real guests print the marker from runcmd and in the final message.
	 */
	return cd_xasprintf("#cloud-config\n"
			    "#cdkit-marker: %s\n"
			    "runcmd:\n"
			    "  - [sh, -c, \"echo %s > /dev/console\"]\n"
			    "final_message: \"%s\"\n", marker, marker, marker);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The console's last non-empty line, printable ASCII only, for messages. */
struct console_tail {
	char line[160], last[160];
	size_t n;
};

static void tail_add(struct console_tail *t, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n' || c == '\r') {
			if (t->n) {
				memcpy(t->last, t->line, t->n);
				t->last[t->n] = 0;
			}
			t->n = 0;
		} else if (c >= 0x20 && c < 0x7f && c != '\'' && t->n < sizeof(t->line) - 1) {
			t->line[t->n++] = (char)c;
		}
	}
}

static const char *tail_last(struct console_tail *t)
{
	if (t->n) {
		memcpy(t->last, t->line, t->n);
		t->last[t->n] = 0;
	}
	return t->last[0] ? t->last : "(nothing)";
}

struct argv {
	char *v[48];
	int n;
};

static void arg(struct argv *a, const char *s)
{
	if (a->n < (int)(sizeof(a->v) / sizeof(a->v[0])) - 1)
		a->v[a->n++] = cd_xstrdup(s);
}

static void argv_release(struct argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

static int build_argv(struct argv *a, const struct boot_arch *ba, const char *qemu,
		      const char *disk, const char *format, const char *seed, int memory_mb)
{
	char *s;
	arg(a, qemu);
	if (!strcmp(ba->arch, "arm64")) {
		const char *fw = NULL;
		for (size_t i = 0; i < sizeof(arm64_firmware) / sizeof(arm64_firmware[0]) && !fw; i++)
			if (access(arm64_firmware[i], R_OK) == 0)
				fw = arm64_firmware[i];
		if (!fw)
			return cd_seterr("no UEFI firmware for arm64 guests (install qemu-efi-aarch64)");
		arg(a, "-machine");
		arg(a, "virt");
		arg(a, "-bios");
		arg(a, fw);
	} else if (!strcmp(ba->arch, "s390x")) {
		arg(a, "-machine");
		arg(a, "s390-ccw-virtio");
	}
	if (kvm_usable(ba)) {
		arg(a, "-accel");
		arg(a, "kvm");
		arg(a, "-cpu");
		arg(a, "host");
	} else {
		arg(a, "-accel");
		arg(a, "tcg");
		if (!strcmp(ba->arch, "arm64")) {
			arg(a, "-cpu");
			arg(a, "max");
		}
	}
	arg(a, "-m");
	s = cd_xasprintf("%d", memory_mb);
	arg(a, s);
	free(s);
	/* the guest is untrusted: user networking cut off from the host and the world */
	arg(a, "-nic");
	arg(a, "user,restrict=on");
	arg(a, "-nographic");
	arg(a, "-monitor");
	arg(a, "none");
	arg(a, "-no-reboot");
	arg(a, "-drive");
	s = cd_xasprintf("file=%s,format=%s,if=virtio,snapshot=on", disk, format);
	arg(a, s);
	free(s);
	arg(a, "-drive");
	s = cd_xasprintf("file=%s,format=raw,if=virtio,readonly=on", seed);
	arg(a, s);
	free(s);
	return 0;
}

/*
 * fork+exec rather than posix_spawn: the child asks for SIGKILL when its
 * parent thread dies, so a cd-verify killed mid-boot leaves no VM behind.
 * Only async-signal-safe calls between fork and exec.
 */
static pid_t spawn(struct argv *a, int out_fd)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return cd_seterr("cannot start %s: %s", a->v[0], strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
			_exit(127);
		execv(a->v[0], a->v);
		_exit(127);
	}
	return pid;
}

enum watch_end { WATCH_MARKER, WATCH_EXIT, WATCH_TIMEOUT, WATCH_ERROR };

/* Read the console until the marker, EOF (qemu ended) or the deadline. */
static enum watch_end watch(int fd, const char *marker, int timeout, struct console_tail *t)
{
	size_t mlen = strlen(marker);
	char buf[8192 + 64];
	size_t carry = 0;  /* bytes kept from the last read, so a split marker is found */
	double deadline = now_s() + timeout;
	for (;;) {
		double left = deadline - now_s();
		if (left <= 0)
			return WATCH_TIMEOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return WATCH_ERROR;
		if (r == 0)
			continue;
		ssize_t n = read(fd, buf + carry, sizeof(buf) - carry);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return WATCH_EXIT;
		tail_add(t, buf + carry, (size_t)n);
		size_t have = carry + (size_t)n;
		if (memmem(buf, have, marker, mlen))
			return WATCH_MARKER;
		carry = have < mlen ? have : mlen - 1;
		memmove(buf, buf + have - carry, carry);
	}
}

int cd_boot_disk(const char *arch, const char *disk, const char *format,
		 const struct cd_boot_opts *o, char *detail, size_t detail_len)
{
	const struct boot_arch *ba = find_arch(arch);
	struct argv a = { .n = 0 };
	struct console_tail tail = { .n = 0 };
	unsigned char rnd[8];
	char hex[17], marker[32], seed[4096];
	char *qemu = NULL, *ud = NULL;
	int fds[2] = { -1, -1 }, ret = -1, seeded = 0;
	pid_t pid = -1;
	double started;

	if (!ba)
		return cd_seterr("cannot boot architecture '%s'", arch);
	qemu = find_in_path(ba->qemu);
	if (!qemu)
		return cd_seterr("%s not found: cannot boot %s disks on this machine", ba->qemu, arch);
	/* qemu's -drive splits on commas */
	if (strchr(disk, ',') || strchr(o->workdir, ','))
		goto out_comma;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		cd_seterr("cannot make a random marker");
		goto out;
	}
	cd_hex(rnd, sizeof(rnd), hex);
	if (cd_snprintf(marker, sizeof(marker), "cdkit-boot-%s", hex) < 0 ||
	    cd_snprintf(seed, sizeof(seed), "%s/seed-%s.iso", o->workdir, hex) < 0)
		goto out;
	ud = cd_boot_user_data(marker);
	char *md = cd_xasprintf("instance-id: cdkit-%s\nlocal-hostname: cdkit-verify\n", hex);
	int sr = cd_seed_write(seed, md, ud);
	free(md);
	seeded = 1;
	if (sr < 0 || build_argv(&a, ba, qemu, disk, format, seed, o->memory_mb ? o->memory_mb : 1024) < 0)
		goto out;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		cd_seterr("pipe: %s", strerror(errno));
		goto out;
	}
	started = now_s();
	pid = spawn(&a, fds[1]);
	close(fds[1]);
	fds[1] = -1;
	if (pid < 0)
		goto out;
	enum watch_end end = watch(fds[0], marker, o->timeout, &tail);
	int status = 0;
	if (end != WATCH_EXIT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	switch (end) {
	case WATCH_MARKER:
		if (detail)
			(void)cd_snprintf(detail, detail_len, "marker seen on the serial console after %.0f s (%s)",
				 now_s() - started, ba->qemu);
		ret = 0;
		break;
	case WATCH_TIMEOUT:
		cd_seterr("timeout: no marker on the serial console within %d s; last console line: '%s'",
			  o->timeout, tail_last(&tail));
		break;
	case WATCH_EXIT:
		cd_seterr("%s ended (%s %d) before the marker appeared; last console line: '%s'",
			  ba->qemu, WIFEXITED(status) ? "status" : "signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), tail_last(&tail));
		break;
	case WATCH_ERROR:
		cd_seterr("cannot read the serial console: %s", strerror(errno));
		break;
	}
	goto out;
out_comma:
	cd_seterr("cannot boot '%s': qemu cannot take a path with a comma", disk);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (seeded)
		unlink(seed);
	argv_release(&a);
	free(ud);
	free(qemu);
	return ret;
}
