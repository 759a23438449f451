#!/usr/bin/env bats
# cd-verify when the registry misbehaves: tests/lib/regproxy.py in front of
# the real registry trickles or slows its answers.  cd-verify's --timeout is
# the boot's; --net-timeout is the network one the other tools call --timeout.

bats_require_minimum_version 1.5.0
load lib/verify

setup_file() {
	registry_start plain
	publish_disk slow 256K 4M
	regproxy_start
	# the same image, read through the proxy
	jq -c --arg r "$PROXY/containerdisks/slow" '.pushed.repository = $r' "$BATS_FILE_TMPDIR/slow.ndjson" \
		> "$BATS_FILE_TMPDIR/slow.via-proxy"
	mv "$BATS_FILE_TMPDIR/slow.via-proxy" "$BATS_FILE_TMPDIR/slow.ndjson"
}

teardown_file() { servers_stop; }

setup() {
	proxy_rules '[]'
}

@test "cd-verify: a registry that trickles the manifest (2 bytes/s) fails the record after --net-timeout" {
	proxy_rules "[{\"path\":\"/v2/containerdisks/slow/manifests/$D\",\"pad\":60000,\"rate\":2}]"
	run -1 --separate-stderr timeout 60 cd-verify --net-timeout 2 --retries 0 < "$BATS_FILE_TMPDIR/slow.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = false ]
	[ "$(jq -r .error.message <<< "$output")" = "top: $PROXY/containerdisks/slow@$D: GET http://$PROXY/v2/containerdisks/slow/manifests/$D: timed out: under 1 KiB/s for 2 s" ]
}

@test "cd-verify: an image config sent above the stall rate but too slowly fails at its deadline" {
	local cfg
	cfg=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REGISTRY/v2/containerdisks/slow/manifests/$D" | jq -r .config.digest)
	proxy_rules "[{\"path\":\"/v2/containerdisks/slow/blobs/$cfg\",\"pad\":600000,\"rate\":16384}]"
	run -1 --separate-stderr timeout 60 cd-verify --net-timeout 2 --retries 0 < "$BATS_FILE_TMPDIR/slow.ndjson"
	[ "$(jq -r .error.arch <<< "$output")" = amd64 ]
	[[ "$(jq -r .error.message <<< "$output")" == *"GET http://$PROXY/v2/containerdisks/slow/blobs/$cfg: timed out: not complete within 8 s" ]]
}

@test "cd-verify --net-timeout takes seconds, like --timeout" {
	run -2 --separate-stderr cd-verify --net-timeout 0
	[[ "$stderr" == *"invalid value '0' for --net-timeout"* ]]
}
