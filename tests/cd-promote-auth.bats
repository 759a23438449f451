#!/usr/bin/env bats
# cd-promote between two registries that both ask for a password: each side
# gets its own credentials (--src-creds, --dest-creds, --src-authfile,
# --dest-authfile), and a side's credentials go to that registry only.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	registry_start htpasswd
	registry_publish_fixtures
	export STAGING=$REGISTRY STAGING_AUTHFILE=$REGISTRY_AUTHFILE STAGING_LOG=$REGISTRY_LOG
	DIGEST=$(arch_digest containerdisks/cirros:6.1 amd64)
	export DIGEST
	registry_start htpasswd
	export PROD=$REGISTRY PROD_AUTHFILE=$REGISTRY_AUTHFILE
}

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	no_machine_creds
	promote_input
}

@test "cd-promote --src-creds are sent to the source only: the target asks and has none" {
	run -1 --separate-stderr promote --src-creds "$REGISTRY_USER:$REGISTRY_PASS"
	[[ "$(jq -r .error.message <<< "$output")" == *"authentication required and no credentials found for '$PROD'"* ]]
	# the source was read with them: the failure is on the target's side
	grep -q "GET /v2/containerdisks/cirros/manifests/$DIGEST HTTP/1.1\" 200" "$STAGING_LOG"
}

@test "cd-promote --src-creds and --dest-creds: one for each side" {
	run -0 --separate-stderr promote --src-creds "$REGISTRY_USER:$REGISTRY_PASS" --dest-creds "$REGISTRY_USER:$REGISTRY_PASS"
	[ "$(jq -r .promoted.digest <<< "$output")" = "$DIGEST" ]
	[[ "$stderr" != *"$REGISTRY_PASS"* ]]
}

@test "cd-promote --dest-creds are sent to the target only" {
	run -1 --separate-stderr promote --dest-creds "$REGISTRY_USER:$REGISTRY_PASS"
	[[ "$(jq -r .error.message <<< "$output")" == *"authentication required and no credentials found for '$STAGING'"* ]]
}

@test "cd-promote --src-authfile and --dest-authfile, over --authfile" {
	echo '{"auths":{}}' > empty.json
	run -0 --separate-stderr promote --authfile empty.json --src-authfile "$STAGING_AUTHFILE" --dest-authfile "$PROD_AUTHFILE"
	[ "$(jq -r .promoted.digest <<< "$output")" = "$DIGEST" ]
	run -1 --separate-stderr promote --authfile empty.json --src-authfile "$STAGING_AUTHFILE"
	[[ "$(jq -r .error.message <<< "$output")" == *"no credentials found for '$PROD'"* ]]
}

@test "cd-promote --dest-creds over --creds for the target" {
	run -1 --separate-stderr promote --creds "$REGISTRY_USER:$REGISTRY_PASS" --dest-creds "$REGISTRY_USER:wr0ng"
	[[ "$(jq -r .error.message <<< "$output")" == *"authentication failed for user '$REGISTRY_USER'"* ]]
	[[ "$output$stderr" != *wr0ng* ]]
}
