#ifndef CD_SEED_H
#define CD_SEED_H
/*
 * A NoCloud cloud-init seed: an ISO 9660 image with volume id "cidata"
 * holding the files meta-data and user-data (Rock Ridge and Joliet keep
 * their lowercase names), written with libarchive's ISO 9660 writer.
 * cloud-init finds it by its label on any block device.
 */

/* Write the seed to path (created or truncated).  -1 and cd_seterr() on error. */
int cd_seed_write(const char *path, const char *meta_data, const char *user_data);

#endif
