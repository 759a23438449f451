/* Where the tools find their data (datadir.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/datadir.h"
#include "core/banned.h"

#ifndef CD_DATADIR
#define CD_DATADIR "/usr/local/share/cdkit"
#endif

static int exists(const char *p)
{
	struct stat st;
	return !stat(p, &st);
}

/* The folder of the running binary's real path (symlinks resolved), or NULL. */
static char *exe_dir(void)
{
	char *real = realpath("/proc/self/exe", NULL), *slash;

	if (!real)
		return NULL;
	if (!(slash = strrchr(real, '/'))) {
		free(real);
		return NULL;
	}
	*slash = '\0';
	return real;
}

char *cd_datadir_path(const char *sub)
{
	char *dir = exe_dir(), *p;

	if (dir) {
		p = cd_xasprintf("%s/../share/cdkit/%s", dir, sub);
		if (exists(p))
			goto found;
		free(p);
	}
	p = cd_xasprintf("%s/%s", CD_DATADIR, sub);
	if (exists(p))
		goto found;
	free(p);
	if (dir) {
		p = cd_xasprintf("%s/../pipelines/%s", dir, sub);
		if (exists(p))
			goto found;
		free(p);
	}
	free(dir);
	return cd_xasprintf("%s/%s", CD_DATADIR, sub);
found:
	free(dir);
	if ((dir = realpath(p, NULL))) {
		free(p);
		p = dir;
	}
	return p;
}
