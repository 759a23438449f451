#ifndef CD_BOOT_H
#define CD_BOOT_H
/*
 * Boot a disk image in qemu and wait for proof that it ran its cloud-init
 * user-data: a random marker that the NoCloud seed (seed.h) asks the guest
 * to print, read from the serial console.
 *
 * One qemu per call, started with fork+exec (no shell; it dies with its
 * parent thread), its console on a pipe.  The disk is opened with
 * snapshot=on, so the guest never writes to it.  Whatever happens, the VM
 * is killed by its PID and reaped before the call returns, and the seed is
 * removed.
 *
 * The accelerator: /dev/kvm opening is no proof that KVM runs a guest (a
 * nested virtual machine may abort qemu at the first vCPU register load,
 * "failed to set MSR 0x10a"), so before the first KVM boot of an
 * architecture in this process a probe guest of a few instructions is run
 * under KVM with the boot's own -cpu and machine: it must reach its exit
 * port (amd64: isa-debug-exit; arm64: PSCI SYSTEM_OFF) within 20 s.  The
 * result is kept for the process (all threads).  s390x has no probe guest.
 * The probe proves that KVM enters the guest, not that every later guest
 * instruction runs: a KVM boot that fails later is not retried under TCG.
 *
 * The disk must have passed cd_disk_probe(): a qcow2 image with a backing
 * file or an external data file would make qemu open host files.
 */

enum cd_boot_accel {
	CD_BOOT_AUTO,  /* KVM when the host runs the guest's architecture, /dev/kvm
	                  opens and the probe guest ran under KVM; TCG otherwise */
	CD_BOOT_KVM,   /* KVM (after the same checks), or an error saying why not;
	                  for s390x, KVM without a probe */
	CD_BOOT_TCG,   /* always TCG */
};

struct cd_boot_opts {
	int timeout;          /* seconds to wait for the marker */
	enum cd_boot_accel accel;
	int memory_mb;        /* guest memory; 0: 1024 */
	const char *workdir;  /* where the seed is written (a private folder) */
};

/*
 * Boot disk (format "qcow2" or "raw") as arch.  0 when the marker appeared
 * on the console; -1 and cd_seterr() otherwise: qemu missing for the
 * architecture, qemu ended before the marker (with the last console line),
 * or "timeout: no marker on the serial console within N s"; with
 * CD_BOOT_KVM, "--accel kvm: <why KVM cannot be used>" before any boot.
 * detail (may be NULL) gets a one-line summary on success.  Both the
 * summary and the messages after a boot name the qemu, the accelerator
 * and why it was chosen: "(qemu-system-x86_64, TCG: <why>)".
 */
int cd_boot_disk(const char *arch, const char *disk, const char *format,
		 const struct cd_boot_opts *o, char *detail, size_t detail_len);

/* The user-data that prints marker (pure; caller frees). */
char *cd_boot_user_data(const char *marker);

#endif
