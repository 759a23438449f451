#!/usr/bin/env bats
# The flags registry users expect, the same in every tool: a bad option is
# one line and "Try --help" (not the whole usage, nor getopt's own words);
# "--dry-run false" means what it says; --focus on every stage lets the
# other records through untouched; --timeout is the network's everywhere
# (cd-verify's boot wait is --boot-timeout).  No network: nothing in focus
# is ever fetched.

bats_require_minimum_version 1.5.0
load lib/common

# Every tool, with the flags it cannot start without.
TOOLS=(cd-discover cd-current cd-diff cd-build cd-push cd-promote cd-verify cd-report cd-shard cd-docs)
STAGES=(cd-current cd-diff cd-build cd-push cd-promote cd-verify)

# args TOOL: the required flags of TOOL, in ARGS.
args() {
	case $1 in
	cd-push) ARGS=(--target-registry 127.0.0.1:9/x) ;;
	cd-promote) ARGS=(--source-registry 127.0.0.1:9/s --target-registry 127.0.0.1:9/x) ;;
	cd-build) ARGS=(--cache "$BATS_TEST_TMPDIR/cache" --output "$BATS_TEST_TMPDIR/out") ;;
	cd-current) ARGS=(--source-registry 127.0.0.1:9/x) ;;
	*) ARGS=() ;;
	esac
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "every tool: an unknown option is one line naming it and 'Try --help', nothing on stdout" {
	local t
	for t in "${TOOLS[@]}"; do
		run -2 --separate-stderr "$t" --no-such-option
		[ "$output" = "" ]
		[ "$stderr" = "$t: unknown option '--no-such-option'
Try '$t --help' for more information." ] || { echo "$t: $stderr"; return 1; }
		run -2 --separate-stderr "$t" --no-such-option=3
		[ "$stderr" = "$t: unknown option '--no-such-option'
Try '$t --help' for more information." ] || { echo "$t: $stderr"; return 1; }
		run -2 --separate-stderr "$t" -Z
		[ "$stderr" = "$t: unknown option '-Z'
Try '$t --help' for more information." ] || { echo "$t: $stderr"; return 1; }
	done
}

@test "every tool: a missing value, a value for a flag that takes none, an ambiguous abbreviation" {
	local t
	for t in "${TOOLS[@]}"; do
		run -2 --separate-stderr "$t" --help=yes
		[ "$stderr" = "$t: option '--help' takes no value
Try '$t --help' for more information." ] || { echo "$t: $stderr"; return 1; }
	done
	run -2 --separate-stderr cd-build --workers
	[ "$stderr" = "cd-build: option '--workers' needs a value
Try 'cd-build --help' for more information." ]
	run -2 --separate-stderr cd-build -qj
	[ "$stderr" = "cd-build: option '-j' needs a value
Try 'cd-build --help' for more information." ]
	run -2 --separate-stderr cd-diff --fo x:1
	[ "$stderr" = "cd-diff: ambiguous option '--fo': --force, --focus?
Try 'cd-diff --help' for more information." ]
	run -0 --separate-stderr cd-diff --forc < /dev/null   # an unambiguous abbreviation still works
}

@test "cd-push, cd-promote: '--dry-run false' (two words) sends, '--dry-run true' and '--dry-run' do not" {
	local t
	for t in cd-push cd-promote; do
		args "$t"
		run -0 --separate-stderr "$t" "${ARGS[@]}" --dry-run false < /dev/null
		[[ $stderr == "$t: "*" blobs (0.0 MiB), skipped 0 present, mounted 0" ]] || { echo "$t: $stderr"; return 1; }
		run -0 --separate-stderr "$t" "${ARGS[@]}" --dry-run true < /dev/null
		[[ $stderr == *" (dry run: nothing sent)" ]]
		run -0 --separate-stderr "$t" --dry-run "${ARGS[@]}" < /dev/null
		[[ $stderr == *" (dry run: nothing sent)" ]]
		run -0 --separate-stderr "$t" "${ARGS[@]}" --dry-run no < /dev/null
		[[ $stderr != *"dry run"* ]]
	done
}

@test "every stage: --focus works on the records it names; the others pass untouched, unchecked" {
	# Not one of them could be worked on (no artifacts): only the focused one fails.
	printf '%s\n' '{"name":"a","version":"1"}' '{"name":"b","version":"2","x":[1,2]}' \
		'{"name":"b","version":"3"}' '{"name":"c","version":"9"}' > in.ndjson
	local t
	for t in "${STAGES[@]}"; do
		args "$t"
		run -0 --separate-stderr "$t" "${ARGS[@]}" --focus x:1 < in.ndjson
		[ "$output" = "$(cat in.ndjson)" ] || { echo "$t: $output"; return 1; }
		[[ $stderr != *"invalid record"* ]] || { echo "$t: $stderr"; return 1; }
		run -1 --separate-stderr "$t" "${ARGS[@]}" --focus b:3 --focus=c:9 < in.ndjson
		[ "${lines[0]}" = '{"name":"a","version":"1"}' ]
		[ "${lines[1]}" = '{"name":"b","version":"2","x":[1,2]}' ]
		[ "$(jq -r .error.tool <<< "${lines[2]}")" = "$t" ] || { echo "$t: $output"; return 1; }
		[ "$(jq -r .error.tool <<< "${lines[3]}")" = "$t" ]
		run -1 --separate-stderr "$t" "${ARGS[@]}" --focus 'b:*' < in.ndjson
		[ "${lines[0]}" = '{"name":"a","version":"1"}' ]
		[ "$(jq -r .error.tool <<< "${lines[1]}")" = "$t" ]
		[ "$(jq -r .error.tool <<< "${lines[2]}")" = "$t" ]
		[ "${lines[3]}" = '{"name":"c","version":"9"}' ]
		run -2 --separate-stderr "$t" "${ARGS[@]}" --focus b < in.ndjson
		[ "$stderr" = "$t: --focus: malformed focus 'b': want name:version or 'name:*'
Try '$t --help' for more information." ]
		run -0 "$t" --help
		[[ $output == *"--focus NAME:VERSION"* ]]
	done
}

@test "--timeout is the network stall timeout in every tool that talks HTTP; cd-verify's boot wait is --boot-timeout" {
	local t
	for t in cd-discover cd-current cd-build cd-push cd-promote cd-verify; do
		run -0 "$t" --help
		[[ $output == *"--timeout SECONDS    a transfer slower than 1 KiB/s for this long has"* ]] ||
			{ echo "$t: $output"; return 1; }
		run -2 --separate-stderr "$t" --timeout 0
		[[ $stderr == "$t: invalid value '0' for --timeout: expected a number from 1 to 86400"* ]]
	done
	run -0 cd-verify --help
	[[ $output == *"--boot-timeout S     how long --boot waits for the marker (default 300)"* ]]
	[[ $output != *"--net-timeout"* ]]
	run -2 --separate-stderr cd-verify --boot-timeout 0
	[[ $stderr == "cd-verify: invalid value '0' for --boot-timeout"* ]]
	# The pipelines give the boot timeout to --boot-timeout.
	grep -q 'verifyflags+=(--boot-timeout "$CD_BOOT_TIMEOUT")' "$CDKIT_ROOT/pipelines/shard-job"
	grep -q 'cd-verify --boot --accel "$accel" --boot-timeout "$timeout"' "$CDKIT_ROOT/pipelines/cdkit"
}
