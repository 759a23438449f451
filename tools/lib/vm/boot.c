#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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

#include "core/arch.h"
#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "vm/boot.h"
#include "vm/seed.h"
#include "core/banned.h"

/*
 * A probe guest: a few instructions at the address the vCPU starts from,
 * written into a -bios image, that end qemu with a status it gives only
 * when the guest ran them.
 */
struct kvm_probe {
	const unsigned char *code;
	size_t len;
	size_t image_size;   /* the -bios file */
	size_t offset;       /* where the code goes in it */
	const char *device;  /* an extra -device, or NULL */
	int status;          /* qemu's exit status when the guest ran */
};

/*
 * x86: the reset vector is the last 16 bytes of a 64 KiB BIOS (qemu wants
 * a multiple of 64 KiB).  mov al,0x2a; out 0xf4,al; hlt; jmp $-1: the
 * isa-debug-exit port makes qemu exit with (0x2a << 1) | 1.
 */
static const unsigned char probe_x86_code[] = { 0xb0, 0x2a, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd };
static const struct kvm_probe probe_x86 = {
	probe_x86_code, sizeof(probe_x86_code), 65536, 65536 - 16,
	"isa-debug-exit,iobase=0xf4,iosize=0x04", 85,
};

/*
 * arm64 virt: the vCPU starts in the flash at 0, at EL1 under KVM, where
 * PSCI is called with hvc.  w0 = 0x84000008 (SYSTEM_OFF); hvc #0; b .:
 * qemu powers off and exits 0.
 */
static const unsigned char probe_arm64_code[] = {
	0x00, 0x01, 0x80, 0x52,  /* movz w0, #0x0008 */
	0x00, 0x80, 0xb0, 0x72,  /* movk w0, #0x8400, lsl #16 */
	0x02, 0x00, 0x00, 0xd4,  /* hvc #0 */
	0x00, 0x00, 0x00, 0x14,  /* b . */
};
static const struct kvm_probe probe_arm64 = {
	probe_arm64_code, sizeof(probe_arm64_code), sizeof(probe_arm64_code), 0, NULL, 0,
};

#define PROBE_TIMEOUT 20  /* seconds; the probe guest ends in well under one */

/* What qemu needs of each architecture of core/arch.h, in its order. */
static const struct boot_arch {
	const char *qemu, *machine;     /* the qemu binary, and uname's name of a host that runs it under KVM */
	const struct kvm_probe *probe;  /* NULL: none, KVM only with --accel kvm */
} arches[CD_NARCH] = {
	{ "qemu-system-x86_64", "x86_64", &probe_x86 },     /* amd64 */
	{ "qemu-system-aarch64", "aarch64", &probe_arm64 }, /* arm64 */
	{ "qemu-system-s390x", "s390x", NULL },             /* s390x */
};

/* UEFI firmware for arm64 guests, from Debian's qemu-efi-aarch64. */
static const char *arm64_firmware[] = {
	"/usr/share/qemu-efi-aarch64/QEMU_EFI.fd",
	"/usr/share/AAVMF/AAVMF_CODE.fd",
	"/usr/share/qemu/edk2-aarch64-code.fd",
};

static const struct boot_arch *find_arch(const char *arch)
{
	int i = cd_arch_index(arch);
	return i < 0 ? NULL : &arches[i];
}

static const char *arch_name(const struct boot_arch *ba)
{
	return cd_arches[ba - arches];
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

/*
 * The console's last non-empty line and its first that is not a qemu
 * warning, printable ASCII only, for messages.
 */
struct console_tail {
	char line[160], last[160], first[160];
	size_t n;
};

static void tail_end_line(struct console_tail *t)
{
	memcpy(t->last, t->line, t->n);
	t->last[t->n] = 0;
	if (!t->first[0] && !strstr(t->last, ": warning: "))
		memcpy(t->first, t->last, t->n + 1);
}

static void tail_add(struct console_tail *t, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n' || c == '\r') {
			if (t->n)
				tail_end_line(t);
			t->n = 0;
		} else if (c >= 0x20 && c < 0x7f && c != '\'' && t->n < sizeof(t->line) - 1) {
			t->line[t->n++] = (char)c;
		}
	}
}

static const char *tail_last(struct console_tail *t)
{
	if (t->n) {
		tail_end_line(t);
		t->n = 0;
	}
	return t->last[0] ? t->last : "(nothing)";
}

/* qemu's first error line, without its "<qemu>: " prefix. */
static const char *tail_first(struct console_tail *t, const char *qemu_name)
{
	size_t q = strlen(qemu_name);
	const char *l = tail_last(t);
	if (t->first[0])
		l = t->first;
	if (!strncmp(l, qemu_name, q) && !strncmp(l + q, ": ", 2))
		l += q + 2;
	return l;
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

/* -machine and the accelerator: the same for a boot and for its KVM probe. */
static void machine_argv(struct argv *a, const struct boot_arch *ba, int kvm)
{
	if (!strcmp(arch_name(ba), "arm64")) {
		arg(a, "-machine");
		arg(a, "virt");
	} else if (!strcmp(arch_name(ba), "s390x")) {
		arg(a, "-machine");
		arg(a, "s390-ccw-virtio");
	}
	arg(a, "-accel");
	if (kvm) {
		arg(a, "kvm");
		arg(a, "-cpu");
		arg(a, "host");
	} else {
		arg(a, "tcg");
		if (!strcmp(arch_name(ba), "arm64")) {
			arg(a, "-cpu");
			arg(a, "max");
		}
	}
}

static int build_argv(struct argv *a, const struct boot_arch *ba, const char *qemu, int kvm,
		      const char *disk, const char *format, const char *seed, int memory_mb)
{
	char *s;
	arg(a, qemu);
	machine_argv(a, ba, kvm);
	if (!strcmp(arch_name(ba), "arm64")) {
		const char *fw = NULL;
		for (size_t i = 0; i < sizeof(arm64_firmware) / sizeof(arm64_firmware[0]) && !fw; i++)
			if (access(arm64_firmware[i], R_OK) == 0)
				fw = arm64_firmware[i];
		if (!fw)
			return cd_seterr("no UEFI firmware for arm64 guests (install qemu-efi-aarch64)");
		arg(a, "-bios");
		arg(a, fw);
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

/* Read the console until the marker (NULL: none), EOF (qemu ended) or the deadline. */
static enum watch_end watch(int fd, const char *marker, int timeout, struct console_tail *t)
{
	size_t mlen = marker ? strlen(marker) : 0;
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
		if (!mlen)
			continue;
		size_t have = carry + (size_t)n;
		if (memmem(buf, have, marker, mlen))
			return WATCH_MARKER;
		carry = have < mlen ? have : mlen - 1;
		memmove(buf, buf + have - carry, carry);
	}
}

/*
 * Run a's qemu, its output on a pipe into t, until marker, its end or
 * timeout; it is killed (unless it ended) and reaped before the return.
 * 0 with *end and *status, or -1 (cd_seterr).
 */
static int run_qemu(struct argv *a, const char *marker, int timeout, struct console_tail *t,
		    enum watch_end *end, int *status)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return cd_seterr("pipe: %s", strerror(errno));
	pid_t pid = spawn(a, fds[1]);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	*end = watch(fds[0], marker, timeout, t);
	int err = errno;
	if (*end != WATCH_EXIT)
		kill(pid, SIGKILL);
	*status = 0;
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	close(fds[0]);
	if (*end == WATCH_ERROR)
		return cd_seterr("cannot read the serial console: %s", strerror(err));
	return 0;
}

static void say_status(char *buf, size_t len, int status)
{
	cd_snprintf_cut(buf, len, "%s %d", WIFEXITED(status) ? "status" : "signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static int write_probe(const char *path, const struct kvm_probe *p)
{
	unsigned char *img = cd_xcalloc(1, p->image_size);
	memcpy(img + p->offset, p->code, p->len);
	FILE *f = fopen(path, "wxe");
	int ok = f && fwrite(img, 1, p->image_size, f) == p->image_size;
	int err = errno;
	if (f && fclose(f) != 0 && ok) {
		ok = 0;
		err = errno;
	}
	free(img);
	if (!ok)
		return cd_seterr("cannot write '%s': %s", path, strerror(err));
	return 0;
}

/*
 * Run ba's probe guest under KVM: 1 when it ran, 0 when it did not (why
 * says how it failed), -1 when it could not be set up (cd_seterr).
 */
static int run_probe(const struct boot_arch *ba, const char *qemu, const char *workdir,
		     char *why, size_t len)
{
	const struct kvm_probe *p = ba->probe;
	struct argv a = { .n = 0 };
	struct console_tail tail = { .n = 0 };
	char path[4096], st[32];
	enum watch_end end;
	int status, ret = -1;

	if (cd_snprintf(path, sizeof(path), "%s/kvm-probe.bin", workdir) < 0 || write_probe(path, p) < 0)
		return -1;
	static const char *const fixed[] = {
		"-nodefaults", "-display", "none", "-monitor", "none", "-serial", "none",
		"-no-reboot", "-m", "32", "-bios",
	};
	arg(&a, qemu);
	machine_argv(&a, ba, 1);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		arg(&a, fixed[i]);
	arg(&a, path);
	if (p->device) {
		arg(&a, "-device");
		arg(&a, p->device);
	}
	if (run_qemu(&a, NULL, PROBE_TIMEOUT, &tail, &end, &status) < 0)
		goto out;
	ret = 0;
	if (end == WATCH_EXIT && WIFEXITED(status) && WEXITSTATUS(status) == p->status) {
		ret = 1;
	} else if (end == WATCH_TIMEOUT) {
		cd_snprintf_cut(why, len, "the KVM probe guest did not finish within %d s: %s",
				  PROBE_TIMEOUT, tail_first(&tail, ba->qemu));
	} else {
		say_status(st, sizeof(st), status);
		cd_snprintf_cut(why, len, "the KVM probe guest failed: %s ended (%s): %s",
				  ba->qemu, st, tail_first(&tail, ba->qemu));
	}
out:
	unlink(path);
	argv_release(&a);
	return ret;
}

/* What the probe found, per architecture, for the whole process. */
static pthread_mutex_t probe_mu = PTHREAD_MUTEX_INITIALIZER;
static struct kvm_verdict {
	int known, works;
	char why[320];
} verdicts[CD_NARCH];

enum kvm_state { KVM_NO, KVM_YES, KVM_UNPROBED };

/* Whether KVM runs ba's guests here; why says why not.  -1: cd_seterr. */
static int kvm_state(const struct boot_arch *ba, const char *qemu, const char *workdir,
		     char *why, size_t len)
{
	struct utsname u;
	if (uname(&u) < 0) {
		cd_snprintf_cut(why, len, "uname: %s", strerror(errno));
		return KVM_NO;
	}
	if (strcmp(u.machine, ba->machine)) {
		cd_snprintf_cut(why, len, "KVM cannot run %s guests on this %s host", ba->machine, u.machine);
		return KVM_NO;
	}
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		cd_snprintf_cut(why, len, "cannot open /dev/kvm: %s", strerror(errno));
		return KVM_NO;
	}
	close(fd);
	if (!ba->probe) {
		cd_snprintf_cut(why, len, "no KVM probe guest for %s", arch_name(ba));
		return KVM_UNPROBED;
	}
	struct kvm_verdict *v = &verdicts[ba - arches];
	pthread_mutex_lock(&probe_mu);
	if (!v->known) {
		int r = run_probe(ba, qemu, workdir, v->why, sizeof(v->why));
		if (r < 0) {
			pthread_mutex_unlock(&probe_mu);
			return -1;
		}
		v->known = 1;
		v->works = r;
	}
	int works = v->works;
	cd_snprintf_cut(why, len, "%s", works ? "a probe guest ran under KVM" : v->why);
	pthread_mutex_unlock(&probe_mu);
	return works ? KVM_YES : KVM_NO;
}

/*
 * The accelerator of a boot: *kvm, and note ("KVM: <why>" or "TCG: <why>")
 * for the messages.  -1 (cd_seterr) for --accel kvm where KVM cannot run
 * the guest, or a probe that could not be set up.
 */
static int choose_accel(const struct boot_arch *ba, const char *qemu, const struct cd_boot_opts *o,
			int *kvm, char *note, size_t len)
{
	char why[320];
	*kvm = 0;
	if (o->accel == CD_BOOT_TCG) {
		cd_snprintf_cut(note, len, "TCG: --accel tcg");
		return 0;
	}
	int st = kvm_state(ba, qemu, o->workdir, why, sizeof(why));
	if (st < 0)
		return -1;
	if (o->accel == CD_BOOT_KVM) {
		if (st == KVM_NO)
			return cd_seterr("--accel kvm: %s", why);
		*kvm = 1;
		cd_snprintf_cut(note, len, "KVM: --accel kvm, %s", why);
	} else if (st == KVM_UNPROBED) {
		cd_snprintf_cut(note, len, "TCG: %s (--accel kvm uses KVM unprobed)", why);
	} else {
		*kvm = st == KVM_YES;
		cd_snprintf_cut(note, len, "%s: %s", *kvm ? "KVM" : "TCG", why);
	}
	return 0;
}

int cd_boot_disk(const char *arch, const char *disk, const char *format,
		 const struct cd_boot_opts *o, char *detail, size_t detail_len)
{
	const struct boot_arch *ba = find_arch(arch);
	struct argv a = { .n = 0 };
	struct console_tail tail = { .n = 0 };
	unsigned char rnd[8];
	char hex[17], marker[32], seed[4096], note[400], st[32];
	char *qemu = NULL, *ud = NULL;
	int ret = -1, seeded = 0, kvm, status;
	enum watch_end end;
	double started;

	if (!ba)
		return cd_seterr("cannot boot architecture '%s'", arch);
	qemu = find_in_path(ba->qemu);
	if (!qemu)
		return cd_seterr("%s not found: cannot boot %s disks on this machine", ba->qemu, arch);
	/* qemu's -drive splits on commas */
	if (strchr(disk, ',') || strchr(o->workdir, ','))
		goto out_comma;
	if (choose_accel(ba, qemu, o, &kvm, note, sizeof(note)) < 0)
		goto out;
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
	if (sr < 0 || build_argv(&a, ba, qemu, kvm, disk, format, seed, o->memory_mb ? o->memory_mb : 1024) < 0)
		goto out;
	started = now_s();
	if (run_qemu(&a, marker, o->timeout, &tail, &end, &status) < 0)
		goto out;
	switch (end) {
	case WATCH_MARKER:
		if (detail)
			cd_snprintf_cut(detail, detail_len, "marker seen on the serial console after %.0f s (%s, %s)",
					  now_s() - started, ba->qemu, note);
		ret = 0;
		break;
	case WATCH_TIMEOUT:
		cd_seterr("timeout: no marker on the serial console within %d s (%s); last console line: '%s'",
			  o->timeout, note, tail_last(&tail));
		break;
	case WATCH_EXIT:
	case WATCH_ERROR:  /* run_qemu() failed */
		say_status(st, sizeof(st), status);
		cd_seterr("%s ended (%s) before the marker appeared (%s); last console line: '%s'",
			  ba->qemu, st, note, tail_last(&tail));
		break;
	}
	goto out;
out_comma:
	cd_seterr("cannot boot '%s': qemu cannot take a path with a comma", disk);
out:
	if (seeded)
		unlink(seed);
	argv_release(&a);
	free(ud);
	free(qemu);
	return ret;
}
