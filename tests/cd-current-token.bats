#!/usr/bin/env bats
# cd-current against the real registry with token auth: tokens from
# tests/lib/token-issuer.py (signed with a key made here), anonymous or with
# credentials, cached per scope, refused or expired.

bats_require_minimum_version 1.5.0
load lib/registry

setup_file() { registry_start token fixtures; }
teardown_file() { servers_stop; }

setup() {
	no_machine_creds
	echo '{}' > "$TOKEN_RULES"
	: > "$TOKEN_LOG"
}

input() {
	echo '{"name":"fedora","version":"41","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"},{"arch":"arm64","url":"https://upstream.example/arm64.qcow2"}]}'
	echo '{"name":"ubuntu","version":"24.04","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"}]}'
	echo '{"name":"fedora","version":"41","artifacts":[{"arch":"arm64","url":"https://upstream.example/arm64.qcow2"}]}'
}

@test "cd-current: bearer token with credentials from the auth file, one token per scope" {
	run -0 cd-current -j 1 --authfile "$REGISTRY_AUTHFILE" --source-registry "$REGISTRY/containerdisks" < <(input)
	cp "$TOKEN_LOG" "$BATS_TEST_TMPDIR/got" # before skopeo asks for tokens of its own
	[ "$(sed -n 1p <<< "$output" | jq -r .published.arm64.shasum)" = "$(fixture_sum fedora 41 arm64)" ]
	[ "$(sed -n 2p <<< "$output" | jq -r .published.amd64.shasum)" = "$(fixture_sum ubuntu 24.04 amd64)" ]
	[ "$(sed -n 3p <<< "$output" | jq -r .published.arm64.digest)" = "$(arch_digest containerdisks/fedora:41 arm64)" ]
	# fedora's token is cached and reused for the third record
	cat > "$BATS_TEST_TMPDIR/want" <<-EOF
	GET repository:containerdisks/fedora:pull $REGISTRY_USER 200
	GET repository:containerdisks/ubuntu:pull $REGISTRY_USER 200
	EOF
	diff -u "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "cd-current: an anonymous token when there are no credentials" {
	run -0 cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(sed -n 1p <<< "$output" | jq -r .published.amd64.shasum)" = "$(fixture_sum fedora 41 amd64)" ]
	grep -q '^GET repository:containerdisks/fedora:pull - 200$' "$TOKEN_LOG"
}

@test "cd-current: a wrong password at the token service, without the password in the message" {
	run -1 --separate-stderr cd-current --creds "$REGISTRY_USER:Wr0ng-pass" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(sed -n 1p <<< "$output" | jq -r .error.message)" = "$REGISTRY/containerdisks/fedora:41: authentication failed for user '$REGISTRY_USER' at token service $TOKEN_URL (HTTP 401)" ]
	[[ "$output$stderr" != *Wr0ng-pass* ]]
}

@test "cd-current: a token that grants nothing is refused (insufficient_scope)" {
	echo '{"deny": true}' > "$TOKEN_RULES"
	run -1 --separate-stderr cd-current --authfile "$REGISTRY_AUTHFILE" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(sed -n 2p <<< "$output" | jq -r .error.message)" = "$REGISTRY/containerdisks/ubuntu:24.04: token refused for scope 'repository:containerdisks/ubuntu:pull': insufficient_scope: authentication required (UNAUTHORIZED)" ]
}

@test "cd-current: an expired token is fetched again once, then refused" {
	echo '{"expired": true}' > "$TOKEN_RULES"
	run -1 --separate-stderr cd-current -j 1 --authfile "$REGISTRY_AUTHFILE" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(sed -n 1p <<< "$output" | jq -r .error.message)" = "$REGISTRY/containerdisks/fedora:41: token refused for scope 'repository:containerdisks/fedora:pull': invalid_token: authentication required (UNAUTHORIZED)" ]
	[ "$(grep -c 'containerdisks/fedora:pull' "$TOKEN_LOG")" -ge 2 ]
}

@test "cd-current: expires_in 1e308, NaN, -1 or 1e400 from the issuer is clamped: the token is used and cached" {
	local e want
	want=$(arch_digest containerdisks/fedora:41 arm64) # skopeo would choke on these answers
	for e in 1e308 nan -1 1e400; do
		echo "{\"expires_in\": \"$e\"}" > "$TOKEN_RULES"
		: > "$TOKEN_LOG"
		run -0 --separate-stderr cd-current -j 1 --authfile "$REGISTRY_AUTHFILE" --source-registry "$REGISTRY/containerdisks" < <(input)
		[ "$(sed -n 3p <<< "$output" | jq -r .published.arm64.digest)" = "$want" ]
		# one token per scope: fedora's is still good for the third record
		[ "$(grep -c 'containerdisks/fedora:pull' "$TOKEN_LOG")" -eq 1 ]
	done
}
