#!/usr/bin/env bats
# Every record a tool fails is said on stderr, once, by the record loop:
# "cd-X: name:version[ arch]: message" -- also by cd-current and cd-diff,
# which used to say nothing -- and any upstream or registry text in a
# message is printed with its control characters and non-UTF-8 bytes as
# \xHH, so it cannot clear a terminal or forge log lines.

bats_require_minimum_version 1.5.0
load lib/registry
load lib/upstream

setup_file() {
	upstream_start empty
	registry_start plain
	regproxy_start
}

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	proxy_rules '[]'
	export CD_MIRRORS=$MIRRORS
}

REC='{"name":"fedora","version":"41","artifacts":[{"arch":"amd64","url":"https://upstream.example/a.qcow2"}]}'

@test "cd-current says each failed record on stderr, once, in order" {
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/41","status":403,
		"body":"{\"errors\":[{\"code\":\"DENIED\",\"message\":\"no access\"}]}"}]'
	printf '%s\n' "$REC" "${REC/fedora/cirros}" "${REC/41/42}" "$REC" > in.ndjson
	run -1 --separate-stderr cd-current -j 2 --retries 0 --source-registry "$PROXY/containerdisks" < in.ndjson
	[ "${#lines[@]}" -eq 4 ]
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "$PROXY/containerdisks/fedora:41: no access (DENIED)" ]
	[ "$stderr" = "cd-current: fedora:41: $PROXY/containerdisks/fedora:41: no access (DENIED)
cd-current: fedora:41: $PROXY/containerdisks/fedora:41: no access (DENIED)" ]
}

@test "cd-diff says each failed record on stderr" {
	printf '%s\n' "$REC" "$(jq -c '.published = {}' <<< "$REC")" > in.ndjson
	run -1 --separate-stderr cd-diff < in.ndjson
	[ "$(jq -r .action <<< "${lines[1]}")" = build ]
	[ "$stderr" = 'cd-diff: fedora:41: record has no "published" object (run cd-current first)' ]
}

@test "registry text with control characters never reaches stderr raw" {
	# ESC [2J clears a screen; CR LF would start a forged log line
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/41","status":403,
		"body":"{\"errors\":[{\"code\":\"DENIED\",\"message\":\"\\u001b[2Jgone\\r\\ncd-current: all fine \\u009b31m\"}]}"}]'
	run -1 --separate-stderr cd-current --retries 0 --source-registry "$PROXY/containerdisks" <<< "$REC"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "cd-current: fedora:41: $PROXY/containerdisks/fedora:41: "*"gone"*"all fine"*" (DENIED)" ]]
	! LC_ALL=C grep -q $'[\x01-\x1f\x7f]\|\xc2[\x80-\x9f]' <<< "$stderr"
}

@test "upstream text with control characters and invalid bytes is escaped on stderr (cd-discover)" {
	printf '{"name":"esc","user":"esc","preference":"esc","arches":{"amd64":"x86_64"},"source":"https://upstream.example/esc.json","format":"json","pick":".","images":[{"version":"1"}]}\n' > esc.json
	printf '\033[2J\033]0;owned\007\r\ncd-discover: all fine \xff' > "$SRV/esc.json"
	run -1 --separate-stderr cd-discover --catalog esc.json
	[ "${stderr_lines[0]}" = "cd-discover: esc:1 amd64: malformed JSON in https://upstream.example/esc.json: Invalid numeric literal at line 1, column 2 (while parsing '\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x0acd-discover: all fine "$'\xef\xbf\xbd'"')" ]
	[ "${stderr_lines[1]}" = "cd-discover: 1 image failed" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "a record's own fields are escaped too (an invalid name with an escape sequence)" {
	run -1 --separate-stderr cd-diff <<< '{"name":"a\u001b[2Jb","version":"1","artifacts":[]}'
	[ "$stderr" = "cd-diff: a\\x1b[2Jb:1: invalid record: name: 'a\\x1b[2Jb' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')" ]
}
