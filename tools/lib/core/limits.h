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

/* records */
#define CD_RECORD_NAME_MAX 100 /* bytes of a record's "name" */
#define CD_URL_MAX 8192 /* bytes of an artifact's "url" */

/* http */
#define CD_HTTP_BODY_MAX (16u << 20) /* an HTTP answer kept in memory, unless the request says less */
#define CD_HTTP_HEADERS_MAX (64u << 10) /* the header block of one HTTP answer */
#define CD_HTTP_HEADER_MAX 8192 /* bytes of a header value read (Location, Link, ...) */

/* registries */
#define CD_AUTHFILE_MAX (1u << 20) /* an auth file (containers-auth.json, docker config.json) */
#define CD_CHALLENGE_VALUE_MAX 4096 /* one parameter of a WWW-Authenticate challenge */
#define CD_LINK_MAX 8192 /* a Link header */
#define CD_MANIFEST_BLOBS_MAX 64 /* blobs of one image manifest (its config and layers) */

/* layouts */
#define CD_INDEX_JSON_MAX (1u << 20) /* the index.json of an OCI image layout */

/* upstream */
#define CD_UPSTREAM_FILE_MAX (8u << 20) /* an upstream index, checksum file or releases.json */
#define CD_CATALOG_FILE_MAX (1u << 20) /* one catalog file */
#define CD_CHECKSUM_LINE_MAX 4096 /* one line of a checksum file */

/* disks */
#define CD_DISK_MAX_VSIZE (16ULL << 40) /* the largest virtual size of a disk believed (16 TiB) */
#define CD_QCOW2_MAX_TABLES (64u << 20) /* the L2 tables a qcow2 scan keeps in flight at most, in bytes */

/* docs */
#define CD_DOCS_TEMPLATE_MAX (256u << 10) /* a description template or text (catalog/docs/) */
#define CD_DOCS_RECORDS_MAX 100000u /* records cd-docs holds at once (it reads them all first) */
#define CD_QUAY_TOKEN_MAX 8192 /* a Quay token file */

#endif
