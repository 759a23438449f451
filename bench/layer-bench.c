/*
 * layer-bench: write the containerdisk layer of one disk file with
 * cd_layer_write, the way cd-build does, for bench/run.  Not installed.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/msg.h"
#include "image/layer.h"
#include "core/banned.h"

static void usage(void)
{
	printf("usage: layer-bench [--compression gzip|zstd|none] [--deflate zlib|isal] [--threads N]\n"
	       "                   [--level N] DISK OUT\n"
	       "       layer-bench --engine   (what gzip deflates with by default)\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "compression", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "level", required_argument, NULL, 'l' },
		{ "deflate", required_argument, NULL, 'd' },
		{ "engine", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cd_layer_opts o = { .comp = CD_COMP_GZIP };
	struct cd_layer_result res;
	struct stat st;
	int c, in, out;

	cd_msg_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:t:l:d:eh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (cd_compression_parse(optarg, &o.comp) < 0)
				cd_usage_error("unknown compression '%s'", optarg);
			break;
		case 't':
			if (parse_int(optarg, 0, 256, &o.threads) < 0)
				cd_usage_error("bad thread count '%s'", optarg);
			break;
		case 'l':
			if (parse_int(optarg, 0, 22, &o.level) < 0)
				cd_usage_error("bad level '%s'", optarg);
			break;
		case 'd':
			if (cd_deflate_parse(optarg, &o.deflate) < 0)
				cd_usage_error("deflate engine '%s' not in this build", optarg);
			break;
		case 'e':
			printf("%s\n", cd_layer_gzip_engine());
			return CD_EXIT_OK;
		case 'h':
			usage();
			return CD_EXIT_OK;
		default:
			return CD_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		cd_usage_error("need DISK and OUT");
	in = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		cd_error("cannot open '%s': %m", argv[optind]);
		return CD_EXIT_FAIL;
	}
	out = open(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		cd_error("cannot create '%s': %m", argv[optind + 1]);
		return CD_EXIT_FAIL;
	}
	if (cd_layer_write(in, (long long)st.st_size, out, &o, NULL, &res) < 0 || close(out) < 0) {
		cd_error("%s", cd_errmsg());
		unlink(argv[optind + 1]);
		return CD_EXIT_FAIL;
	}
	printf("%s %s %lld\n", res.digest, res.diff_id, res.size);
	return CD_EXIT_OK;
}
