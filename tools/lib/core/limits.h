#ifndef CD_LIMITS_H
#define CD_LIMITS_H
/*
 * How much of anything from outside is believed or kept in memory: every
 * bound on input, in one place (curl's dynbuf "toobig" rule).  A limit
 * that only one function applies to its own data stays in that file.
 */

/* records */
#define CD_RECORD_MAX (4u << 20)          /* bytes of one NDJSON line */

/* registries */
#define CD_MANIFEST_MAX (4u << 20)        /* a manifest, an index or an image config */
#define CD_SIZE_MAX (1LL << 50)           /* the largest blob size believed (1 PiB) */
#define CD_TOKEN_ANSWER_MAX (256u << 10)  /* a token service's answer */
#define CD_MEDIA_TYPE_MAX 128             /* a media type, NUL included */
#define CD_TAGS_PAGE_MAX (8u << 20)       /* one page of a tag list */
#define CD_TAGS_MAX_PAGES 1000
#define CD_TAGS_MAX 100000                /* tags of one repository */
#define CD_ERROR_BODY_MAX 65536           /* the part of an error answer's body kept */

#endif
