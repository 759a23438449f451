#!/usr/bin/env bats
# cd-verify against the real registry, with images published by independent
# clients: umoci builds the containerdisk layouts, skopeo pushes them.

bats_require_minimum_version 1.5.0
load lib/verify

setup_file() {
	registry_start plain
	local t=$BATS_FILE_TMPDIR
	# A qcow2 with data clusters at both ends, so a cut loses data.
	head -c 512K /dev/urandom > "$t/data.raw"
	truncate -s 64M "$t/data.raw"
	dd if=/dev/urandom of="$t/data.raw" bs=512K count=1 seek=124 conv=notrunc status=none
	qemu-img convert -O qcow2 "$t/data.raw" "$t/good.qcow2"
	cp "$t/good.qcow2" "$t/arm.qcow2"
	# whole 512-byte blocks: umoci writes no tar padding after a file's last block
	head -c "$(( $(stat -c %s "$t/good.qcow2") - 300032 ))" "$t/good.qcow2" > "$t/cut.qcow2"
	yes 'this is not a disk image' | head -c 4096 > "$t/text.img"
	S1=$(sha256sum "$t/good.qcow2" | cut -d' ' -f1)
	S2=$(printf arm | sha256sum | cut -d' ' -f1)

	GOOD=$(publish good "amd64:$t/good.qcow2:107:$S1" "arm64:$t/arm.qcow2:107:$S2")
	record good "$GOOD" "amd64:$S1" "arm64:$S2" > "$t/good.ndjson"
	d=$(PUBLISH_FORMAT=v2s2 publish docker "amd64:$t/good.qcow2:107:$S1" "arm64:$t/arm.qcow2:107:$S2")
	record docker "$d" "amd64:$S1" "arm64:$S2" > "$t/docker.ndjson"
	d=$(publish baduid "amd64:$t/good.qcow2:0:$S1")
	record baduid "$d" "amd64:$S1" > "$t/baduid.ndjson"
	d=$(publish notqcow2 "amd64:$t/text.img:107:$S1")
	record notqcow2 "$d" "amd64:$S1" > "$t/notqcow2.ndjson"
	d=$(publish cut "amd64:$t/cut.qcow2:107:$S1")
	record cut "$d" "amd64:$S1" > "$t/cut.ndjson"
	d=$(PUBLISH_MODE=0040 publish badmode "amd64:$t/good.qcow2:107:$S1")
	record badmode "$d" "amd64:$S1" > "$t/badmode.ndjson"
	# A disk of its own: the test damages this layer blob in the registry's
	# storage, and a layer shared with another image (umoci's layers of the
	# same disk made in the same second are identical) would damage that too.
	cp "$t/good.qcow2" "$t/tamper.qcow2"
	qemu-io -f qcow2 -c 'write -P 0x5a 0 4k' "$t/tamper.qcow2" > /dev/null
	d=$(publish tamper "amd64:$t/tamper.qcow2:107:$S1")
	record tamper "$d" "amd64:$S1" > "$t/tamper.ndjson"
	d=$(PUBLISH_HOOK=wrong_diff_id publish diffid "amd64:$t/good.qcow2:107:$S1")
	record diffid "$d" "amd64:$S1" > "$t/diffid.ndjson"
	d=$(publish badsum "amd64:$t/good.qcow2:107:$S2")
	record badsum "$d" "amd64:$S1" > "$t/badsum.ndjson"

	local bd
	bd=$(boot_disks)
	B=$(sha256sum "$bd/boot.qcow2" | cut -d' ' -f1)
	d=$(publish boot "amd64:$bd/boot.qcow2:107:$B")
	record boot "$d" "amd64:$B" > "$t/boot.ndjson"
	d=$(publish noboot "amd64:$bd/noboot.qcow2:107:$B")
	record noboot "$d" "amd64:$B" > "$t/noboot.ndjson"
	# what --accel auto must find, learnt without cd-verify
	KVM_BOOTS=$(kvm_boots "$bd/boot.qcow2")
	export GOOD S1 S2 KVM_BOOTS
}

teardown_file() { servers_stop; }

@test "a good two-architecture image passes every check" {
	run -0 --separate-stderr cd-verify < "$BATS_FILE_TMPDIR/good.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
	[ "$(jq -r 'has("error")' <<< "$output")" = false ]
	# one top check, then manifest/config/shasum/layer for each architecture
	[ "$(jq -r '[.verified.checks[] | select(.ok)] | length' <<< "$output")" = 9 ]
	[ "$(jq -r '[.verified.checks[] | select(.name == "layer") | .arch] | join(",")' <<< "$output")" = amd64,arm64 ]
	jq -e '.verified.checks[] | select(.name == "top") | .detail | test("OCI index .* linux/amd64 linux/arm64")' <<< "$output"
	jq -e '.verified.checks[] | select(.name == "layer" and .arch == "amd64") | .detail | test("qcow2, [0-9]+ bytes, virtual size 67108864, uid/gid 107")' <<< "$output"
	# the record's own fields are kept
	[ "$(jq -r .pushed.digest <<< "$output")" = "$GOOD" ]
}

@test "a Docker manifest list (what medius pushes) passes too" {
	run -0 --separate-stderr cd-verify < "$BATS_FILE_TMPDIR/docker.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
	jq -e '.verified.checks[] | select(.name == "top") | .detail | startswith("Docker manifest list ")' <<< "$output"
	jq -e '[.verified.checks[] | select(.name == "manifest") | .detail
		| test("^Docker manifest .* one layer application/vnd.docker.image.rootfs.diff.tar.gzip")] == [true, true]' <<< "$output"
}

@test "bad disks fail their record while a good one in the same stream passes" {
	local t=$BATS_FILE_TMPDIR
	cat "$t/baduid.ndjson" "$t/good.ndjson" "$t/notqcow2.ndjson" "$t/cut.ndjson" "$t/badsum.ndjson" > "$t/mixed.ndjson"
	run -1 --separate-stderr cd-verify --workers 3 < "$t/mixed.ndjson"
	[ "${#lines[@]}" -eq 5 ]
	[ "$(jq -r .name <<< "${lines[1]}")" = good ]
	[ "$(jq -r .verified.ok <<< "${lines[1]}")" = true ]
	[ "$(jq -r 'has("error")' <<< "${lines[1]}")" = false ]
	local l
	for l in 0 2 3 4; do
		[ "$(jq -r .verified.ok <<< "${lines[$l]}")" = false ]
		[ "$(jq -r .error.tool <<< "${lines[$l]}")" = cd-verify ]
		[ "$(jq -r .error.arch <<< "${lines[$l]}")" = amd64 ]
	done
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "layer: 'disk/' belongs to uid 0 gid 0, not 107:107 (qemu)" ]
	[ "$(jq -r .error.message <<< "${lines[2]}")" = "layer: disk/disk.img: not a disk image: neither qcow2 nor a raw disk with a boot signature" ]
	[[ "$(jq -r .error.message <<< "${lines[3]}")" == "layer: disk/disk.img: qcow2 is truncated: it needs at least "*" bytes, the file has "* ]]
	[ "$(jq -r .error.message <<< "${lines[4]}")" = "shasum: label shasum '$S2' differs from the upstream checksum '$S1'" ]
	# a wrong label does not hide what the layer holds
	[ "$(jq -r '.verified.checks[] | select(.name == "layer") | .ok' <<< "${lines[4]}")" = true ]
	[[ "$stderr" == *"cd-verify: baduid:1 amd64: layer: 'disk/' belongs to uid 0"* ]]
	[[ "$stderr" == *"cd-verify: cut:1 amd64: layer: disk/disk.img: qcow2 is truncated"* ]]
}

@test "an unreadable disk, a blob whose bytes are not its digest, a wrong diff_id: each fails" {
	local t=$BATS_FILE_TMPDIR layer data
	# change one byte of the stored layer behind the registry's back (same size)
	layer=$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/containerdisks/tamper:1" | jq -r '.layers[0].digest')
	layer=${layer#sha256:}
	data="$REGISTRY_DIR/data/docker/registry/v2/blobs/sha256/${layer:0:2}/$layer/data"
	[ -f "$data" ]
	printf '\xff' | dd of="$data" bs=1 seek=1000 conv=notrunc status=none
	cat "$t/badmode.ndjson" "$t/tamper.ndjson" "$t/good.ndjson" "$t/diffid.ndjson" > "$t/more-bad.ndjson"
	run -1 --separate-stderr cd-verify < "$t/more-bad.ndjson"
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "layer: 'disk/disk.img' has mode 0040: the qemu user cannot read it" ]
	[[ "$(jq -r .error.message <<< "${lines[1]}")" == "layer: $REGISTRY/containerdisks/tamper@sha256:$layer: blob digest mismatch: got sha256:"* ]]
	[ "$(jq -r .verified.ok <<< "${lines[2]}")" = true ]
	[[ "$(jq -r .error.message <<< "${lines[3]}")" == "layer: the uncompressed layer is sha256:"*", the config's diff_id says sha256:$(printf 'another layer' | sha256sum | cut -d' ' -f1)" ]]
}

@test "records without pushed and error records pass untouched" {
	local t=$BATS_FILE_TMPDIR
	local skip='{"name":"a","version":"1","action":"skip","artifacts":[{"arch":"amd64","url":"https://upstream.example/a.qcow2"}]}'
	{
		echo "$skip"
		echo '{"name":"b","version":"1","pushed":{"repository":"127.0.0.1:1/x/b","digest":"sha256:00"},"error":{"tool":"cd-push","message":"boom"}}'
		cat "$t/good.ndjson"
	} > "$t/pass.ndjson"
	run -0 --separate-stderr cd-verify < "$t/pass.ndjson"
	[ "${lines[0]}" = "$skip" ]
	[ "$(jq -cS . <<< "${lines[1]}")" = "$(sed -n 2p "$t/pass.ndjson" | jq -cS .)" ]
	[ "$(jq -r .verified.ok <<< "${lines[2]}")" = true ]
}

@test "the index must cover every architecture of the record, and the digest must exist" {
	local t=$BATS_FILE_TMPDIR
	record good "$GOOD" "amd64:$S1" "arm64:$S2" "s390x:$S1" > "$t/more.ndjson"
	record good "$GOOD" "amd64:$S1" > "$t/fewer.ndjson"
	record good "sha256:$(printf nothing | sha256sum | cut -d' ' -f1)" "amd64:$S1" > "$t/missing.ndjson"
	cat "$t/more.ndjson" "$t/fewer.ndjson" "$t/missing.ndjson" > "$t/arches.ndjson"
	run -1 --separate-stderr cd-verify < "$t/arches.ndjson"
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "top: the OCI index $GOOD has no linux/s390x entry" ]
	[ "$(jq -r .error.message <<< "${lines[1]}")" = "top: the index has linux/arm64, which the record does not have" ]
	[[ "$(jq -r .error.message <<< "${lines[2]}")" == "top: "*"manifest unknown"* ]]
}

@test "--boot --accel tcg boots the test disk under TCG and sees the marker" {
	mkdir -p "$BATS_TEST_TMPDIR/work"
	run -0 --separate-stderr cd-verify --boot --accel tcg --timeout 120 --tmpdir "$BATS_TEST_TMPDIR/work" < "$BATS_FILE_TMPDIR/boot.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
	[[ "$(jq -r '.verified.checks[] | select(.name == "boot") | .detail' <<< "$output")" == "marker seen on the serial console after "*" s (qemu-system-x86_64, TCG: --accel tcg)" ]]
	# the extracted disk and the seed are removed
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/work")" ]
}

@test "--boot picks KVM only where KVM boots the guest, TCG otherwise, and says which and why" {
	mkdir -p "$BATS_TEST_TMPDIR/work"
	run -0 --separate-stderr cd-verify -v --boot --timeout 120 --tmpdir "$BATS_TEST_TMPDIR/work" < "$BATS_FILE_TMPDIR/boot.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
	local detail
	detail=$(jq -r '.verified.checks[] | select(.name == "boot") | .detail' <<< "$output")
	echo "KVM_BOOTS=$KVM_BOOTS detail: $detail"
	if [ "$KVM_BOOTS" = yes ]; then
		[[ "$detail" == "marker seen on the serial console after "*" s (qemu-system-x86_64, KVM: a probe guest ran under KVM)" ]]
	elif [ "$(uname -m)" != x86_64 ]; then
		[[ "$detail" == *"(qemu-system-x86_64, TCG: KVM cannot run x86_64 guests on this $(uname -m) host)" ]]
	elif ! : 2> /dev/null < /dev/kvm; then
		[[ "$detail" == *"(qemu-system-x86_64, TCG: cannot open /dev/kvm: "*")" ]]
	else
		# /dev/kvm opens, yet KVM does not boot the disk (nested virtualisation)
		[[ "$detail" == "marker seen on the serial console after "*" s (qemu-system-x86_64, TCG: the KVM probe guest "*")" ]]
	fi
	# -v says it on stderr too
	[[ "$stderr" == *"cd-verify: debug: boot:1: amd64: boot: $detail"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/work")" ]
}

@test "--boot --accel kvm fails the boot check, saying why, where KVM cannot boot the guest" {
	[ "$KVM_BOOTS" = no ] || skip "KVM boots guests on this machine: --accel kvm has nothing to refuse"
	mkdir -p "$BATS_TEST_TMPDIR/work"
	run -1 --separate-stderr cd-verify --boot --accel kvm --timeout 120 --tmpdir "$BATS_TEST_TMPDIR/work" < "$BATS_FILE_TMPDIR/boot.ndjson"
	local msg
	msg=$(jq -r .error.message <<< "$output")
	echo "error: $msg"
	if [ "$(uname -m)" != x86_64 ]; then
		[ "$msg" = "boot: --accel kvm: KVM cannot run x86_64 guests on this $(uname -m) host" ]
	elif ! : 2> /dev/null < /dev/kvm; then
		[[ "$msg" == "boot: --accel kvm: cannot open /dev/kvm: "* ]]
	else
		# qemu's own words: "failed to set MSR 0x10a" here
		[[ "$msg" == "boot: --accel kvm: the KVM probe guest "*": "?* ]]
	fi
	[ "$(jq -r .error.arch <<< "$output")" = amd64 ]
	[ "$(jq -r '[.verified.checks[] | select(.ok | not) | .name] | join(",")' <<< "$output")" = boot ]
	[[ "$stderr" == *"cd-verify: boot:1 amd64: $msg"* ]]
	# no guest was booted: no seed was written, the probe's file is gone
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/work")" ]
}

@test "--boot fails a disk that does not boot with a timeout message" {
	mkdir -p "$BATS_TEST_TMPDIR/work"
	run -1 --separate-stderr cd-verify --boot --timeout 10 --tmpdir "$BATS_TEST_TMPDIR/work" < "$BATS_FILE_TMPDIR/noboot.ndjson"
	[[ "$(jq -r .error.message <<< "$output")" == "boot: timeout: no marker on the serial console within 10 s (KVM: "*"); last console line: "* ||
	   "$(jq -r .error.message <<< "$output")" == "boot: timeout: no marker on the serial console within 10 s (TCG: "*"); last console line: "* ]]
	# the layer itself was fine: only the boot failed
	[ "$(jq -r '[.verified.checks[] | select(.ok | not) | .name] | join(",")' <<< "$output")" = boot ]
	# the VM is gone and its files removed
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/work")" ]
}

@test "--boot says plainly when qemu for an architecture is missing" {
	command -v qemu-system-aarch64 && skip "qemu-system-aarch64 is installed here"
	record good "$GOOD" "amd64:$S1" "arm64:$S2" > "$BATS_TEST_TMPDIR/arm.ndjson"
	run -1 --separate-stderr cd-verify --boot --timeout 1 < "$BATS_TEST_TMPDIR/arm.ndjson"
	jq -e '.verified.checks[] | select(.name == "boot" and .arch == "arm64")
		| .ok == false and .detail == "qemu-system-aarch64 not found: cannot boot arm64 disks on this machine"' <<< "$output"
}

@test "usage: --help, a bad option, malformed input" {
	run -0 cd-verify --help
	[[ "$output" == "usage: cd-verify"* ]]
	[[ "$output" == *"--accel MODE "* ]]
	run -2 --separate-stderr cd-verify --timeout 0
	[[ "$stderr" == *"invalid value '0' for --timeout"* ]]
	run -2 --separate-stderr cd-verify --no-such-option
	run -2 --separate-stderr cd-verify --boot --accel hvf
	[[ "$stderr" == *"invalid value 'hvf' for --accel: expected auto, kvm or tcg"* ]]
	printf '{oops\n' > "$BATS_TEST_TMPDIR/bad.ndjson"
	cat "$BATS_FILE_TMPDIR/good.ndjson" >> "$BATS_TEST_TMPDIR/bad.ndjson"
	run -3 --separate-stderr cd-verify < "$BATS_TEST_TMPDIR/bad.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
}

@test "cd-verify | cd-promote: rejected disks (wrong uid, not qcow2, truncated) stay out of production, the good image goes in" {
	local t=$BATS_FILE_TMPDIR
	cat "$t/baduid.ndjson" "$t/good.ndjson" "$t/notqcow2.ndjson" "$t/cut.ndjson" > "$t/promote-in.ndjson"
	run -1 --separate-stderr cd-verify < "$t/promote-in.ndjson"
	printf '%s\n' "${lines[@]}" > "$t/verified-mixed.ndjson"
	run -0 --separate-stderr cd-promote --dry-run=false --source-registry "$REGISTRY" \
		--target-registry "$REGISTRY/production" < "$t/verified-mixed.ndjson"
	[ "$(jq -s -c 'map(select(has("promoted")) | .name)' <<< "$output")" = '["good"]' ]
	run -0 skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/production/good:1"
	[ "$(jq -r '[.manifests[].platform.architecture] | sort | join(",")' <<< "$output")" = amd64,arm64 ]
	for bad in baduid notqcow2 cut; do
		run -1 skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/production/$bad:1"
	done
}
