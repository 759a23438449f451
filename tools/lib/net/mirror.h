#ifndef CD_MIRROR_H
#define CD_MIRROR_H
/*
 * The mirror map: upstream URL prefixes rewritten for every fetch
 * (--mirror PREFIX=REPLACEMENT, repeatable, and CD_MIRRORS, whitespace-
 * separated pairs).  Records always keep the upstream URLs; only the
 * fetch goes to the mirror.  The longest matching prefix wins.
 *
 * The map is filled while options are parsed, then only read: it is
 * safe to use from worker threads after that.
 */
struct cd_mirror_map {
	struct cd_mirror_entry {
		char *prefix, *replacement;
	} *v;
	size_t n;
};

/* The map every fetch uses. */
extern struct cd_mirror_map cd_mirrors;

/*
 * Add one "PREFIX=REPLACEMENT"; -1 and cd_seterr() on a malformed spec.
 * A user:password in REPLACEMENT is sent to the mirror (libcurl does not
 * forward it across a redirect to another host); messages never show it.
 */
int cd_mirror_add(struct cd_mirror_map *m, const char *spec);
/* Add every whitespace-separated pair of s (the CD_MIRRORS form). */
int cd_mirror_add_list(struct cd_mirror_map *m, const char *s);
/* The URL to fetch for url: a new string (caller frees), url itself if no prefix matches. */
char *cd_mirror_rewrite(const struct cd_mirror_map *m, const char *url);
void cd_mirror_release(struct cd_mirror_map *m);

/* A "PREFIX=REPLACEMENT" mirror spec fit for messages (both URLs redacted). */
char *cd_mirror_redact(const char *spec);

#endif
