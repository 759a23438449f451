/* cd-promote: copy verified images from the staging registry to production. */
#include <stdio.h>
#include <stdlib.h>

#include "core/msg.h"
#include "stage/opts.h"
#include "stage/promote.h"
#include "stage/publish.h"
#include "core/banned.h"

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
		"usage: cd-promote --source-registry REGISTRY --target-registry REGISTRY/ORG\n"
		"                  [options] < records.ndjson > records.ndjson\n"
		"\n"
		"Copy each verified record's image (\"verified\".ok true, no \"error\") from\n"
		"\"pushed\".repository@digest to REGISTRY/ORG/<name>: blobs streamed registry to\n"
		"registry (mounted when both are one registry), the manifests, the index last,\n"
		"then every tag of \"pushed\".tags.  Adds \"promoted\": {\"repository\", \"digest\",\n"
		"\"tags\"}.  Records not verified pass through untouched: production keeps\n"
		"its previous image.  Dry run by default: says what it would copy.\n"
		"\n"
		"      --source-registry R  the staging registry cd-push wrote to (required)\n"
		"      --target-registry R  registry and organisation to promote to (required)\n"
		CD_HELP_XFER
		CD_HELP_FOCUS
		CD_HELP_WORKERS
		CD_HELP_REGISTRY
		CD_HELP_REGISTRY_SIDES
		CD_HELP_NET
		CD_HELP_BASE
		"\n"
		"At the end one line on stderr: \"copied N blobs (X MiB), skipped M present,\n"
		"mounted K\".\n"
		"\n"
		CD_HELP_REGISTRY_ENV
		"\n"
		"exit status: 0 all records promoted or passed, 1 some failed (they carry\n"
		"\"error\"), 2 usage error, 3 malformed input lines, 4 stdin unreadable or\n"
		"stdout unwritable\n");
	exit(status);
}

int main(int argc, char **argv)
{
	struct cd_publish_cli c;

	cd_msg_init(argv[0]);
	cd_publish_parse(&c, argc, argv, usage);
	if (!c.target || !c.source)
		cd_usage_error("--source-registry and --target-registry are required");
	return cd_publish_main(&c, cd_promote_record, "copied");
}
