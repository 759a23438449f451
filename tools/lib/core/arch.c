#include <string.h>

#include "core/arch.h"
#include "core/banned.h"

const char *const cd_arches[CD_NARCH] = { "amd64", "arm64", "s390x" };

int cd_arch_index(const char *arch)
{
	for (int i = 0; i < CD_NARCH; i++)
		if (!strcmp(arch, cd_arches[i]))
			return i;
	return -1;
}
