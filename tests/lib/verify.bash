# Helpers for cd-verify's bats files: containerdisks published into the
# registry of tests/lib/registry.bash by independent clients (umoci builds,
# skopeo pushes), and records that point at them:  load lib/verify
# (it loads lib/registry).

load lib/registry
load lib/upstream

# publish NAME ARCH:DISK:UID:SHASUM...  -> prints the pushed digest.
# Builds one image per architecture with umoci (disk/ 0555 and
# disk/disk.img 0444 owned by UID:UID), puts an OCI index over them when
# there are several, and pushes it as containerdisks/NAME:1 with skopeo
# (PUBLISH_FORMAT=v2s2: as a Docker manifest list and schema 2 manifests;
# PUBLISH_MODE: disk.img's mode, default 0444; PUBLISH_HOOK: a command run
# with LAYOUT ARCH on each image before it is pushed).
publish() {
	local name=$1 lay="$BATS_FILE_TMPDIR/lay-$1" spec arch disk owner sum entries=()
	shift
	rm -rf "$lay"
	umoci init --layout "$lay"
	for spec in "$@"; do
		IFS=: read -r arch disk owner sum <<< "$spec"
		local st="$BATS_FILE_TMPDIR/st-$name-$arch"
		rm -rf "$st"
		mkdir -p "$st/disk"
		cp "$disk" "$st/disk/disk.img"
		chown -R "$owner:$owner" "$st/disk"
		chmod "${PUBLISH_MODE:-0444}" "$st/disk/disk.img"
		chmod 0555 "$st/disk"
		umoci new --image "$lay:$arch"
		umoci insert --image "$lay:$arch" "$st/disk" /disk
		umoci config --image "$lay:$arch" --architecture "$arch" --os linux \
			--config.label "shasum=$sum" --config.entrypoint no-entrypoint
		[ -z "${PUBLISH_HOOK:-}" ] || "$PUBLISH_HOOK" "$lay" "$arch"
		local m
		m=$(jq -c --arg a "$arch" '.manifests[] | select(.annotations."org.opencontainers.image.ref.name" == $a)
			| {mediaType, digest, size, platform: {os: "linux", architecture: $a}}' "$lay/index.json")
		entries+=("$m")
	done
	local ref=${arch}
	if [ $# -gt 1 ]; then
		local idx="$BATS_FILE_TMPDIR/index-$name.json" d
		printf '%s\n' "${entries[@]}" | jq -cs '{schemaVersion: 2,
			mediaType: "application/vnd.oci.image.index.v1+json", manifests: .}' | tr -d '\n' > "$idx"
		d=$(sha256sum "$idx" | cut -d' ' -f1)
		cp "$idx" "$lay/blobs/sha256/$d"
		jq --arg d "sha256:$d" --argjson s "$(stat -c %s "$idx")" '.manifests += [{
			mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
			annotations: {"org.opencontainers.image.ref.name": "multi"}}]' \
			"$lay/index.json" > "$lay/index.json.new"
		mv "$lay/index.json.new" "$lay/index.json"
		ref=multi
	fi
	registry_push "$lay:$ref" "containerdisks/$name:1" "${PUBLISH_FORMAT:-oci}" >&2
	manifest_digest "containerdisks/$name:1"
}

# publish_disk NAME DATA SIZE: one amd64 image of a random_qcow2 disk of
# its own, published as containerdisks/NAME:1 (publish: uid 107, its
# shasum label the disk's sha256; PUBLISH_FORMAT as there), and its record
# in $BATS_FILE_TMPDIR/NAME.ndjson.  Sets and exports S (the disk's sha256)
# and D (the pushed digest).
publish_disk() {
	local name=$1 disk=$BATS_FILE_TMPDIR/$1.qcow2
	random_qcow2 "$disk" "$2" "$3"
	S=$(sha256sum "$disk" | cut -d' ' -f1)
	D=$(publish "$name" "amd64:$disk:107:$S")
	record "$name" "$D" "amd64:$S" > "$BATS_FILE_TMPDIR/$name.ndjson"
	export S D
}

# record NAME DIGEST ARCH:SUM... -> one record line with "pushed".
record() {
	local name=$1 digest=$2 spec arts=()
	shift 2
	for spec in "$@"; do
		arts+=("$(jq -cn --arg a "${spec%%:*}" --arg s "sha256:${spec#*:}" '{arch: $a, url: "https://upstream.example/\($a).qcow2", checksum: $s}')")
	done
	printf '%s\n' "${arts[@]}" | jq -cs --arg n "$name" --arg d "$digest" \
		--arg r "$REGISTRY/containerdisks/$name" \
		'{name: $n, version: "1", artifacts: ., pushed: {repository: $r, digest: $d, tags: ["1"]}}'
}

# wrong_diff_id LAYOUT TAG: rewrite the image's config with a diff_id that is
# not its layer's (a PUBLISH_HOOK); the manifest and index.json follow.
wrong_diff_id() {
	python3 - "$1" "$2" <<-'EOF'
	import hashlib, json, os, sys
	layout, tag = sys.argv[1], sys.argv[2]
	def blob(d):
	    return os.path.join(layout, "blobs", *d.split(":", 1))
	def put(obj):
	    body = json.dumps(obj, separators=(",", ":")).encode()
	    d = "sha256:" + hashlib.sha256(body).hexdigest()
	    open(blob(d), "wb").write(body)
	    return d, len(body)
	idx = json.load(open(os.path.join(layout, "index.json")))
	ent = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
	man = json.load(open(blob(ent["digest"])))
	cfg = json.load(open(blob(man["config"]["digest"])))
	cfg["rootfs"]["diff_ids"] = ["sha256:" + hashlib.sha256(b"another layer").hexdigest()]
	man["config"]["digest"], man["config"]["size"] = put(cfg)
	ent["digest"], ent["size"] = put(man)
	json.dump(idx, open(os.path.join(layout, "index.json"), "w"))
	EOF
}

# kvm_boots DISK: "yes" when qemu, started by hand under KVM as cd-verify
# would (-accel kvm -cpu host), boots the test disk DISK to the marker of a
# seed made with xorriso; "no" otherwise.  What cd-verify --accel auto must
# find, learnt without cd-verify's own probe.
kvm_boots() {
	local d=$BATS_FILE_TMPDIR/kvm-oracle
	mkdir -p "$d"
	printf '#cdkit-marker: cdkit-kvm-oracle\n' > "$d/user-data"
	printf 'instance-id: kvm-oracle\n' > "$d/meta-data"
	xorriso -as mkisofs -quiet -V cidata -J -r -o "$d/seed.iso" "$d/user-data" "$d/meta-data" 2> /dev/null
	timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nographic -monitor none -no-reboot -nic none \
		-drive "file=$1,format=qcow2,if=virtio,snapshot=on" \
		-drive "file=$d/seed.iso,format=raw,if=virtio,readonly=on" < /dev/null > "$d/console" 2>&1 || true
	if grep -q cdkit-kvm-oracle "$d/console"; then echo yes; else echo no; fi
}
