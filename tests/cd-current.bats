#!/usr/bin/env bats
# cd-current against the real registry, plain HTTP, anonymous; then cd-diff
# on what it found.  Test images are published by skopeo (see lib/registry).

bats_require_minimum_version 1.5.0
load lib/registry

setup_file() { registry_start plain fixtures; }
teardown_file() { servers_stop; }

sum() { fixture_sum "$@"; }

# The records cd-discover would write: up to date, one arch changed, a new
# arch, a missing tag, a missing repository.
write_input() {
	cat > "$BATS_TEST_TMPDIR/in.ndjson" <<-EOF
	{"name":"fedora","version":"41","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2","checksum":"sha256:$(sum fedora 41 amd64)"},{"arch":"arm64","url":"https://upstream.example/arm64.qcow2","checksum":"sha256:$(sum fedora 41 arm64)"}]}
	{"name":"ubuntu","version":"24.04","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2","checksum":"sha256:$(sum ubuntu 24.04 amd64)"},{"arch":"arm64","url":"https://upstream.example/arm64.qcow2","checksum":"sha256:$(sum ubuntu 24.04 arm64-new)"}]}
	{"name":"cirros","version":"6.1","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2","checksum":"sha256:$(sum cirros 6.1 amd64)"},{"arch":"arm64","url":"https://upstream.example/arm64.qcow2","checksum":"sha256:$(sum cirros 6.1 arm64)"}]}
	{"name":"fedora","version":"42","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2","checksum":"sha256:$(sum fedora 42 amd64)"}]}
	{"name":"debian","version":"12","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2","checksum":"sha512:$(sum debian 12 amd64)$(sum debian 12 amd64)"}]}
	EOF
}

# published entry for NAME VERSION ARCH as the registry holds it
pub() {
	jq -cn --arg s "$(sum "$1" "$2" "$3")" --arg d "$(arch_digest "containerdisks/$1:$2" "$3")" '{shasum:$s,digest:$d}'
}

@test "cd-current: published shasum and digest per arch, missing tag/repo/arch are not errors" {
	write_input
	run -0 cd-current --source-registry "$REGISTRY/containerdisks" < "$BATS_TEST_TMPDIR/in.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/got.ndjson"
	{
		jq -c --argjson a "$(pub fedora 41 amd64)" --argjson b "$(pub fedora 41 arm64)" \
			'select(.name=="fedora" and .version=="41") | .published={amd64:$a,arm64:$b}' "$BATS_TEST_TMPDIR/in.ndjson"
		jq -c --argjson a "$(pub ubuntu 24.04 amd64)" --argjson b "$(pub ubuntu 24.04 arm64)" \
			'select(.name=="ubuntu") | .published={amd64:$a,arm64:$b}' "$BATS_TEST_TMPDIR/in.ndjson"
		jq -c --argjson a "$(pub cirros 6.1 amd64)" \
			'select(.name=="cirros") | .published={amd64:$a}' "$BATS_TEST_TMPDIR/in.ndjson"
		jq -c 'select(.version=="42" or .name=="debian") | .published={}' "$BATS_TEST_TMPDIR/in.ndjson"
	} > "$BATS_TEST_TMPDIR/want.ndjson"
	assert_records "$BATS_TEST_TMPDIR/got.ndjson" "$BATS_TEST_TMPDIR/want.ndjson"
}

@test "cd-current then cd-diff: skip up to date, build changed, new arch, missing tag and repository" {
	write_input
	cd-current --source-registry "$REGISTRY/containerdisks" < "$BATS_TEST_TMPDIR/in.ndjson" > "$BATS_TEST_TMPDIR/cur.ndjson"
	run -0 cd-diff < "$BATS_TEST_TMPDIR/cur.ndjson"
	printf '%s\n' "$output" | jq -c '[.name, .version, .action, .reason, .changed]' > "$BATS_TEST_TMPDIR/got"
	cat > "$BATS_TEST_TMPDIR/want" <<-'EOF'
	["fedora","41","skip","up to date",[]]
	["ubuntu","24.04","build","arm64 checksum changed",["arm64"]]
	["cirros","6.1","build","arm64 not published",["arm64"]]
	["fedora","42","build","not published",["amd64"]]
	["debian","12","build","not published",["amd64"]]
	EOF
	diff -u "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "cd-current: several workers give the same records in the same order" {
	write_input
	for i in 1 2 3; do cat "$BATS_TEST_TMPDIR/in.ndjson"; done > "$BATS_TEST_TMPDIR/in3.ndjson"
	cd-current -j 1 --source-registry "$REGISTRY/containerdisks" < "$BATS_TEST_TMPDIR/in3.ndjson" > "$BATS_TEST_TMPDIR/one"
	run -0 cd-current --workers 4 --source-registry "$REGISTRY/containerdisks" < "$BATS_TEST_TMPDIR/in3.ndjson"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/one")" -eq 15 ]
	diff -u "$BATS_TEST_TMPDIR/one" <(printf '%s\n' "$output")
}

@test "cd-current: finding a loopback registry is plain HTTP reads no CA bundle" {
	# The TLS probe of every registry tool is a handshake only: loading the
	# system's CAs for it cost each process of a pipeline 0.1 s of CPU.
	write_input
	# (LeakSanitizer cannot run under ptrace: off for a SANITIZE build)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" run -0 strace -f -qq -e trace=openat,open -o "$BATS_TEST_TMPDIR/trace" \
		cd-current --source-registry "$REGISTRY/containerdisks" < "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(printf '%s\n' "$output" | jq -s 'map(select(.published.amd64)) | length')" -eq 3 ]
	grep -q 'libcurl' "$BATS_TEST_TMPDIR/trace"
	! grep -E '/etc/ssl/certs|ca-certificates' "$BATS_TEST_TMPDIR/trace"
}

@test "cd-current: records carrying an error pass untouched" {
	line='{"name":"fedora","version":"41","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"}],"error":{"tool":"cd-discover","message":"x"}}'
	run -0 cd-current --source-registry "$REGISTRY/containerdisks" <<< "$line"
	[ "$output" = "$line" ]
}

@test "cd-current: a malformed line exits 3, the valid records are still read" {
	printf '%s\n' 'not json' '{"name":"cirros","version":"6.1","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"}]}' > "$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr cd-current --source-registry "$REGISTRY/containerdisks" < "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"stdin:1:"* ]]
	[ "$(jq -r '.published.amd64.shasum' <<< "$output")" = "$(sum cirros 6.1 amd64)" ]
}

@test "cd-current: a record without artifacts or with a bad name is an invalid record, said on stderr" {
	printf '%s\n' '{"name":"cirros","version":"6.1"}' '{"name":"Bad Name","version":"1","artifacts":[]}' \
		'{"name":"cirros","version":"6.1","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"}]}' > "$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr cd-current --source-registry "$REGISTRY/containerdisks" < "$BATS_TEST_TMPDIR/in"
	[ "$(sed -n 1p <<< "$output" | jq -r .error.message)" = 'invalid record: artifacts: missing' ]
	[ "$(sed -n 2p <<< "$output" | jq -r .error.message)" = "invalid record: name: 'Bad Name' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')" ]
	[ "$(sed -n 3p <<< "$output" | jq -r '.published.amd64.shasum')" = "$(sum cirros 6.1 amd64)" ]
	[ "${stderr_lines[0]}" = "cd-current: cirros:6.1: invalid record: artifacts: missing" ]
	[[ "${stderr_lines[1]}" == "cd-current: Bad Name:1: invalid record: name: 'Bad Name' is not "* ]]
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "cd-current: --help, --version and usage errors" {
	run -0 --separate-stderr cd-current --help
	[[ "$output" == "usage: cd-current"* ]]
	[[ "$output" == *"--source-registry"* ]]
	[ -z "$stderr" ]
	run -0 cd-current --version
	[[ "$output" == "cd-current (cdkit) "* ]]
	run -2 --separate-stderr cd-current --source-registry "$REGISTRY/containerdisks:41" < /dev/null
	[[ "$stderr" == *"invalid source registry '$REGISTRY/containerdisks:41'"* ]]
	run -2 cd-current --workers 0 < /dev/null
	run -2 cd-current --no-such-flag < /dev/null
}
