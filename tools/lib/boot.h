#ifndef CD_BOOT_H
#define CD_BOOT_H
/*
 * Boot a disk image in qemu and wait for proof that it ran its cloud-init
 * user-data: a random marker that the NoCloud seed (seed.h) asks the guest
 * to print, read from the serial console.
 *
 * One qemu per call, started with fork+exec (no shell; it dies with its
 * parent thread), its console on a pipe; KVM when /dev/kvm can be opened and the guest architecture is the
 * host's, TCG otherwise.  The disk is opened with snapshot=on, so the
 * guest never writes to it.  Whatever happens, the VM is killed by its PID
 * and reaped before the call returns, and the seed is removed.
 *
 * The disk must have passed cd_disk_probe(): a qcow2 image with a backing
 * file or an external data file would make qemu open host files.
 */

struct cd_boot_opts {
	int timeout;          /* seconds to wait for the marker */
	int memory_mb;        /* guest memory; 0: 1024 */
	const char *workdir;  /* where the seed is written (a private folder) */
};

/* The qemu binary for arch ("amd64", "arm64", "s390x"), or NULL for another. */
const char *cd_boot_qemu_name(const char *arch);

/*
 * Boot disk (format "qcow2" or "raw") as arch.  0 when the marker appeared
 * on the console; -1 and cd_seterr() otherwise: qemu missing for the
 * architecture, qemu ended before the marker (with the last console line),
 * or "timeout: no marker on the serial console within N s".
 * detail (may be NULL) gets a one-line summary on success.
 */
int cd_boot_disk(const char *arch, const char *disk, const char *format,
		 const struct cd_boot_opts *o, char *detail, size_t detail_len);

/* The user-data that prints marker (pure; caller frees). */
char *cd_boot_user_data(const char *marker);

#endif
