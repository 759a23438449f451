#ifndef CD_BANNED_H
#define CD_BANNED_H
/*
 * Functions that are easy to misuse: unbounded copies, hidden static state,
 * silent conversions.  Included last by every .c file (git's banned.h,
 * its whole list and ours; `make lint` checks both).
 */
#define CD_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) CD_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CD_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) CD_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) CD_BANNED(strncat)
#undef sprintf
#define sprintf(...) CD_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CD_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) CD_BANNED(strtok)
#undef strtok_r
#define strtok_r(x, y, z) CD_BANNED(strtok_r)
#undef gmtime
#define gmtime(t) CD_BANNED(gmtime)
#undef localtime
#define localtime(t) CD_BANNED(localtime)
#undef ctime
#define ctime(t) CD_BANNED(ctime)
#undef ctime_r
#define ctime_r(t, buf) CD_BANNED(ctime_r)
#undef asctime
#define asctime(t) CD_BANNED(asctime)
#undef asctime_r
#define asctime_r(t, buf) CD_BANNED(asctime_r)
#undef mktemp
#define mktemp(x) CD_BANNED(mktemp)
#undef atoi
#define atoi(x) CD_BANNED(atoi)
#undef atol
#define atol(x) CD_BANNED(atol)
#undef gets
#define gets(x) CD_BANNED(gets)

#endif
