#ifndef CD_DISCOVER_H
#define CD_DISCOVER_H
/*
 * The work of cd-discover: load the catalog (upstream/catalog.h), find the
 * latest upstream release of every image it selects (catalog-run.h) and
 * write one record per image, each held to the contract as the record
 * loop holds what it reads (cd_pool_emit).
 */
#include <stddef.h>

/*
 * Run cd-discover on the catalog at path (a file or a folder) for focus
 * (nfocus "name:version" entries; none: every image).  Returns the exit
 * status, the messages said: 0, 1 an image failed, 2 a focus matched no
 * image, 4 the catalog could not be read or stdout written.  -1 when the
 * catalog is malformed or a focus names no catalog entry: a usage error
 * for the caller to say (cd_errmsg()).
 */
int cd_discover_run(const char *path, const char *const *focus, size_t nfocus);

#endif
