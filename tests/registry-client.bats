#!/usr/bin/env bats
# The registry client's write side (what cd-push and cd-promote use), round
# trip against the real registry: tests/unit/test-regwrite.c, run here
# because it needs a registry.  Plain anonymous, and token auth (push scopes,
# mount needs pull on the source repository).

bats_require_minimum_version 1.5.0
load lib/registry

TEST_BIN=$CDKIT_ROOT/tests/unit/bin/test-regwrite

setup_file() {
	# `make check` builds the unit programs first; `make bats` alone may not.
	[ -x "$TEST_BIN" ] || make -s -C "$CDKIT_ROOT" tests/unit/bin/test-regwrite >&2
}

teardown() { servers_stop; }

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

@test "registry client: tag lists follow Link rel=next pages (a paging registry, through the proxy)" {
	registry_start plain
	regproxy_start
	p=/v2/cdkit-test/paged/tags/list
	proxy_rules "$(jq -cn --arg p "$p" '[
		{path:$p, query:"", status:200, body:"{\"name\":\"cdkit-test/paged\",\"tags\":[\"a\",\"b\"]}",
		 headers:{Link:("<"+$p+"?n=2&last=b>; rel=\"next\"")}},
		{path:$p, query:"n=2&last=b", status:200, body:"{\"name\":\"cdkit-test/paged\",\"tags\":[\"c\",\"d\"]}",
		 headers:{Link:("<http://"+env.PROXY+$p+"?n=2&last=d>; rel=\"next\"")}},
		{path:$p, query:"n=2&last=d", status:200, body:"{\"name\":\"cdkit-test/paged\",\"tags\":[\"e\"]}"}]')"
	CD_TEST_REGISTRY=$PROXY CD_TEST_TAGS_REPO=cdkit-test/paged run -0 "$TEST_BIN"
	[ "${lines[*]}" = "a b c d e test-regwrite: 2 passed, 0 failed" ]
	[ "$(grep -c "^GET $p 200" "$PROXY_LOG")" -eq 3 ]
	regproxy_stop
}

@test "registry client: a malformed Link header is an error, not a silent stop" {
	registry_start plain
	regproxy_start
	p=/v2/cdkit-test/paged/tags/list
	proxy_rules "$(jq -cn --arg p "$p" '[{path:$p, status:200, body:"{\"tags\":[\"a\"]}", headers:{Link:"<broken; rel=next"}}]')"
	CD_TEST_REGISTRY=$PROXY CD_TEST_TAGS_REPO=cdkit-test/paged run -1 --separate-stderr "$TEST_BIN"
	[ "${stderr##*$'\n'}" = "error: $PROXY/cdkit-test/paged: malformed Link header: missing '>'" ]
	regproxy_stop
}
