#ifndef CD_DATADIR_H
#define CD_DATADIR_H
/*
 * Where the tools find their data (the catalog, the docs templates).
 *
 * A binary built for one PREFIX may be installed under another (a package
 * built with PREFIX=/usr/local, staged with DESTDIR, unpacked anywhere), so
 * the compiled-in DATADIR alone is not enough.  First the data beside the
 * binary's real path (/proc/self/exe): <bindir>/../share/cdkit/<sub>; then
 * the compiled-in CD_DATADIR/<sub>; then the source tree the binary was
 * built in: <bindir>/../pipelines/<sub> (bin/ beside pipelines/).
 */

/*
 * The first of those places where sub ("catalog", "catalog/docs") exists,
 * else CD_DATADIR/sub (so that a message names where it was looked for).
 * Malloc'd; never NULL.
 */
char *cd_datadir_path(const char *sub);

#endif
