#ifndef CD_TAGS_H
#define CD_TAGS_H
/* The tags of a repository, and the Link header that pages them. */
#include <jv.h>

#include "registry/client.h"

/*
 * Every tag of repo (GET /v2/<repo>/tags/list, following Link: rel="next"
 * pages).  *tags = a new jv array of strings (caller owns).  Bounded: at
 * most CD_TAGS_MAX_PAGES pages and CD_TAGS_MAX tags (core/limits.h).
 * Tests call it (tests/unit/test-regwrite.c).
 */
int cd_registry_tags(struct cd_registry *r, const char *repo, jv *tags);

/*
 * From a Link header value, the URL of rel="next", resolved against
 * base_url (the URL of the page that carried it; a path-absolute "</v2/..>"
 * keeps base's scheme and host).  1 found (*next malloc'd), 0 none,
 * -1 malformed.
 */
int cd_registry_link_next(const char *link, const char *base_url, char **next);

#endif
