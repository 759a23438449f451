#ifndef CD_DOCS_H
#define CD_DOCS_H
/*
 * cd-docs's work: each repository's description (Markdown), written to a
 * folder and/or published on Quay as medius's `docs publish` does.
 *
 * The records are read whole first: a repository's description is the one
 * of its newest stable record marked "docs" (medius lets the last one
 * listed win, so almalinux 9 overwrote 10).  Then every record is written,
 * in input order: the chosen ones with "described" (or "error"), the
 * others untouched.
 *
 * The text is data, not C: templates/<name>.jq if present, else
 * templates/description.jq, is a jq program (jq's string interpolation)
 * whose input is
 *   {"name","version","registry","image","user","instancetype",
 *    "preference","secureboot","description"}
 * ("description" is templates/<name>.md, or "") and whose output is the
 * Markdown.  "secureboot" is the catalog's key for the image's amd64
 * artifact (Fedora's images need EFI with Secure Boot).
 */
#include <stddef.h>

struct cd_docs_opts {
	const char *registry;    /* HOST/ORG: images are <registry>/<name>:<version> */
	const char *output;      /* folder for <name>.md, or NULL */
	const char *catalog;     /* catalog file or folder (for "secureboot") */
	const char *templates;   /* folder of description.jq, <name>.jq, <name>.md */
	const char *api;         /* Quay API base (https://quay.io/api/v1) */
	const char *token_file;  /* Quay token (OAuth); read only when sending */
	const char **focus;      /* "name:version" or "name:*" (core/record.h); none = all */
	size_t nfocus;
	int dry_run;             /* say what would be sent, send nothing */
};

/*
 * Read records from stdin, describe, write records to stdout.  Returns the
 * exit status (0, 1, 3, 4 as every stage's); CD_EXIT_USAGE with the reason
 * said on stderr when the registry, the token file, the catalog or a focus
 * is wrong, CD_EXIT_IO when the catalog cannot be read (nothing is then
 * read or sent).
 */
int cd_docs_run(const struct cd_docs_opts *o);

#endif
