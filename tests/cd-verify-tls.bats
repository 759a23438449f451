#!/usr/bin/env bats
# cd-verify against a registry that speaks TLS with a certificate of a CA
# made for the test: verified with --ca-file, refused without it.

bats_require_minimum_version 1.5.0
load lib/verify

setup_file() {
	registry_start tls
	publish_disk secure 1M 16M
}

teardown_file() { servers_stop; }

@test "TLS: the image is read over https with --ca-file" {
	run -0 --separate-stderr cd-verify --ca-file "$REGISTRY_CA" < "$BATS_FILE_TMPDIR/secure.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
	[ "$(jq -r '[.verified.checks[] | select(.ok)] | length' <<< "$output")" = 5 ]
}

@test "TLS: an unknown CA is a failed record, not a silent fall back to http" {
	run -1 --separate-stderr cd-verify < "$BATS_FILE_TMPDIR/secure.ndjson"
	[[ "$(jq -r .error.message <<< "$output")" == "top: $REGISTRY/containerdisks/secure@sha256:"*": GET https://$REGISTRY/v2/"*"SSL certificate problem"* ]]
	run -0 --separate-stderr cd-verify --insecure-skip-tls < "$BATS_FILE_TMPDIR/secure.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
}
