/*
 * cd-verify: read each pushed image back from the registry by digest and
 * check it as KubeVirt will consume it; with --boot, boot every
 * architecture's disk in qemu and wait for a cloud-init marker.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/loop.h"
#include "core/msg.h"
#include "stage/opts.h"
#include "stage/verify.h"
#include "core/banned.h"

enum { OPT_BOOT = CD_OPT_TOOL, OPT_BOOT_TIMEOUT, OPT_TMPDIR, OPT_ACCEL, OPT_REGISTRY };

static void usage(int status)
{
	FILE *fp = status ? stderr : stdout;
	fprintf(fp,
		"usage: cd-verify [options] < records.ndjson > records.ndjson\n"
		"\n"
		"Read the image of every record with \"pushed\" back from the registry by\n"
		"digest and check it as KubeVirt consumes it: digests, media types, one\n"
		"manifest per architecture with the right platform, one layer holding\n"
		"disk/disk.img (uid/gid 107, readable) that is a sane qcow2 or raw disk,\n"
		"diff_id, config architecture and os, label shasum equal to the upstream\n"
		"checksum.\n"
		"Adds \"verified\": {\"ok\", \"checks\": [{name, arch, ok, detail}]}; a failed\n"
		"check makes the record an error record.  Other records pass untouched.\n"
		"\n"
		"Options:\n"
		"      --boot               also boot each disk with qemu and a NoCloud seed,\n"
		"                           and wait for the marker its user-data prints on\n"
		"                           the serial console\n"
		"      --accel MODE         how --boot runs qemu: auto (default) uses KVM when\n"
		"                           the host has the disk's architecture, /dev/kvm\n"
		"                           opens and a tiny probe guest ran under KVM (once\n"
		"                           per architecture; s390x has none), TCG otherwise;\n"
		"                           kvm: KVM, or the boot check fails saying why;\n"
		"                           tcg: always TCG.  The boot check's detail (and -v)\n"
		"                           says which accelerator ran and why\n"
		"      --boot-timeout S     how long --boot waits for the marker (default 300)\n"
		"      --tmpdir DIR         where --boot extracts disks (default $TMPDIR, /tmp)\n"
		"      --registry R         the registry (HOST[:PORT][/PATH]) the records were\n"
		"                           pushed to: the one --creds are sent to (needed with\n"
		"                           --creds); a record naming another registry is read\n"
		"                           with that host's auth file entry, or anonymously\n"
		CD_HELP_FOCUS CD_HELP_NET CD_HELP_WORKERS CD_HELP_REGISTRY CD_HELP_BASE
		"\n"
		CD_HELP_REGISTRY_ENV
		"\n"
		"Exit status: 0 all fine, 1 a record failed, 2 usage error, 3 malformed input,\n"
		"4 stdin unreadable or stdout unwritable.\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "boot", no_argument, NULL, OPT_BOOT },
		{ "boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT },
		{ "accel", required_argument, NULL, OPT_ACCEL },
		{ "tmpdir", required_argument, NULL, OPT_TMPDIR },
		{ "registry", required_argument, NULL, OPT_REGISTRY },
		CD_OPTS_BASE, CD_OPTS_FOCUS, CD_OPTS_NET, CD_OPTS_WORKERS, CD_OPTS_REGISTRY, { 0 }
	};
	struct cd_verify_opts o = { .boot_timeout = 300 };
	const char *registry = NULL;
	int c;

	cd_msg_init(argv[0]);
	while ((c = cd_getopt(argc, argv, "hqvj:", longopts)) != -1) {
		switch (c) {
		case OPT_BOOT:
			o.flags |= CD_VERIFY_BOOT;
			break;
		case OPT_BOOT_TIMEOUT:
			o.boot_timeout = (int)cd_opt_long("boot-timeout", optarg, 1, 86400);
			break;
		case OPT_ACCEL:
			if (cd_verify_accel(&o, optarg) < 0)
				cd_usage_error("invalid value '%s' for --accel: expected auto, kvm or tcg", optarg);
			break;
		case OPT_TMPDIR:
			o.tmpdir = optarg;
			break;
		case OPT_REGISTRY:
			registry = optarg;
			break;
		default:
			if (!cd_opts_common(c, optarg, usage))
				usage(CD_EXIT_USAGE);
		}
	}
	if (optind < argc)
		cd_usage_error("unexpected argument '%s'", argv[optind]);
	/* The records name the hosts: --creds go only where the command line says. */
	if (cd_opts.creds && !registry) {
		cd_opts_release();
		cd_usage_error("--creds needs --registry: the registry the credentials are for");
	}
	if (registry)
		free(cd_opts_name_registry(registry, "--registry", NULL));
	cd_opts_finish();

	int status = cd_pool_main(cd_opts.workers, CD_POOL_PASS_ERRORS, cd_verify_one, &o);
	cd_opts_release();
	return status;
}
