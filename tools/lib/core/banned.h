#ifndef CD_BANNED_H
#define CD_BANNED_H
/*
 * Functions that are easy to misuse: unbounded copies, hidden static state,
 * silent conversions.  Included last by every .c file (git's banned.h).
 */
#define CD_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) CD_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CD_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) CD_BANNED(strncpy)
#undef sprintf
#define sprintf(...) CD_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CD_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) CD_BANNED(strtok)
#undef atoi
#define atoi(x) CD_BANNED(atoi)
#undef atol
#define atol(x) CD_BANNED(atol)
#undef gets
#define gets(x) CD_BANNED(gets)

#endif
