#!/usr/bin/env bats
# cd-verify against registries that want TLS or tokens: the image is read
# back with the credentials and CA the command line names, and a refusal is
# a failed record with a message that holds no secret.

bats_require_minimum_version 1.5.0
load lib/verify

setup_file() {
	registry_start token
	PUBLISH_FORMAT=v2s2 publish_disk authed 1M 16M
}

teardown_file() { servers_stop; }

@test "token auth: the image is read with the auth file's credentials" {
	run -0 --separate-stderr cd-verify --authfile "$REGISTRY_AUTHFILE" < "$BATS_FILE_TMPDIR/authed.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = true ]
	[ "$(jq -r '[.verified.checks[] | .name] | join(",")' <<< "$output")" = top,manifest,config,shasum,layer ]
	# the token issuer was asked for pull access to the repository
	grep -q 'repository:containerdisks/authed:pull' "$TOKEN_LOG"
}

@test "token auth: wrong credentials fail the record without showing the password" {
	run -1 --separate-stderr cd-verify --registry "$REGISTRY" --creds "$REGISTRY_USER:not-the-password" < "$BATS_FILE_TMPDIR/authed.ndjson"
	[ "$(jq -r .verified.ok <<< "$output")" = false ]
	[[ "$(jq -r .error.message <<< "$output")" == "top: $REGISTRY/containerdisks/authed@sha256:"*": authentication failed for user '$REGISTRY_USER' at token service "* ]]
	[[ "$output$stderr" != *not-the-password* ]]
	[[ "$output$stderr" != *"$REGISTRY_PASS"* ]]
}
