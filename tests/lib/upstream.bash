# Upstreams as the tools meet them: files served over loopback HTTP by
# tests/lib/httpd.py (lib/common's httpd_start).  load lib/upstream
# (it loads lib/common).
#
# upstream_start KIND [ARGS...], in setup_file; KIND one of
#   disks [N]     make_disks in $SRV (and N tiny disks, make_tiny_disks),
#                 as https://upstream.example/img/
#   random FILE DATA [N]   $SRV/FILE, a random_qcow2 of DATA, in
#                 $SRV/SHA256SUMS (and N tiny disks), as .../img/ too
#   tiny [DIR]    one tiny qcow2 (1 MiB virtual, 4 KiB clusters),
#                 $SRV/DIR/tiny.qcow2, its checksum in TINY_SUM
#                 ("sha256:..."): https://upstream.example/[DIR/]tiny.qcow2
#   empty         an empty $SRV, as https://upstream.example/
#   tree          the recorded upstream files of tests/fixtures/upstream
#                 (tests/lib/upstream-tree) in $TREE, as the upstreams'
#                 own URLs; CATALOG the real catalog
#   mkmirror [ARGS...]   pipelines/mkmirror's complete fake upstream of
#                 every catalog image (ARGS: its options, --catalog DIR) in
#                 $MIRROR, as the upstreams' own URLs
# then serves that folder (SRV, TREE or MIRROR) with httpd_start and
# exports what it set, and MIRRORS: the mirror map from those URLs to it
# (lib/common unsets CD_MIRRORS in every test: a test hands MIRRORS on).

load lib/common

upstream_start() {
	local kind=$1
	shift
	case $kind in
	disks)
		export SRV=$BATS_FILE_TMPDIR/srv
		make_disks "$SRV"
		[ -z "${1:-}" ] || make_tiny_disks "$SRV" "$1"
		_upstream_serve img/ ;;
	random)
		export SRV=$BATS_FILE_TMPDIR/srv
		mkdir -p "$SRV"
		random_qcow2 "$SRV/$1" "$2"
		(cd "$SRV" && sha256sum "$1" > SHA256SUMS)
		[ -z "${3:-}" ] || make_tiny_disks "$SRV" "$3"
		_upstream_serve img/ ;;
	tiny)
		export SRV=$BATS_FILE_TMPDIR/srv
		mkdir -p "$SRV/${1:-}"
		qemu-img create -q -f qcow2 -o cluster_size=4096 "$SRV/${1:+$1/}tiny.qcow2" 1M
		TINY_SUM=sha256:$(sha256sum "$SRV/${1:+$1/}tiny.qcow2" | cut -d' ' -f1)
		export TINY_SUM
		_upstream_serve ;;
	empty)
		export SRV=$BATS_FILE_TMPDIR/srv
		mkdir -p "$SRV"
		_upstream_serve ;;
	tree)
		export TREE=$BATS_FILE_TMPDIR/tree CATALOG=$CDKIT_ROOT/pipelines/catalog
		mkdir -p "$TREE"
		httpd_start "$TREE" || return 1
		MIRRORS=$("$CDKIT_ROOT/tests/lib/upstream-tree" "$TREE" "$HTTPD_URL")
		export MIRRORS ;;
	mkmirror)
		export MIRROR=$BATS_FILE_TMPDIR/mirror
		mkdir -p "$MIRROR"
		httpd_start "$MIRROR" || return 1
		MIRRORS=$("$CDKIT_ROOT/pipelines/mkmirror" "$@" "$MIRROR" "$HTTPD_URL")
		export MIRRORS ;;
	*) echo "upstream_start: unknown kind '$kind'" >&2; return 1 ;;
	esac
}

# _upstream_serve [PATH]: serve $SRV as https://upstream.example/PATH.
_upstream_serve() {
	httpd_start "$SRV" || return 1
	export MIRRORS="https://upstream.example/${1:-}=$HTTPD_URL/"
}

# random_qcow2 FILE DATA [SIZE]: a qcow2 (of SIZE virtual, else DATA) whose
# first DATA bytes are random (sizes as head -c and truncate -s take them).
random_qcow2() {
	head -c "$2" /dev/urandom > "$1.raw"
	[ -z "${3:-}" ] || truncate -s "$3" "$1.raw"
	qemu-img convert -q -f raw -O qcow2 "$1.raw" "$1"
	rm -f "$1.raw"
}

# boot_disks: the folder of tests/lib/mkbootdisk's disks, boot.qcow2 (boots
# to a marker on the serial console) and noboot.qcow2; made once and kept
# between runs (CI runs the suite twice), keyed on the script that makes them.
boot_disks() {
	local bd
	bd="${TMPDIR:-/tmp}/cdkit-bootdisk-$(id -u)-$(sha256sum "$CDKIT_ROOT/tests/lib/mkbootdisk" | cut -c1-12)"
	"$CDKIT_ROOT/tests/lib/mkbootdisk" "$bd" > /dev/null || return 1
	echo "$bd"
}

# make_disks DIR: small qcow2 upstream files made with qemu-img, with data in
# them, plus xz/gzip/bzip2/zstd copies, a corrupt xz, and SHA256SUMS/SHA512SUMS.
make_disks() {
	local d=$1 w=$BATS_FILE_TMPDIR/raw
	mkdir -p "$d" "$w"
	# Mostly incompressible (like real cloud images) with some text, 8 MiB virtual.
	head -c 2M /dev/urandom > "$w/a.raw"
	printf 'cdkit test disk A\n%.0s' $(seq 2000) >> "$w/a.raw"
	truncate -s 8M "$w/a.raw"
	qemu-img convert -q -f raw -O qcow2 "$w/a.raw" "$d/a.qcow2"
	# A second, different and compressible disk.
	printf 'cdkit test disk B\n%.0s' $(seq 20000) > "$w/b.raw"
	truncate -s 4M "$w/b.raw"
	qemu-img convert -q -f raw -O qcow2 "$w/b.raw" "$d/b.qcow2"
	xz -T1 -0 -k -c "$d/a.qcow2" > "$d/a.qcow2.xz"
	gzip -1 -c "$d/b.qcow2" > "$d/b.qcow2.gz"
	bzip2 -1 -c "$d/b.qcow2" > "$d/b.qcow2.bz2"
	zstd -q -1 -c "$d/b.qcow2" > "$d/b.qcow2.zst"
	# A corrupt xz stream: valid header, damaged in the middle.
	cp "$d/a.qcow2.xz" "$d/bad.qcow2.xz"
	printf 'garbage!garbage!' | dd of="$d/bad.qcow2.xz" bs=1 seek=100000 conv=notrunc status=none
	(cd "$d" && sha256sum -- *.qcow2 *.xz *.gz *.bz2 *.zst > SHA256SUMS && sha512sum -- *.qcow2 > SHA512SUMS)
}

# make_tiny_disks DIR N: N more small qcow2 files t01.qcow2 ... (1 MiB virtual,
# a different first cluster each; 384 KiB), for runs of many records; their
# sums are added to DIR/SHA256SUMS.
make_tiny_disks() {
	local d=$1 n=$2 w=$BATS_FILE_TMPDIR/raw i
	mkdir -p "$w"
	for i in $(seq -w 1 "$n"); do
		yes "cdkit tiny disk $i" | head -n 200 > "$w/t.raw"
		truncate -s 1M "$w/t.raw"
		qemu-img convert -q -f raw -O qcow2 "$w/t.raw" "$d/t$i.qcow2"
	done
	(cd "$d" && sha256sum -- t[0-9]*.qcow2 >> SHA256SUMS)
}
