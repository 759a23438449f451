#ifndef CD_ARCH_H
#define CD_ARCH_H
/*
 * The architectures cdkit builds, by their OCI names, in the order
 * records list them.  An image holds at most one of each.
 */
#define CD_NARCH 3

extern const char *const cd_arches[CD_NARCH];

/* arch's index in cd_arches, or -1 for another. */
int cd_arch_index(const char *arch);

#endif
