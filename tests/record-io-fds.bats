#!/usr/bin/env bats
# No tool closes its standard input, output or error, also when records fail.
# A struct that owned fd 0 by accident (cd-build's layout, before it started
# at -1) closed stdin on a failed download: the records after it were lost,
# and a concurrent download's file, given fd 0 next, was closed under it.
# strace(1) sees every close(2) of every thread and child of each stage of a
# pipeline run, with failing records among good ones.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	upstream_start disks 4
	registry_start plain
}

teardown_file() { servers_stop; }

setup() {
	mirror_args
	cd "$BATS_TEST_TMPDIR"
}

# traced TOOL ARGS...: run a stage under strace, its close(2) calls in
# trace.TOOL.  LeakSanitizer cannot run under ptrace: leaks are the other
# tests' business.
traced() {
	local tool=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=close,close_range -o "trace.$tool" "$tool" "$@"
}

# no_std_close TOOL: the stage closed none of fds 0, 1 and 2.
no_std_close() {
	[ -s "trace.$1" ]
	run -1 grep -E '^[0-9]+ +close(_range)?\([012][,)]' "trace.$1"
}

@test "pipeline: no stage closes its stdin, stdout or stderr, with failing records among good ones (-j 1 and -j 2)" {
	for j in 1 2; do
		{
			record bad 1 "$(printf '{"arch":"amd64","url":"https://upstream.example/img/a.qcow2","checksum":"sha256:%s"}' "$(sum b.qcow2)")"
			record gone 1 "$(printf '{"arch":"amd64","url":"https://upstream.example/img/gone.qcow2","checksum":"sha256:%s"}' "$(sum a.qcow2)")"
			good_records 1 30 t1.qcow2 t2.qcow2 t3.qcow2 t4.qcow2
		} > in.ndjson
		run --separate-stderr -1 traced cd-build -j "$j" --retries 0 "${MIRROR_ARGS[@]}" --cache "cache$j" --output "out$j" < in.ndjson
		[ "${#lines[@]}" -eq 32 ]
		printf '%s\n' "${lines[@]}" > built.ndjson
		no_std_close cd-build

		# a layout gone: an error record in cd-push
		rm -rf "out$j/g002"
		run --separate-stderr -1 traced cd-push -j "$j" --dry-run=false --target-registry "$REGISTRY/fds$j" < built.ndjson
		[ "${#lines[@]}" -eq 32 ]
		printf '%s\n' "${lines[@]}" > pushed.ndjson
		no_std_close cd-push

		run --separate-stderr -0 traced cd-verify -j "$j" < pushed.ndjson
		[ "${#lines[@]}" -eq 32 ]
		printf '%s\n' "${lines[@]}" > verified.ndjson
		[ "$(jq -r 'select(.verified.ok) | .name' verified.ndjson | wc -l)" -eq 29 ]
		no_std_close cd-verify

		run --separate-stderr -0 traced cd-promote --dry-run=false --source-registry "$REGISTRY" --target-registry "$REGISTRY/prod$j" < verified.ndjson
		[ "${#lines[@]}" -eq 32 ]
		[ "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.promoted) | .name' | wc -l)" -eq 29 ]
		no_std_close cd-promote

		# an unreachable registry: every record fails in cd-current
		run --separate-stderr -1 traced cd-current -j "$j" --retries 0 --source-registry "127.0.0.1:$(free_port)/x" < in.ndjson
		[ "${#lines[@]}" -eq 32 ]
		no_std_close cd-current
	done
}
