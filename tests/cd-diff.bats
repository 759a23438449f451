#!/usr/bin/env bats
# cd-diff: the build/skip decision from upstream checksums and published shasums.

load lib/common
bats_require_minimum_version 1.5.0

A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
B=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
C=cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc

ARTS='[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2","checksum":"sha256:'$A'"},{"arch":"arm64","url":"https://upstream.example/arm64.qcow2","checksum":"sha256:'$B'"}]'

rec() { # NAME PUBLISHED-JSON [ARTIFACTS-JSON]
	local arts=${3:-$ARTS}
	jq -cn --arg n "$1" --argjson p "$2" --argjson a "$arts" '{name:$n,version:"1",artifacts:$a,published:$p}'
}
pub_both() { echo "{\"amd64\":{\"shasum\":\"$A\",\"digest\":\"sha256:$C\"},\"arm64\":{\"shasum\":\"$1\",\"digest\":\"sha256:$C\"}}"; }

decisions() { jq -c '[.name, .action, .reason, .changed]' <<< "$output"; }

@test "cd-diff: up to date, one arch changed, a new arch, nothing published" {
	{
		rec same "$(pub_both "$B")"
		rec changed "$(pub_both "$C")"
		rec newarch "{\"amd64\":{\"shasum\":\"$A\",\"digest\":\"sha256:$C\"}}"
		rec missing '{}'
		rec label "{\"amd64\":{\"shasum\":\"$A\",\"digest\":\"sha256:$C\"},\"arm64\":{\"shasum\":null,\"digest\":\"sha256:$C\"}}"
		rec upper "$(pub_both "${B^^}")"
	} > "$BATS_TEST_TMPDIR/in"
	run -0 cd-diff < "$BATS_TEST_TMPDIR/in"
	cat > "$BATS_TEST_TMPDIR/want" <<-'EOF'
	["same","skip","up to date",[]]
	["changed","build","arm64 checksum changed",["arm64"]]
	["newarch","build","arm64 not published",["arm64"]]
	["missing","build","not published",["amd64","arm64"]]
	["label","build","arm64 has no shasum label",["arm64"]]
	["upper","skip","up to date",[]]
	EOF
	diff -u "$BATS_TEST_TMPDIR/want" <(decisions)
	# everything else is kept as it was
	diff -u <(jq -cS . "$BATS_TEST_TMPDIR/in") <(jq -cS 'del(.action, .reason, .changed)' <<< "$output")
}

@test "cd-diff: two arches changed, and a missing upstream checksum always builds" {
	{
		rec both "{\"amd64\":{\"shasum\":\"$C\",\"digest\":\"sha256:$C\"},\"arm64\":{\"shasum\":\"$C\",\"digest\":\"sha256:$C\"}}"
		rec nosum "$(pub_both "$B")" "[{\"arch\":\"amd64\",\"url\":\"https://upstream.example/amd64.qcow2\",\"checksum\":null},{\"arch\":\"arm64\",\"url\":\"https://upstream.example/arm64.qcow2\",\"checksum\":\"sha256:$B\"}]"
		rec sha512 "{\"amd64\":{\"shasum\":\"$A$A\",\"digest\":\"sha256:$C\"}}" "[{\"arch\":\"amd64\",\"url\":\"https://upstream.example/amd64.qcow2\",\"checksum\":\"sha512:$A$A\"}]"
	} > "$BATS_TEST_TMPDIR/in"
	run -0 cd-diff < "$BATS_TEST_TMPDIR/in"
	cat > "$BATS_TEST_TMPDIR/want" <<-'EOF'
	["both","build","amd64 checksum changed, arm64 checksum changed",["amd64","arm64"]]
	["nosum","build","amd64 has no upstream checksum nor HTTP validators",["amd64"]]
	["sha512","skip","up to date",[]]
	EOF
	diff -u "$BATS_TEST_TMPDIR/want" <(decisions)
}

@test "cd-diff --force builds what is up to date too" {
	{ rec same "$(pub_both "$B")"; rec changed "$(pub_both "$C")"; } > "$BATS_TEST_TMPDIR/in"
	run -0 cd-diff --force < "$BATS_TEST_TMPDIR/in"
	cat > "$BATS_TEST_TMPDIR/want" <<-'EOF'
	["same","build","forced (up to date)",[]]
	["changed","build","arm64 checksum changed",["arm64"]]
	EOF
	diff -u "$BATS_TEST_TMPDIR/want" <(decisions)
}

@test "cd-diff: records with an error pass untouched; records without published fail" {
	line='{"name":"x","version":"1","error":{"tool":"cd-current","message":"boom"}}'
	printf '%s\n' "$line" '{"name":"y","version":"1","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2","checksum":"sha256:'"$A"'"}]}' \
		'{"name":"z","version":"1","artifacts":[],"published":{}}' > "$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr cd-diff < "$BATS_TEST_TMPDIR/in"
	[ "$(sed -n 1p <<< "$output")" = "$line" ]
	[ "$(sed -n 2p <<< "$output" | jq -c .error)" = '{"tool":"cd-diff","message":"record has no \"published\" object (run cd-current first)"}' ]
	[ "$(sed -n 3p <<< "$output" | jq -r .error.message)" = 'invalid record: artifacts: empty' ]
	[ "$(sed -n 2p <<< "$output" | jq -r .action)" = null ]
	# each failed record said on stderr, in order; the one passed on is not
	[ "$stderr" = 'cd-diff: y:1: record has no "published" object (run cd-current first)
cd-diff: z:1: invalid record: artifacts: empty' ]
}

@test "cd-diff: a malformed line exits 3, the others are decided" {
	{ echo '{"name":'; rec same "$(pub_both "$B")"; } > "$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr cd-diff < "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"stdin:1:"* ]]
	[ "$(jq -r .action <<< "$output")" = skip ]
}

@test "cd-diff: --help, --version, usage errors" {
	run -0 --separate-stderr cd-diff --help
	[[ "$output" == "usage: cd-diff"* ]]
	[ -z "$stderr" ]
	run -0 cd-diff --version
	[[ "$output" == "cd-diff (cdkit) "* ]]
	run -2 cd-diff --frobnicate < /dev/null
	run -2 cd-diff extra-arg < /dev/null
}
