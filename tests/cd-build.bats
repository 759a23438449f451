#!/usr/bin/env bats
# cd-build: images read back by independent tools (skopeo, umoci, tar,
# qemu-img, the real registry), reproducibility, cache, incremental builds.

bats_require_minimum_version 1.5.0
load lib/cd-build
load lib/registry

setup_file() {
	upstream_start disks
	registry_start
}

teardown_file() { servers_stop; }

setup() {
	mirror_args
	OUT=$BATS_TEST_TMPDIR/out
	CACHE=$BATS_TEST_TMPDIR/cache
	cd "$BATS_TEST_TMPDIR"
}

cdb() {
	cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" "$@"
}

@test "cd-build --help and --version print to stdout and exit 0" {
	help_and_version cd-build cd-build --compression
}

@test "cd-build: usage errors exit 2 and say why" {
	run --separate-stderr -2 cd-build --compression zstd
	[[ $stderr == *"--compression zstd needs --oci"* ]]
	run --separate-stderr -2 cd-build --compression lz4
	[[ $stderr == *"invalid value 'lz4' for --compression"* ]]
	run --separate-stderr -2 cd-build extra-arg
	[[ $stderr == *"unexpected argument 'extra-arg'"* ]]
	SOURCE_DATE_EPOCH=yesterday run --separate-stderr -2 cd-build
	[[ $stderr == *"invalid SOURCE_DATE_EPOCH"* ]]
}

@test "cd-build: single-arch Docker image; the registry and skopeo read it back, disk byte-identical" {
	record fedora 41 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	layout=$(jq -r .layout <<< "$output")
	digest=$(jq -r .digest <<< "$output")
	[ "$layout" = "$OUT/fedora/41" ]
	[ "$(jq -c .built <<< "$output")" = '["amd64"]' ]
	[ "$(jq -r .manifests.amd64 <<< "$output")" = "$digest" ]
	[ "$(jq -r .artifacts[0].arch <<< "$output")" = amd64 ]   # the record is kept
	[[ $stderr == *"fedora:41 amd64: downloaded and verified"* ]]
	[[ $stderr == *"cache '$CACHE': "*" in 1 file"* ]]
	[ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$layout/index.json")" = 41 ]

	layout_push "$layout" containerdisks/fedora 41
	run -0 skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/containerdisks/fedora:41"
	[ "$(jq -r .mediaType <<< "$output")" = application/vnd.docker.distribution.manifest.v2+json ]
	[ "$(jq -r .config.mediaType <<< "$output")" = application/vnd.docker.container.image.v1+json ]
	[ "$(jq -r '.layers | length' <<< "$output")" = 1 ]
	[ "$(jq -r .layers[0].mediaType <<< "$output")" = application/vnd.docker.image.rootfs.diff.tar.gzip ]
	run -0 skopeo inspect --tls-verify=false --config "docker://$REGISTRY/containerdisks/fedora:41"
	[ "$(jq -r .config.Labels.shasum <<< "$output")" = "$(sum a.qcow2)" ]
	[ "$(jq -c .config.Env <<< "$output")" = '["INSTANCETYPE_KUBEVIRT_IO_DEFAULT_INSTANCETYPE=u1.medium","INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE=fedora"]' ]
	[ "$(jq -c .config.Entrypoint <<< "$output")" = '["no-entrypoint"]' ]
	[ "$(jq -r .architecture,.os <<< "$output" | tr '\n' ' ')" = "amd64 linux " ]
	[ "$(jq -r 'has("created")' <<< "$output")" = false ]

	run -0 skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/containerdisks/fedora:41" "dir:$BATS_TEST_TMPDIR/dir"
	blob=$BATS_TEST_TMPDIR/dir/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$BATS_TEST_TMPDIR/dir/manifest.json")
	run -0 tar -tvzf "$blob"
	[ "${lines[0]}" = "dr-xr-xr-x qemu/qemu         0 1970-01-01 00:00 disk/" ]
	[[ ${lines[1]} == "-r--r--r-- qemu/qemu "*" 1970-01-01 00:00 disk/disk.img" ]]
	[ "${#lines[@]}" -eq 2 ]
	unpack_layer "$blob" "$BATS_TEST_TMPDIR/root"
	[ "$(stat -c '%u %g %a' "$BATS_TEST_TMPDIR/root/disk" "$BATS_TEST_TMPDIR/root/disk/disk.img" | tr '\n' ' ')" = "107 107 555 107 107 444 " ]
	cmp "$BATS_TEST_TMPDIR/root/disk/disk.img" "$SRV/a.qcow2"
	qemu-img check -q "$BATS_TEST_TMPDIR/root/disk/disk.img"
}

@test "cd-build --oci: umoci unpacks the image; owners, modes and disk as upstream" {
	record ubuntu 24.04 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb --oci < in.ndjson
	layout=$(jq -r .layout <<< "$output")
	run -0 skopeo inspect --raw "oci:$layout:24.04"
	[ "$(jq -r .mediaType <<< "$output")" = application/vnd.oci.image.manifest.v1+json ]
	[ "$(jq -r .config.mediaType <<< "$output")" = application/vnd.oci.image.config.v1+json ]
	[ "$(jq -r .layers[0].mediaType <<< "$output")" = application/vnd.oci.image.layer.v1.tar+gzip ]
	run -0 skopeo inspect "oci:$layout:24.04"
	[ "$(jq -r .Labels.shasum <<< "$output")" = "$(sum a.qcow2)" ]
	run -0 umoci unpack --image "$layout:24.04" "$BATS_TEST_TMPDIR/bundle"
	root=$BATS_TEST_TMPDIR/bundle/rootfs
	[ "$(ls -A "$root")" = disk ]
	[ "$(ls -A "$root/disk")" = disk.img ]
	[ "$(stat -c '%u %g %a' "$root/disk" "$root/disk/disk.img" | tr '\n' ' ')" = "107 107 555 107 107 444 " ]
	cmp "$root/disk/disk.img" "$SRV/a.qcow2"
	qemu-img check -q "$root/disk/disk.img"
}

@test "cd-build: multi-arch record from xz, gzip, bzip2 and zstd upstreams gives a manifest list" {
	record debian 13 "$(artifact amd64 a.qcow2.xz xz)" "$(artifact arm64 b.qcow2.gz gzip)" \
		"$(artifact s390x b.qcow2.bz2 bzip2)" > in.ndjson
	record leap 16.0 "$(artifact amd64 b.qcow2.zst zstd)" "$(artifact arm64 b.qcow2 null)" >> in.ndjson
	run --separate-stderr -0 cdb --workers 2 < in.ndjson
	[ "${#lines[@]}" -eq 2 ]
	deb_rec=${lines[0]} leap_rec=${lines[1]}
	deb=$(jq -r .layout <<< "$deb_rec")
	[ "$(jq -c .built <<< "$deb_rec")" = '["amd64","arm64","s390x"]' ]
	[ "$(jq -r .manifests[0].mediaType "$deb/index.json")" = application/vnd.docker.distribution.manifest.list.v2+json ]

	layout_push "$deb" containerdisks/debian 13
	run -0 skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/containerdisks/debian:13"
	[ "$(jq -r .mediaType <<< "$output")" = application/vnd.docker.distribution.manifest.list.v2+json ]
	[ "$(jq -c '[.manifests[].platform]' <<< "$output")" = '[{"architecture":"amd64","os":"linux"},{"architecture":"arm64","os":"linux"},{"architecture":"s390x","os":"linux"}]' ]
	[ "$(jq -r '[.manifests[].mediaType] | unique[]' <<< "$output")" = application/vnd.docker.distribution.manifest.v2+json ]
	[ "$(jq -r .digest <<< "$deb_rec")" = "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" ]

	for a in amd64:a.qcow2.xz:a.qcow2 arm64:b.qcow2.gz:b.qcow2 s390x:b.qcow2.bz2:b.qcow2; do
		IFS=: read -r arch up disk <<< "$a"
		run -0 skopeo inspect --tls-verify=false --override-arch "$arch" --config "docker://$REGISTRY/containerdisks/debian:13"
		[ "$(jq -r .architecture <<< "$output")" = "$arch" ]
		[ "$(jq -r .config.Labels.shasum <<< "$output")" = "$(sum "$up")" ]
		run -0 skopeo copy -q --src-tls-verify=false --override-arch "$arch" "docker://$REGISTRY/containerdisks/debian:13" "dir:$BATS_TEST_TMPDIR/$arch"
		blob=$BATS_TEST_TMPDIR/$arch/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$BATS_TEST_TMPDIR/$arch/manifest.json")
		unpack_layer "$blob" "$BATS_TEST_TMPDIR/root-$arch"
		cmp "$BATS_TEST_TMPDIR/root-$arch/disk/disk.img" "$SRV/$disk"
	done

	leap=$(jq -r .layout <<< "$leap_rec")
	m=$(jq -r '.manifests[0].digest | ltrimstr("sha256:")' "$leap/index.json")
	[ "$(jq -r '.manifests | length' "$leap/blobs/sha256/$m")" = 2 ]
}

@test "cd-build --oci: a multi-arch OCI index that skopeo resolves per architecture" {
	record centos-stream 10 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2.gz gzip)" > in.ndjson
	run --separate-stderr -0 cdb --oci < in.ndjson
	layout=$(jq -r .layout <<< "$output")
	run -0 skopeo inspect --raw "oci:$layout:10"
	[ "$(jq -r .mediaType <<< "$output")" = application/vnd.oci.image.index.v1+json ]
	[ "$(jq -c '[.manifests[].platform.architecture]' <<< "$output")" = '["amd64","arm64"]' ]
	run -0 skopeo copy -q --override-arch arm64 "oci:$layout:10" "dir:$BATS_TEST_TMPDIR/arm"
	blob=$BATS_TEST_TMPDIR/arm/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$BATS_TEST_TMPDIR/arm/manifest.json")
	unpack_layer "$blob" "$BATS_TEST_TMPDIR/root"
	cmp "$BATS_TEST_TMPDIR/root/disk/disk.img" "$SRV/b.qcow2"
	qemu-img check -q "$BATS_TEST_TMPDIR/root/disk/disk.img"
}

@test "cd-build: two builds in different places at different times give identical digests" {
	record fedora 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2.gz gzip)" > in.ndjson
	run --separate-stderr -0 cd-build "${MIRROR_ARGS[@]}" --cache "$BATS_TEST_TMPDIR/c1" -o "$BATS_TEST_TMPDIR/o1" < in.ndjson
	first=$output
	sleep 1
	run --separate-stderr -0 cd-build "${MIRROR_ARGS[@]}" --cache "$BATS_TEST_TMPDIR/c2" -o "$BATS_TEST_TMPDIR/o2" < in.ndjson
	[ "$(jq -c '[.digest, .manifests]' <<< "$first")" = "$(jq -c '[.digest, .manifests]' <<< "$output")" ]
	diff -r "$BATS_TEST_TMPDIR/o1/fedora/41" "$BATS_TEST_TMPDIR/o2/fedora/41"
	# SOURCE_DATE_EPOCH becomes the creation time, and is reproducible too.
	SOURCE_DATE_EPOCH=1700000000 run --separate-stderr -0 cd-build "${MIRROR_ARGS[@]}" --cache "$BATS_TEST_TMPDIR/c2" -o "$BATS_TEST_TMPDIR/o3" < in.ndjson
	sde=$(jq -r .digest <<< "$output")
	[ "$sde" != "$(jq -r .digest <<< "$first")" ]
	SOURCE_DATE_EPOCH=1700000000 run --separate-stderr -0 cd-build "${MIRROR_ARGS[@]}" --cache "$BATS_TEST_TMPDIR/c2" -o "$BATS_TEST_TMPDIR/o4" < in.ndjson
	[ "$(jq -r .digest <<< "$output")" = "$sde" ]
	cfg=$(jq -r '.config.digest | ltrimstr("sha256:")' "$BATS_TEST_TMPDIR/o4/fedora/41/blobs/sha256/$(jq -r '.manifests.amd64 | ltrimstr("sha256:")' <<< "$output")")
	[ "$(jq -r .created "$BATS_TEST_TMPDIR/o4/fedora/41/blobs/sha256/$cfg")" = 2023-11-14T22:13:20Z ]
}

@test "cd-build: a file already in the cache is not downloaded again" {
	record fedora 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2.gz gzip)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	first=$(jq -r .digest <<< "$output")
	[ -f "$CACHE/sha256/$(sum a.qcow2)" ]
	# the disk of the gzip file is an entry of its own, named by its own sha256
	disk=$(sha256sum < "$SRV/b.qcow2" | cut -d' ' -f1)
	[ "$(readlink "$CACHE/sha256/$(sum b.qcow2.gz).disk")" = "../sha256/$disk" ]
	[ -f "$CACHE/sha256/$disk" ]
	[ ! -e "$CACHE/sha256/$(sum b.qcow2.gz)" ]
	[ -z "$(ls -A "$CACHE/tmp")" ]
	before=$(grep -c '^GET /a.qcow2 \|^GET /b.qcow2.gz ' "$HTTPD_LOG")
	run --separate-stderr -0 cdb < in.ndjson
	[ "$(grep -c '^GET /a.qcow2 \|^GET /b.qcow2.gz ' "$HTTPD_LOG")" -eq "$before" ]
	[[ $stderr == *"fedora:41 amd64: in the cache"* ]]
	[[ $stderr == *"fedora:41 arm64: in the cache"* ]]
	[[ $stderr == *"cache '$CACHE': "*" in 2 files"* ]]
	[ "$(jq -r .digest <<< "$output")" = "$first" ]
}

@test "cd-build: a-b:1 and a:b-1 get a layout each, <output>/<name>/<version>, each with its own image" {
	record a-b 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	record a b-1 "$(artifact amd64 b.qcow2)" >> in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[ "$(jq -r .layout <<< "${lines[0]}")" = "$OUT/a-b/1" ]
	[ "$(jq -r .layout <<< "${lines[1]}")" = "$OUT/a/b-1" ]
	[ "$(ls -A "$OUT" | tr '\n' ' ')" = "a a-b " ]
	i=0
	for f in a.qcow2 b.qcow2; do
		layout=$(jq -r .layout <<< "${lines[$i]}")
		[ "$(jq -r '.manifests[0].digest' "$layout/index.json")" = "$(jq -r .digest <<< "${lines[$i]}")" ]
		man=$layout/blobs/sha256/$(jq -r '.digest | ltrimstr("sha256:")' <<< "${lines[$i]}")
		[ "$(jq -r .config.Labels.shasum "$layout/blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' "$man")")" = "$(sum "$f")" ]
		unpack_layer "$layout/blobs/sha256/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$man")" "root$i"
		cmp "root$i/disk/disk.img" "$SRV/$f"
		i=$((i + 1))
	done
	check_store "$CACHE" "$OUT"
}

@test "cd-build: sha512 checksums are verified too" {
	record debian 12 "$(artifact amd64 a.qcow2 null sha512)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[ -f "$CACHE/sha512/$(sum a.qcow2 sha512)" ]
	cfg=$(jq -r '.config.digest | ltrimstr("sha256:")' "$OUT/debian/12/blobs/sha256/$(jq -r '.digest | ltrimstr("sha256:")' <<< "$output")")
	[ "$(jq -r .config.Labels.shasum "$OUT/debian/12/blobs/sha256/$cfg")" = "$(sum a.qcow2 sha512)" ]
}

@test "cd-build: an artifact without a published checksum is labelled with the sha256 of the download" {
	a='{"arch":"amd64","url":"https://upstream.example/img/b.qcow2","checksum":null}'
	record fedora 44-beta "$a" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[[ $stderr == *"fedora:44-beta amd64: downloaded (no upstream checksum to verify)"* ]]
	cfg=$(jq -r '.config.digest | ltrimstr("sha256:")' "$OUT/fedora/44-beta/blobs/sha256/$(jq -r '.digest | ltrimstr("sha256:")' <<< "$output")")
	[ "$(jq -r .config.Labels.shasum "$OUT/fedora/44-beta/blobs/sha256/$cfg")" = "$(sum b.qcow2)" ]
}

@test "cd-build: with \"changed\", only those arches are built and named in \"built\"" {
	record fedora 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" "$(artifact s390x b.qcow2)" |
		jq -c '. + {action: "build", changed: ["arm64"]}' > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[ "$(jq -c .built <<< "$output")" = '["arm64"]' ]
	[ "$(jq -r '.manifests | keys | join(",")' <<< "$output")" = arm64 ]
	layout=$(jq -r .layout <<< "$output")
	list=$(jq -r '.manifests[0].digest | ltrimstr("sha256:")' "$layout/index.json")
	[ "$(jq -c '[.manifests[].platform.architecture]' "$layout/blobs/sha256/$list")" = '["arm64"]' ]
	[[ $stderr != *"fedora:41 amd64"* ]]   # amd64 was neither fetched nor built
}

@test "cd-build: progress bars redrawn in place on a terminal, plain lines otherwise" {
	record fedora 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[[ $stderr != *$'\e'* ]]
	[[ $stderr == *"fedora:41 amd64: downloaded and verified"* ]]
	# On a terminal (script(1) gives the tool a pty for stderr).
	run -0 script -qec "cd-build ${MIRROR_ARGS[*]} --cache '$CACHE.tty' -o '$OUT.tty' < in.ndjson > tty.ndjson" tty.log
	[ "$(jq -r .digest tty.ndjson)" != null ]
	grep -q $'\e\[K' tty.log                    # lines cleared and redrawn
	grep -q 'fedora:41 arm64 ' tty.log             # a bar per download
	grep -q 'fedora:41 amd64: downloaded and verified' tty.log
}

@test "cd-build: skip and error records pass untouched; an unknown action is an error" {
	SKIP='{"name":"a","version":"1","action":"skip","artifacts":[{"arch":"amd64","url":"https://upstream.example/img/a.qcow2"}]}'
	{
		echo "$SKIP"
		echo '{"name":"b","version":"1","error":{"tool":"cd-current","message":"boom"}}'
		record c 1 "$(artifact amd64 a.qcow2)" | jq -c '.action = "rebuild"'
	} > in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[ "${lines[0]}" = "$SKIP" ]
	[ "${lines[1]}" = '{"name":"b","version":"1","error":{"tool":"cd-current","message":"boom"}}' ]
	[ "$(jq -r .error.tool <<< "${lines[2]}")" = cd-build ]
	[ "$(jq -r .error.message <<< "${lines[2]}")" = "invalid record: action: 'rebuild' is neither \"build\" nor \"skip\"" ]
	[ ! -e "$OUT/a" ]
}

@test "cd-build --compression none and --oci --compression zstd write readable layers" {
	record fedora 41 "$(artifact amd64 b.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb --compression none < in.ndjson
	layout=$(jq -r .layout <<< "$output")
	man=$layout/blobs/sha256/$(jq -r '.digest | ltrimstr("sha256:")' <<< "$output")
	[ "$(jq -r .layers[0].mediaType "$man")" = application/vnd.docker.image.rootfs.diff.tar ]
	unpack_layer "$layout/blobs/sha256/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$man")" "$BATS_TEST_TMPDIR/none"
	cmp "$BATS_TEST_TMPDIR/none/disk/disk.img" "$SRV/b.qcow2"

	run --separate-stderr -0 cdb --oci --compression zstd -o "$BATS_TEST_TMPDIR/z" < in.ndjson
	layout=$(jq -r .layout <<< "$output")
	run -0 skopeo inspect --raw "oci:$layout:41"
	[ "$(jq -r .layers[0].mediaType <<< "$output")" = application/vnd.oci.image.layer.v1.tar+zstd ]
	unpack_layer "$layout/blobs/sha256/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' <<< "$output")" "$BATS_TEST_TMPDIR/zst"
	cmp "$BATS_TEST_TMPDIR/zst/disk/disk.img" "$SRV/b.qcow2"
}

@test "cd-build: an artifact's own env replaces the record's for that arch (fedora.arm64)" {
	arm=$(artifact arm64 b.qcow2 | jq -c '.env = {"INSTANCETYPE_KUBEVIRT_IO_DEFAULT_INSTANCETYPE":"u1.medium","INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE":"fedora.arm64"}')
	record fedora 41 "$(artifact amd64 a.qcow2)" "$arm" > in.ndjson
	run --separate-stderr -0 cdb --oci < in.ndjson
	layout=$(jq -r .layout <<< "$output")
	for a in amd64 arm64; do
		run -0 skopeo inspect --config --override-arch "$a" "oci:$layout:41"
		pref=$(jq -r '.config.Env[] | select(startswith("INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE="))' <<< "$output")
		[ "$a" = amd64 ] && [ "$pref" = INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE=fedora ] && continue
		[ "$pref" = INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE=fedora.arm64 ]
	done
}
