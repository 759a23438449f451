#!/usr/bin/env bats
# cd-promote from a plain-HTTP staging registry to a TLS registry that wants
# a client certificate: each side has its own TLS settings (skopeo's
# --src-*/--dest-* flags, podman's certs.d folders), so skipping checks for
# staging never skips them towards production.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	registry_start plain
	registry_publish_fixtures
	export STAGING=$REGISTRY
	DIGEST=$(arch_digest containerdisks/cirros:6.1 amd64)
	export DIGEST
	registry_start tls-client
	export PROD=$REGISTRY PROD_CERTS=$REGISTRY_DIR/skopeo-certs
}

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	no_machine_creds # CD_CERTS_D too: an empty folder of the test's
	promote_input
}

promoted() {
	[ "$(jq -r .promoted.digest <<< "$output")" = "$DIGEST" ]
	run -0 skopeo inspect --raw --cert-dir "$PROD_CERTS" "docker://$PROD/prod/cirros:t$BATS_TEST_NUMBER"
	[ "$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "${DIGEST#sha256:}" ]
}

@test "cd-promote: the target's certs.d folder (CA and client certificate) is read; --src-tls-verify=false leaves it verified" {
	cp -r "$PROD_CERTS" "$CD_CERTS_D/$PROD"
	run -0 --separate-stderr promote --src-tls-verify=false
	promoted
}

@test "cd-promote: --src-tls-verify=false does not skip the target's TLS checks" {
	run -1 --separate-stderr promote --src-tls-verify=false
	[[ "$(jq -r .error.message <<< "$output")" == *"https://$PROD/"*"(TLS certificate not trusted: use --ca-file, or --insecure-skip-tls)" ]]
	[ "$(jq -r .promoted <<< "$output")" = null ]
}

@test "cd-promote --dest-cert-dir: the target's CA and client certificate from a folder of one's own" {
	cp -r "$PROD_CERTS" mine
	run -0 --separate-stderr promote --dest-cert-dir mine
	promoted
}

@test "cd-promote: the client certificate is sent: without it the target refuses the handshake" {
	mkdir mine && cp "$PROD_CERTS/ca.crt" mine/
	run -1 --separate-stderr promote --dest-cert-dir mine
	[[ "$(jq -r .error.message <<< "$output")" == *"https://$PROD/"* ]]
	[[ "$(jq -r .error.message <<< "$output")" != *"not trusted"* ]]
}

@test "cd-promote --tls-verify=false (skopeo's spelling) skips verification on both sides; --dest-tls-verify takes it back" {
	mkdir mine && cp "$PROD_CERTS"/client.* mine/
	run -0 --separate-stderr promote --tls-verify=false --dest-cert-dir mine
	promoted
	run -1 --separate-stderr promote --tls-verify=false --dest-tls-verify --dest-cert-dir mine
	[[ "$(jq -r .error.message <<< "$output")" == *"(TLS certificate not trusted: use --ca-file, or --insecure-skip-tls)" ]]
	run -1 --separate-stderr promote --insecure-skip-tls --dest-tls-verify=true --dest-cert-dir mine
	[[ "$(jq -r .error.message <<< "$output")" == *"(TLS certificate not trusted: use --ca-file, or --insecure-skip-tls)" ]]
}

@test "cd-promote: --ca-file with a client certificate from certs.d" {
	mkdir -p "$CD_CERTS_D/$PROD" && cp "$PROD_CERTS"/client.* "$CD_CERTS_D/$PROD/"
	run -0 --separate-stderr promote --ca-file "$PROD_CERTS/ca.crt"
	promoted
}

@test "cd-promote: a certificate folder with a key but no certificate is an error before anything is sent" {
	mkdir mine && cp "$PROD_CERTS/ca.crt" "$PROD_CERTS/client.key" mine/
	run -1 --separate-stderr promote --dest-cert-dir mine
	[ "$stderr" = "cd-promote: TLS settings for '$PROD': certificate folder 'mine': client.key has no certificate mine/client.cert" ]
	[ -z "$output" ]
}

@test "cd-promote: bad values of the per-side flags are usage errors" {
	run -2 --separate-stderr promote --src-tls-verify=maybe
	[[ "$stderr" == *"invalid value 'maybe' for --src-tls-verify: expected true or false"* ]]
	run -2 --separate-stderr promote --dest-creds nocolon
	[[ "$stderr" == *"invalid value for --dest-creds: expected USER:PASSWORD"* ]]
}
