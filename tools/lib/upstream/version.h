#ifndef CD_VERSION_H
#define CD_VERSION_H
/*
 * Version strings of distributions, pure functions.
 *
 * A version is a sequence of parts split at '.', '-', '_' and ' ', and at
 * every change between digits and letters.  Numbers compare numerically,
 * words case-insensitively.  A word part marks a prerelease: at a position
 * where one version has a word and the other a number or nothing, the word
 * sorts first, so 44-beta < 44 < 44.1 and 20240311.0 < 20240311.1.
 */

/* <0, 0, >0 like strcmp. */
int cd_version_cmp(const char *a, const char *b);

/* Stable: digits and dots only ("44", "24.04", "1.0.0"). */
int cd_version_is_stable(const char *v);

/*
 * The form used in tags: lowercase, runs of spaces and '_' become one '-'
 * ("44 Beta" -> "44-beta").  NULL and cd_seterr() if the result would
 * hold anything but [a-z0-9.-] or is empty or longer than 64 bytes.
 * Caller frees.
 */
char *cd_version_normalize(const char *v);

#endif
