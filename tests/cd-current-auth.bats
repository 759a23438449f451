#!/usr/bin/env bats
# cd-current against the real registry with htpasswd Basic auth: where the
# credentials come from, and what a refusal says (never the password).

bats_require_minimum_version 1.5.0
load lib/registry

setup_file() { registry_start htpasswd fixtures; }
teardown_file() { servers_stop; }

setup() { no_machine_creds; }

input() {
	echo '{"name":"cirros","version":"6.1","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"}]}'
}

ok_shasum() {
	[ "$(jq -r .published.amd64.shasum <<< "$output")" = "$(fixture_sum cirros 6.1 amd64)" ]
}

@test "cd-current --authfile: credentials from a containers auth.json" {
	run -0 cd-current --authfile "$REGISTRY_AUTHFILE" --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
}

@test "cd-current: REGISTRY_AUTH_FILE" {
	REGISTRY_AUTH_FILE=$REGISTRY_AUTHFILE run -0 cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
}

@test "cd-current: \${XDG_RUNTIME_DIR}/containers/auth.json" {
	mkdir -p "$XDG_RUNTIME_DIR/containers"
	cp "$REGISTRY_AUTHFILE" "$XDG_RUNTIME_DIR/containers/auth.json"
	run -0 cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
}

@test "cd-current: ~/.docker/config.json with a URL key and other entries" {
	mkdir -p "$HOME/.docker"
	auth=$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASS" | base64 -w0)
	printf '{"auths":{"quay.io":{"auth":"eDp5"},"http://%s/v2/":{"auth":"%s"}},"credsStore":""}\n' \
		"$REGISTRY" "$auth" > "$HOME/.docker/config.json"
	run -0 cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
}

@test "cd-current --creds USER:PASS" {
	run -0 cd-current --creds "$REGISTRY_USER:$REGISTRY_PASS" --source-registry "$REGISTRY/containerdisks" < <(input)
	ok_shasum
}

@test "cd-current: a wrong password is refused, and the message holds no password" {
	run -1 --separate-stderr cd-current --creds "$REGISTRY_USER:wrong-Pa55" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(jq -r .error.message <<< "$output")" = "$REGISTRY/containerdisks/cirros:6.1: authentication failed for user '$REGISTRY_USER': authentication required (UNAUTHORIZED)" ]
	[[ "$output$stderr" != *wrong-Pa55* ]]
	[[ "$output$stderr" != *"$REGISTRY_PASS"* ]]
}

@test "cd-current: no credentials at all says so" {
	run -1 --separate-stderr cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(jq -r .error.message <<< "$output")" = "$REGISTRY/containerdisks/cirros:6.1: authentication required and no credentials found for '$REGISTRY': authentication required (UNAUTHORIZED)" ]
	# said on stderr too, where a CI log shows it
	[ "$stderr" = "cd-current: cirros:6.1: $REGISTRY/containerdisks/cirros:6.1: authentication required and no credentials found for '$REGISTRY': authentication required (UNAUTHORIZED)" ]
}

@test "cd-current: a malformed or missing auth file is a clear error" {
	echo '{"auths":{"'"$REGISTRY"'":{"auth":"!!!not-base64"}}}' > "$BATS_TEST_TMPDIR/bad.json"
	run -1 --separate-stderr cd-current --authfile "$BATS_TEST_TMPDIR/bad.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$stderr" = "cd-current: credentials for '$REGISTRY': $BATS_TEST_TMPDIR/bad.json: malformed \"auth\" entry for '$REGISTRY'" ]
	[ -z "$output" ]
	run -1 --separate-stderr cd-current --authfile "$BATS_TEST_TMPDIR/none.json" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$stderr" = "cd-current: credentials for '$REGISTRY': cannot open '$BATS_TEST_TMPDIR/none.json': No such file or directory" ]
}
