#!/usr/bin/env bats
# Docker credential helpers against the real registry with htpasswd Basic
# auth: an auth file's credHelpers or credsStore runs
# docker-credential-<name> get (the host on stdin, a JSON answer), as
# docker and podman do; DOCKER_CONFIG names docker's folder.

load lib/registry
bats_require_minimum_version 1.5.0

setup_file() {
	registry_start htpasswd
	registry_publish_fixtures
}

teardown_file() { servers_stop; }

setup() {
	# No credentials from the machine running the tests.
	no_machine_creds
	mkdir -p "$BATS_TEST_TMPDIR/helpers"
	PATH=$BATS_TEST_TMPDIR/helpers:$PATH
	HELPER_LOG=$BATS_TEST_TMPDIR/helper.log
}

# fake_helper NAME BODY: docker-credential-NAME, logging "$@" and its stdin, then running BODY.
fake_helper() {
	local f=$BATS_TEST_TMPDIR/helpers/docker-credential-$1
	{
		printf '#!/bin/bash\n'
		printf 'printf "%%s " "$*" >> %q\n' "$HELPER_LOG"
		printf 'cat >> %q\n' "$HELPER_LOG"
		printf 'echo >> %q\n' "$HELPER_LOG"
		printf '%s\n' "$2"
	} > "$f"
	chmod +x "$f"
}

answer_ok() {
	printf 'printf %q' "{\"ServerURL\":\"$REGISTRY\",\"Username\":\"$REGISTRY_USER\",\"Secret\":\"$REGISTRY_PASS\"}"
}

input() {
	echo '{"name":"cirros","version":"6.1","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"}]}'
}

ok_shasum() {
	[ "$(jq -r .published.amd64.shasum <<< "$output")" = "$(fixture_sum cirros 6.1 amd64)" ]
}

@test "cd-current: credsStore in ~/.docker/config.json runs docker-credential-test get with the host on stdin" {
	fake_helper test "$(answer_ok)"
	mkdir -p "$HOME/.docker"
	printf '{"auths":{"%s":{}},"credsStore":"test"}\n' "$REGISTRY" > "$HOME/.docker/config.json"
	run -0 --separate-stderr cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
	[ "$(cat "$HELPER_LOG")" = "get $REGISTRY" ]
	[[ "$output$stderr" != *"$REGISTRY_PASS"* ]]
}

@test "cd-current: credHelpers names the host's helper, over credsStore; DOCKER_CONFIG is honoured" {
	fake_helper test "$(answer_ok)"
	fake_helper other 'echo "credentials not found in native keychain"; exit 1'
	mkdir -p "$BATS_TEST_TMPDIR/dockercfg"
	printf '{"credsStore":"other","credHelpers":{"quay.io":"other","%s":"test"}}\n' "$REGISTRY" \
		> "$BATS_TEST_TMPDIR/dockercfg/config.json"
	DOCKER_CONFIG=$BATS_TEST_TMPDIR/dockercfg run -0 cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
	[ "$(cat "$HELPER_LOG")" = "get $REGISTRY" ]
}

@test "cd-current --authfile: a containers auth.json's credHelpers are run too" {
	fake_helper test "$(answer_ok)"
	printf '{"auths":{},"credHelpers":{"%s":"test"}}\n' "$REGISTRY" > "$BATS_TEST_TMPDIR/auth.json"
	run -0 cd-current --authfile "$BATS_TEST_TMPDIR/auth.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
	[ "$(cat "$HELPER_LOG")" = "get $REGISTRY" ]
}

@test "cd-current: a credsStore without credentials for the host falls back to the auths entry" {
	fake_helper test 'echo "credentials not found in native keychain"; exit 1'
	auth=$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASS" | base64 -w0)
	printf '{"auths":{"%s":{"auth":"%s"}},"credsStore":"test"}\n' "$REGISTRY" "$auth" > "$BATS_TEST_TMPDIR/auth.json"
	run -0 cd-current --authfile "$BATS_TEST_TMPDIR/auth.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
	[ "$(cat "$HELPER_LOG")" = "get $REGISTRY" ]
}

@test "cd-current: the helper's wrong password is refused without the password in the message" {
	fake_helper test "printf '%s' '{\"Username\":\"$REGISTRY_USER\",\"Secret\":\"wrong-Pa55\"}'"
	printf '{"credHelpers":{"%s":"test"}}\n' "$REGISTRY" > "$BATS_TEST_TMPDIR/auth.json"
	run -1 --separate-stderr cd-current --authfile "$BATS_TEST_TMPDIR/auth.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(jq -r .error.message <<< "$output")" = "$REGISTRY/containerdisks/cirros:6.1: authentication failed for user '$REGISTRY_USER': authentication required (UNAUTHORIZED)" ]
	[[ "$output$stderr" != *wrong-Pa55* ]]
}

@test "cd-current: a helper that fails, is missing, answers garbage or has a bad name is a clear error" {
	fake_helper test 'echo "helper broke" >&2; exit 3'
	printf '{"credHelpers":{"%s":"test"}}\n' "$REGISTRY" > "$BATS_TEST_TMPDIR/auth.json"
	run -1 --separate-stderr cd-current --authfile "$BATS_TEST_TMPDIR/auth.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	[[ "$stderr" == *"cd-current: credentials for '$REGISTRY': $BATS_TEST_TMPDIR/auth.json: credential helper docker-credential-test failed for '$REGISTRY' (exit status 3)"* ]]

	printf '{"credHelpers":{"%s":"absent"}}\n' "$REGISTRY" > "$BATS_TEST_TMPDIR/auth.json"
	run -1 --separate-stderr cd-current --authfile "$BATS_TEST_TMPDIR/auth.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$stderr" = "cd-current: credentials for '$REGISTRY': $BATS_TEST_TMPDIR/auth.json: cannot run credential helper docker-credential-absent: No such file or directory" ]

	fake_helper test "echo 'Secret=not-json-$REGISTRY_PASS'"
	printf '{"credHelpers":{"%s":"test"}}\n' "$REGISTRY" > "$BATS_TEST_TMPDIR/auth.json"
	run -1 --separate-stderr cd-current --authfile "$BATS_TEST_TMPDIR/auth.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$stderr" = "cd-current: credentials for '$REGISTRY': $BATS_TEST_TMPDIR/auth.json: credential helper docker-credential-test: answer for '$REGISTRY' is not credentials" ]
	[[ "$stderr" != *"$REGISTRY_PASS"* ]]

	printf '{"credsStore":"../../bin/sh"}\n' > "$BATS_TEST_TMPDIR/auth.json"
	run -1 --separate-stderr cd-current --authfile "$BATS_TEST_TMPDIR/auth.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$stderr" = "cd-current: credentials for '$REGISTRY': $BATS_TEST_TMPDIR/auth.json: credsStore does not name a credential helper" ]
}
