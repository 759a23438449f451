#ifndef CD_LAYOUT_H
#define CD_LAYOUT_H
/*
 * The OCI image layout of one image: oci-layout, index.json, blobs/sha256/.
 *
 * The layout of name:version is <output>/<name>/<version>: a folder per
 * name, one per version in it, so that no two records share one (a name
 * and a version are single folder names, never hidden: cd_layout_begin
 * refuses others).  It is built in a hidden temporary folder
 * <output>/.cd-build.<name>.<version>.XXXXXX and renamed into place only
 * when complete (cd_layout_commit); anything that fails is removed with
 * cd_layout_abort, so no partial image is ever seen under its name.  The
 * temporary folder is flock()ed while in use, so that cd_layout_sweep()
 * removes only those of runs that were killed.
 */
#include <stddef.h>

#include "core/digest.h"

struct cd_layout {
	char *final;    /* <output>/<name>/<version> */
	char *tmp;      /* <output>/.cd-build.<name>.<version>.XXXXXX while being written */
	int lockfd;     /* flock on the folder while this process owns it */
};

/*
 * Remove temporary layouts under output that no running cd-build holds
 * (left by a killed run).  Only names starting ".cd-build." are touched.
 */
void cd_layout_sweep(const char *output);
/* An empty layout that owns nothing (lockfd -1): safe to release. */
void cd_layout_init(struct cd_layout *l);
/* Create the temporary layout for <output>/<name>/<version>.  -1 and cd_seterr(). */
int cd_layout_begin(struct cd_layout *l, const char *output, const char *name, const char *version);
/* A new temporary blob file in the layout, open for writing; *path is the caller's to free. */
int cd_layout_blob_open(struct cd_layout *l, char **path);
/* Name a finished temporary blob by its digest. */
int cd_layout_blob_commit(struct cd_layout *l, const char *path, const char *digest);
/* Rename the layout into place, making <output>/<name> as needed (replacing an older one). */
int cd_layout_commit(struct cd_layout *l);
/* Remove whatever was written.  Safe after a commit (does nothing). */
void cd_layout_abort(struct cd_layout *l);
void cd_layout_release(struct cd_layout *l);
/* A blob from memory (a config, a manifest): written and named by its digest. */
int cd_layout_add_blob(struct cd_layout *l, const void *p, size_t n, char digest[CD_DIGEST_MAX]);
/* The layout's index.json. */
int cd_layout_write_index(struct cd_layout *l, const char *json);

#endif
