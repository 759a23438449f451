#!/usr/bin/env bats
# cd-current against the real registry over TLS, with a CA the test makes.

bats_require_minimum_version 1.5.0
load lib/registry

setup_file() { registry_start tls fixtures; }
teardown_file() { servers_stop; }

input() {
	echo '{"name":"fedora","version":"41","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"},{"arch":"arm64","url":"https://upstream.example/arm64.qcow2"}]}'
}

@test "cd-current --ca-file: verified TLS to the registry" {
	run -0 cd-current --ca-file "$REGISTRY_CA" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(jq -r .published.arm64.shasum <<< "$output")" = "$(fixture_sum fedora 41 arm64)" ]
	[ "$(jq -r .published.arm64.digest <<< "$output")" = "$(arch_digest containerdisks/fedora:41 arm64)" ]
}

@test "cd-current --ca-file: the registry's certificate is checked against that file" {
	# (LeakSanitizer cannot run under ptrace: off for a SANITIZE build)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" run -0 strace -f -qq -e trace=openat,open -o "$BATS_TEST_TMPDIR/trace" \
		cd-current --ca-file "$REGISTRY_CA" --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(jq -r .published.amd64.shasum <<< "$output")" = "$(fixture_sum fedora 41 amd64)" ]
	grep -qF "\"$REGISTRY_CA\"" "$BATS_TEST_TMPDIR/trace"
}

@test "cd-current --insecure-skip-tls: no verification" {
	run -0 cd-current --insecure-skip-tls --source-registry "$REGISTRY/containerdisks" < <(input)
	[ "$(jq -r .published.amd64.shasum <<< "$output")" = "$(fixture_sum fedora 41 amd64)" ]
}

@test "cd-current: an untrusted certificate is refused, and never downgraded to plain HTTP" {
	before=$(grep -c 'cd-current' "$REGISTRY_LOG" || true)
	run -1 --separate-stderr cd-current --source-registry "$REGISTRY/containerdisks" < <(input)
	want="$REGISTRY/containerdisks/fedora:41: GET https://$REGISTRY/v2/containerdisks/fedora/manifests/41: SSL certificate problem: unable to get local issuer certificate (TLS certificate not trusted: use --ca-file, or --insecure-skip-tls)"
	[ "$(jq -r .error.message <<< "$output")" = "$want" ]
	[ "$(jq -r .error.tool <<< "$output")" = cd-current ]
	# no request reached the registry (a plain-HTTP retry would be logged)
	[ "$(grep -c 'cd-current' "$REGISTRY_LOG" || true)" -eq "$before" ]
}

@test "cd-current --ca-file with a CA that did not sign the certificate is refused" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=other-ca -keyout "$BATS_TEST_TMPDIR/o.key" -out "$BATS_TEST_TMPDIR/o.crt" 2>/dev/null
	run -1 --separate-stderr cd-current --ca-file "$BATS_TEST_TMPDIR/o.crt" --source-registry "$REGISTRY/containerdisks" < <(input)
	[[ "$(jq -r .error.message <<< "$output")" == *"SSL certificate problem"*"use --ca-file"* ]]
}
