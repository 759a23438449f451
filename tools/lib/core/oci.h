#ifndef CD_OCI_H
#define CD_OCI_H
/*
 * The media types of OCI and Docker schema 2 images: what cd-build
 * writes, cd-push and cd-promote send and cd-verify and cd-current read.
 */
#define CD_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define CD_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define CD_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define CD_MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define CD_MT_OCI_LAYER_GZIP  CD_MT_OCI_LAYER "+gzip"
#define CD_MT_OCI_LAYER_ZSTD  CD_MT_OCI_LAYER "+zstd"
#define CD_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CD_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define CD_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define CD_MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define CD_MT_DOCKER_LAYER    CD_MT_DOCKER_LAYER_TAR ".gzip"   /* the only Docker layer read */

/* The annotation of index.json that names an image of a layout. */
#define CD_OCI_REF_NAME "org.opencontainers.image.ref.name"

/*
 * What cdkit adds to the images it publishes, so that a no-op night reads
 * one manifest per image (issue 13): every image manifest (top-level
 * "annotations") and every descriptor of its index carry the arch, the
 * shasum label's value and, where upstream gave no checksum, the HTTP
 * validators label's value.  The config labels stay the truth; a reader
 * that finds no annotations (an image medius published) reads the configs.
 */
#define CD_ANN_ARCH   "cdkit.arch"
#define CD_ANN_SHASUM "cdkit.shasum"
#define CD_ANN_HTTP   "cdkit.upstream.http"
/*
 * The config label (beside "shasum") with what one HEAD of an upstream file
 * that has no checksum said: {"etag","last_modified","length"} as compact
 * JSON with sorted keys (cd-discover's artifacts[].http).
 */
#define CD_LABEL_HTTP "cdkit.upstream.http"

#endif
