/*
 * Replay files through a harness without libFuzzer: every file named, and
 * every file of every folder named (in name order; a missing folder is
 * skipped).  make check runs each harness on its seed corpus and its
 * regressions this way, with the ordinary compiler (and, under SANITIZE=1,
 * its sanitizers), so no clang is needed there.
 *
 * Each input runs in a child process whose stderr is kept aside: what the
 * parsers say about bad input stays quiet, and a failing input (abort,
 * sanitizer report, leak, any non-zero exit) is named with its output.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"
#include "core/banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX (16u << 20)

static int replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	uint8_t *buf = malloc(REPLAY_MAX);
	if (!buf)
		abort();
	size_t n = fread(buf, 1, REPLAY_MAX, fp);
	int bad = ferror(fp) || !feof(fp);
	fclose(fp);
	if (bad) {
		fprintf(stderr, "replay: cannot read '%s' (or over %u bytes)\n", path, REPLAY_MAX);
		free(buf);
		return -1;
	}
	int log = memfd_create("replay", MFD_CLOEXEC);
	if (log < 0) {
		fprintf(stderr, "replay: memfd_create: %s\n", strerror(errno));
		free(buf);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(log, 2);
		/* An exact-size copy, so that a read past the end is caught by ASan. */
		uint8_t *exact = malloc(n ? n : 1);
		if (!exact)
			abort();
		memcpy(exact, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
		exit(0); /* through atexit: LeakSanitizer looks now */
	}
	free(buf);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		fprintf(stderr, "replay: cannot run '%s': %s\n", path, strerror(errno));
		close(log);
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		close(log);
		return 0;
	}
	fprintf(stderr, "replay: '%s' failed (%s %d); its output:\n", path,
		WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	char out[4096];
	ssize_t got;
	lseek(log, 0, SEEK_SET);
	while ((got = read(log, out, sizeof(out))) > 0)
		fwrite(out, 1, (size_t)got, stderr);
	close(log);
	return -1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (!names || !(names[n] = strdup(e->d_name)))
			abort();
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (replay_file(path) < 0)
			ret = -1;
		(*count)++;
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int ret = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			ret |= replay_dir(argv[i], &count);
		else if (stat(argv[i], &st) < 0 && errno == ENOENT)
			continue;
		else {
			ret |= replay_file(argv[i]);
			count++;
		}
	}
	const char *prog = strrchr(argv[0], '/');
	printf("%s: %u inputs replayed%s\n", prog ? prog + 1 : argv[0], count, ret ? ", some FAILED" : "");
	return ret ? 1 : 0;
}
