#!/usr/bin/env bats
# pipelines/mkmirror: a complete fake upstream for every catalog image;
# cd-discover over it gives one record per image, no error, and every
# checksum is the true one of the disk it names.

bats_require_minimum_version 1.5.0
load lib/upstream

setup_file() { upstream_start mkmirror; }
teardown_file() { servers_stop; }

@test "mkmirror + cd-discover: one record per catalog image, no error" {
	export CD_MIRRORS=$MIRRORS
	run -0 --separate-stderr cd-discover
	[ -z "$stderr" ]
	printf '%s\n' "$output" > "$BATS_FILE_TMPDIR/all.ndjson"
	[ "$(jq -s 'length' "$BATS_FILE_TMPDIR/all.ndjson")" = 20 ]
	[ "$(jq -s '[.[] | select(has("error"))] | length' "$BATS_FILE_TMPDIR/all.ndjson")" = 0 ]
	[ "$(jq -s '[.[] | select(.latest)] | map("\(.name):\(.version)")' -c "$BATS_FILE_TMPDIR/all.ndjson")" = \
		'["debian:13","fedora:43"]' ]
	# per-arch preferences as medius sets them: only where they differ from the image's
	[ "$(jq -c 'select(.name == "fedora" and .version == "43") | [.artifacts[] | .env.INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE]' \
		"$BATS_FILE_TMPDIR/all.ndjson")" = '[null,"fedora.arm64","fedora.s390x"]' ]
}

@test "mkmirror: every checksum is the true one of its qcow2, and all disks differ" {
	local url alg hex file n=0
	while read -r url alg hex; do
		file="$MIRROR/${url#https://}"
		[ "$(qemu-img info --output=json "$file" | jq -r .format)" = qcow2 ]
		[ "$("${alg}sum" "$file" | cut -d' ' -f1)" = "$hex" ]
		n=$((n + 1))
	done < <(jq -r '.artifacts[] | "\(.url) \(.checksum | sub(":"; " "))"' "$BATS_FILE_TMPDIR/all.ndjson")
	[ "$n" = 53 ]
	[ -z "$(jq -r '.artifacts[].checksum' "$BATS_FILE_TMPDIR/all.ndjson" | sort | uniq -d)" ]
}
