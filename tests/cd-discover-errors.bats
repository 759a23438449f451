#!/usr/bin/env bats
# cd-discover when upstream or the catalog is wrong: exact exit codes and
# messages; one failing image never stops the others.

bats_require_minimum_version 1.5.0
load lib/upstream

setup_file() {
	upstream_start tree
	export U22=https://cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS
	export C9=https://cloud.centos.org/centos/9-stream/x86_64/images/CHECKSUM
}

setup() {
	export CD_MIRRORS=$MIRRORS
	rules '[]'
}

teardown_file() { servers_stop; }

@test "upstream 404: an error record naming the URL, exit 1, the other image still written" {
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus ubuntu:24.04 --focus ubuntu:22.04
	local msg="GET https://cloud-images.ubuntu.com/releases/24.04/release/SHA256SUMS: HTTP 404 (not found)"
	[ "$(jq -c 'select(.version == "24.04") | .error' <<<"$output")" = \
		"{\"tool\":\"cd-discover\",\"arch\":\"amd64\",\"message\":\"$msg\"}" ]
	[ "$(jq -c 'select(.version == "22.04") | [has("error"), (.artifacts | length)]' <<<"$output")" = '[false,3]' ]
	[ "$stderr" = "cd-discover: ubuntu:24.04 amd64: $msg
cd-discover: 1 image failed" ]
}

@test "upstream 500 once, then 200: retried, exit 0" {
	rules '[{"path": "/cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS", "status": 500, "times": 1}]'
	run -0 --separate-stderr cd-discover --catalog "$CATALOG" --focus ubuntu:22.04
	[ "$(jq -r '.artifacts[0].checksum' <<<"$output")" = \
		sha256:de5e632e17b8965f2baf4ea6d2b824788e154d9a65df4fd419ec4019898e15cd ]
	run -0 grep -c '^GET /cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS 500' "$HTTPD_LOG"
	[ "$output" = 1 ]
}

@test "upstream 500 every time: the last status after all attempts" {
	rules '[{"path": "/cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS", "status": 500}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus ubuntu:22.04 --retries 2
	[ "$(jq -r .error.message <<<"$output")" = "GET $U22: HTTP 500 (after 3 attempts)" ]
}

@test "upstream hangs: --timeout 1 --retries 0 gives up with 'timed out'" {
	rules '[{"path": "/cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS", "hang": 20}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus ubuntu:22.04 --timeout 1 --retries 0
	[ "$(jq -r .error.message <<<"$output")" = "GET $U22: timed out: under 1 KiB/s for 1 s" ]
	[[ "$stderr" == *"ubuntu:22.04 amd64: GET $U22: timed out: under 1 KiB/s for 1 s"* ]]
}

@test "upstream trickles the checksum file (2 bytes/s): given up after --timeout, not held for ever" {
	rules '[{"path": "/cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS", "rate": 2}]'
	run -1 --separate-stderr timeout 60 cd-discover --catalog "$CATALOG" --focus ubuntu:22.04 --timeout 2 --retries 0
	[ "$(jq -r .error.message <<<"$output")" = "GET $U22: timed out: under 1 KiB/s for 2 s" ]
}

@test "upstream sends a checksum file above the stall rate but too slowly: given up at 4 x --timeout" {
	rules '[{"path": "/cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS", "length": 4000000, "rate": 16384}]'
	run -1 --separate-stderr timeout 60 cd-discover --catalog "$CATALOG" --focus ubuntu:22.04 --timeout 2 --retries 0
	[ "$(jq -r .error.message <<<"$output")" = "GET $U22: timed out: not complete within 8 s" ]
}

@test "truncated checksum file: the cut line is never read as a checksum" {
	local body f="$FIXTURES/upstream/centosstream__centos-stream9-x86_64.checksum" n
	n=$(grep -b -o 'qcow2) = bcebdc' "$f" | head -1 | cut -d: -f1)
	body=$(head -c $((n + 40)) "$f")
	[[ "$body" == *"GenericCloud-9-20211222.0.x86_64.qcow2) = bcebdc"* ]] # cut inside the hex
	rules "$(jq -cn --arg b "$body" '[{"path": "/cloud.centos.org/centos/9-stream/x86_64/images/CHECKSUM", "body": $b}]')"
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus centos-stream:9
	[ "$(jq -c .error <<<"$output")" = \
		"{\"tool\":\"cd-discover\",\"arch\":\"amd64\",\"message\":\"no matching file in $C9\"}" ]
}

@test "checksum file with no matching name (only -latest names): no matching file" {
	rules '[{"path": "/repo.almalinux.org/almalinux/9/cloud/x86_64/images/CHECKSUM",
		 "body": "c397eed7023e92c841155831b1f47e26300e5bef0f0256c129322307c897a251  AlmaLinux-9-GenericCloud-latest.x86_64.qcow2\n"}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus almalinux:9 --focus almalinux:10
	[ "$(jq -r 'select(.version == "9") | .error.message' <<<"$output")" = \
		"no matching file in https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/CHECKSUM" ]
	[ "$(jq -r 'select(.version == "10") | has("error")' <<<"$output")" = false ]
}

@test "malformed JSON upstream: an error record that says so" {
	rules '[{"path": "/cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.json", "body": "{\"items\": ["}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus debian:12
	[[ "$(jq -r .error.message <<<"$output")" == "malformed JSON in https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.json: "* ]]
	[ "$(jq -r .error.arch <<<"$output")" = amd64 ]
}

@test "malformed releases.json: one fedora error record" {
	rules '[{"path": "/getfedora.org/releases.json", "body": "not json"}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus 'fedora:*'
	[ "$(jq -r '"\(.name):\(.version)"' <<<"$output")" = 'fedora:*' ]
	[[ "$(jq -r .error.message <<<"$output")" == "malformed JSON in https://getfedora.org/releases.json: "* ]]
}

@test "a catalog file with a jq syntax error: names the file and jq's error, exit 2" {
	mkdir "$BATS_TEST_TMPDIR/cat"
	jq '.pick = "[ .[] | select(.name == "' "$CATALOG/ubuntu.json" > "$BATS_TEST_TMPDIR/cat/ubuntu.json"
	run -2 --separate-stderr cd-discover --catalog "$BATS_TEST_TMPDIR/cat"
	[ -z "$output" ]
	[[ "$stderr" == "cd-discover: $BATS_TEST_TMPDIR/cat/ubuntu.json: jq program \"pick\": jq: error: syntax error, "* ]]
}

@test "a catalog file that is not JSON: exit 2 naming the file" {
	printf '{"name": ' > "$BATS_TEST_TMPDIR/bad.json"
	run -2 --separate-stderr cd-discover --catalog "$BATS_TEST_TMPDIR/bad.json"
	[[ "$stderr" == "cd-discover: $BATS_TEST_TMPDIR/bad.json: malformed JSON: "* ]]
}

@test "unknown focus: exit 2 and says so, nothing fetched" {
	local before
	before=$(wc -l < "$HTTPD_LOG")
	run -2 --separate-stderr cd-discover --catalog "$CATALOG" --focus nosuch:1
	[ -z "$output" ]
	[[ "$stderr" == "cd-discover: focus 'nosuch:1' matches no catalog entry"* ]]
	run -2 --separate-stderr cd-discover --catalog "$CATALOG" --focus ubuntu:99.04
	[[ "$stderr" == "cd-discover: focus 'ubuntu:99.04' did not match any image"* ]]
	run -2 --separate-stderr cd-discover --catalog "$CATALOG" --focus ubuntu
	[[ "$stderr" == "cd-discover: malformed focus 'ubuntu': want name:version or 'name:*'"* ]]
	[ "$(wc -l < "$HTTPD_LOG")" = "$before" ]
}

@test "a focus on a version upstream does not list (fedora:99): exit 2 after looking" {
	run -2 --separate-stderr cd-discover --catalog "$CATALOG" --focus fedora:99 --focus fedora:40
	[ -z "$output" ]
	[ "$stderr" = "cd-discover: focus 'fedora:99' did not match any image" ]
}

@test "cd-discover takes no arguments and reads no stdin" {
	run -2 --separate-stderr cd-discover --catalog "$CATALOG" extra
	[[ "$stderr" == "cd-discover: unexpected argument 'extra'"* ]]
}
