#!/usr/bin/env bats
# The registry client's write side (what cd-push and cd-promote use), round
# trip against the real registry: tests/unit/test-regwrite.c, run here
# because it needs a registry.  Plain anonymous, and token auth (push scopes,
# mount needs pull on the source repository).

load lib/common
load lib/registry
bats_require_minimum_version 1.5.0

TEST_BIN=$CDKIT_ROOT/tests/unit/bin/test-regwrite

setup_file() {
	# `make check` builds the unit programs first; `make bats` alone may not.
	[ -x "$TEST_BIN" ] || make -s -C "$CDKIT_ROOT" tests/unit/bin/test-regwrite >&2
}

teardown() {
	registry_stop
}

@test "registry client: uploads, mount, manifests, tags, delete (plain registry)" {
	registry_start plain
	CD_TEST_REGISTRY=$REGISTRY run -0 "$TEST_BIN"
	[[ "$output" == *"passed, 0 failed"* ]]
	# the chunked upload sent PATCHes, the monolithic one a PUT with a body
	grep -q '"PATCH /v2/cdkit-test/a' "$REGISTRY_LOG"
	grep -q '"POST /v2/cdkit-test/b[0-9]*/blobs/uploads/?mount=' "$REGISTRY_LOG"
}

@test "registry client: the same with token auth (push and mount scopes)" {
	registry_start token
	CD_TEST_REGISTRY=$REGISTRY CD_TEST_CREDS="$REGISTRY_USER:$REGISTRY_PASS" run -0 "$TEST_BIN"
	[[ "$output" == *"passed, 0 failed"* ]]
	grep -Eq '^GET repository:cdkit-test/b[0-9]+:pull,push,repository:cdkit-test/a[0-9]+:pull '"$REGISTRY_USER"' 200$' "$TOKEN_LOG"
	grep -Eq '^GET repository:cdkit-test/a[0-9]+:pull,push '"$REGISTRY_USER"' 200$' "$TOKEN_LOG"
}

@test "registry client: pushing without credentials is refused (anonymous tokens only pull)" {
	registry_start token
	CD_TEST_REGISTRY=$REGISTRY run -1 "$TEST_BIN"
	[[ "$output" == *"token refused for scope 'repository:cdkit-test/a"*":pull,push': insufficient_scope"* ]]
}
