/* cd-push: upload each built record's image layout to the target registry. */
#include <stdio.h>
#include <stdlib.h>

#include "core/msg.h"
#include "stage/opts.h"
#include "stage/publish.h"
#include "stage/push.h"
#include "core/banned.h"

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-push --target-registry REGISTRY/ORG [options] < records.ndjson > records.ndjson\n"
		"\n"
		"Push the OCI image layout of each built record (\"layout\", from cd-build) to\n"
		"REGISTRY/ORG/<name>: blobs (skipping those present, mounting those the source\n"
		"repository has), the manifests and the index by digest, then the tags\n"
		"<version>-<YYMMDDhhmm>, the record's \"tags\", <version>, and \"latest\" when the\n"
		"record says so.  Adds \"pushed\": {\"repository\", \"digest\", \"tags\"}.\n"
		"Dry run by default: says what it would push and changes nothing.\n"
		"\n"
		"      --target-registry R  registry and organisation to push to (required)\n"
		"      --source-registry R  where the record's \"published\" images are, for\n"
		"                           arches not rebuilt (default: the target)\n"
		CD_HELP_XFER
		CD_HELP_FOCUS
		CD_HELP_WORKERS
		CD_HELP_REGISTRY
		CD_HELP_REGISTRY_SIDES
		CD_HELP_NET
		CD_HELP_BASE
		"\n"
		"At the end one line on stderr: \"pushed N blobs (X MiB), skipped M present,\n"
		"mounted K\".\n"
		"\n"
		CD_HELP_REGISTRY_ENV
		"\n"
		"exit status: 0 all records pushed or passed, 1 some failed (they carry\n"
		"\"error\"), 2 usage error, 3 malformed input lines, 4 stdin unreadable or\n"
		"stdout unwritable\n");
	exit(status);
}

int main(int argc, char **argv)
{
	struct cd_publish_cli c;

	cd_msg_init(argv[0]);
	cd_publish_parse(&c, argc, argv, usage);
	if (!c.target)
		cd_usage_error("--target-registry is required");
	return cd_publish_main(&c, cd_push_record, "pushed");
}
