#!/usr/bin/env bats
# A tool that cannot read its input or write its output exits 4, with a
# message: not 1, which means "some record failed", so a pipeline can tell
# a lost stream from a failed image.  Every tool: stdout on a full disk
# (/dev/full) or closed, stdin closed or a directory, --help on a full disk;
# cd-discover's input is its catalog.

bats_require_minimum_version 1.5.0
load lib/common

RECORD_TOOLS="cd-current cd-diff cd-build cd-push cd-verify cd-promote"

setup() {
	cd "$BATS_TEST_TMPDIR"
	# A record every stage passes on untouched, without network: it carries an error.
	echo '{"name":"x","version":"1","artifacts":[{"arch":"amd64","url":"https://upstream.example/x"}],"error":{"tool":"cd-discover","message":"upstream"}}' > one.ndjson
}

teardown() { servers_stop; }

# redir REDIRECTION COMMAND...: run COMMAND with REDIRECTION applied in its own
# process (bats's run captures stdout through a pipe of its own, which a
# redirection of run itself would not reach, and which would take a closed fd 0).
redir() {
	local r=$1
	shift
	bash -c "exec \"\$@\" $r" - "$@"
}

# The arguments TOOL needs to start (registries on a port nobody listens on: never contacted).
args() {
	case $1 in
	cd-current) echo --source-registry 127.0.0.1:9/x ;;
	cd-build) echo --output out --cache cache ;;
	cd-push) echo --target-registry 127.0.0.1:9/x ;;
	cd-promote) echo --source-registry 127.0.0.1:9 --target-registry 127.0.0.1:9/x ;;
	esac
}

# each_tool_exits_4 REDIRECTION MESSAGE: every record tool, its stdout (or
# stdin) as REDIRECTION makes it, on one.ndjson: exit 4 and the stderr line
# "TOOL: MESSAGE".
each_tool_exits_4() {
	local t
	for t in $RECORD_TOOLS; do
		# shellcheck disable=SC2046
		run -4 --separate-stderr redir "$1" "$t" $(args "$t") < one.ndjson
		grep -qxF "$t: $2" <<< "$stderr"
	done
}

@test "every tool: stdout on a full disk is exit 4, with a message" {
	each_tool_exits_4 '> /dev/full' "cannot write records to stdout: No space left on device"
}

@test "every tool: a closed stdout is exit 4, with a message" {
	each_tool_exits_4 '>&-' "cannot write records to stdout: Bad file descriptor"
}

@test "every tool: a closed or unreadable stdin is exit 4, with a message" {
	local t
	for t in $RECORD_TOOLS; do
		# shellcheck disable=SC2046
		run -4 --separate-stderr redir '<&-' "$t" $(args "$t")
		grep -qxF "$t: cannot read stdin: Bad file descriptor" <<< "$stderr"
		[ -z "$output" ]
		# shellcheck disable=SC2046
		run -4 --separate-stderr "$t" $(args "$t") < "$BATS_TEST_TMPDIR"
		grep -qxF "$t: cannot read stdin: Is a directory" <<< "$stderr"
	done
}

@test "every tool: --help and --version on a full disk are exit 4" {
	local t
	for t in $RECORD_TOOLS cd-discover; do
		run -4 --separate-stderr redir '> /dev/full' "$t" --help
		[ "$stderr" = "$t: cannot write to stdout: No space left on device" ]
		run -4 --separate-stderr redir '> /dev/full' "$t" --version
		[ "$stderr" = "$t: cannot write to stdout: No space left on device" ]
	done
}

@test "cd-discover: stdout on a full disk or closed is exit 4; so is a catalog it cannot read" {
	mkdir srv cat
	httpd_start "$BATS_TEST_TMPDIR/srv"
	printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  x.qcow2\n' > srv/SHA256SUMS
	printf '{"name":"x","user":"x","preference":"x","arches":{"amd64":"x86_64"},"source":"%s/SHA256SUMS","format":"checksums","pick":".[0] | {url: ($base + .name), checksum}","images":[{"version":"1"}]}\n' \
		"$HTTPD_URL" > cat/x.json
	run -0 --separate-stderr cd-discover --catalog cat
	[ "$(jq -r .version <<< "$output")" = 1 ]
	run -4 --separate-stderr redir '> /dev/full' cd-discover --catalog cat
	[ "$stderr" = "cd-discover: cannot write records to stdout: No space left on device" ]
	run -4 --separate-stderr redir '>&-' cd-discover --catalog cat
	[ "$stderr" = "cd-discover: cannot write records to stdout: Bad file descriptor" ]
	# a catalog that is there but cannot be read: its input is lost, not wrong (that is 2)
	mkdir cat/y.json
	run -4 --separate-stderr cd-discover --catalog cat
	[ "$stderr" = "cd-discover: cannot read 'cat/y.json': Is a directory" ]
	[ -z "$output" ]
	run -4 --separate-stderr cd-discover --catalog "$BATS_TEST_TMPDIR/none"
	[ "$stderr" = "cd-discover: cannot open catalog '$BATS_TEST_TMPDIR/none': No such file or directory" ]
}

@test "exit 4 wins over 3 (malformed lines) and 1 (failed records)" {
	{ cat one.ndjson; echo 'not json'; echo '{"name":"y","version":"1","artifacts":[]}'; } > mixed.ndjson
	run -3 --separate-stderr cd-diff < mixed.ndjson
	[ "${#lines[@]}" -eq 2 ]
	run -4 --separate-stderr redir '> /dev/full' cd-diff < mixed.ndjson
	[ "${stderr_lines[-1]}" = "cd-diff: cannot write records to stdout: No space left on device" ]
}
