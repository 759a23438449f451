#!/usr/bin/env bats
# Every record is held to the contract (tools/README.md, "Record
# validation") where it is read, by every tool: one that breaks it is an
# error record naming the field, counted as failed (exit 1) and said on
# stderr, and nothing is built, pushed or decided from it.  The cases of
# issue 8: wrong types, an unknown arch, a NUL in the version, invalid
# UTF-8.  (Every tool against the full hostile set: record-hostile.bats.)

bats_require_minimum_version 1.5.0
load lib/loop

setup_file() { loop_servers_start; }

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	export CD_MIRRORS=$MIRRORS
	ART='{"arch":"amd64","url":"https://upstream.example/tiny.qcow2","checksum":"'$TINY_SUM'"}'
}

@test "a NUL in the version: not built as x-1, not pushed as x:1" {
	printf '%s\n' '{"name":"x","version":"1\u0000/../../evil","artifacts":['"$ART"']}' > in.ndjson
	run -1 --separate-stderr cd-build --output out --cache cache < in.ndjson
	[ "$(jq -r .error.message <<< "$output")" = "invalid record: version: holds a NUL character" ]
	[ "$(jq -c .version <<< "$output")" = '"1\u0000/../../evil"' ]
	[ "$(jq -r .layout <<< "$output")" = null ]
	[ "$stderr" = "cd-build: x:1: invalid record: version: holds a NUL character
cd-build: cache 'cache': 0 B in 0 files" ]
	[ -z "$(ls -A out)" ]
	[ ! -e evil ] && [ ! -e ../evil ]
	# a layout that exists does not help it through cd-push
	printf '%s\n' '{"name":"x","version":"1","artifacts":['"$ART"']}' > good.ndjson
	cd-build --output out --cache cache < good.ndjson > built.ndjson 2>/dev/null
	jq -c '.version = "1\u0000/../../evil"' built.ndjson > evil.ndjson
	run -1 --separate-stderr cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" < evil.ndjson
	[ "$(jq -r .error.message <<< "$output")" = "invalid record: version: holds a NUL character" ]
	[ "$(jq -r .pushed <<< "$output")" = null ]
	[ "${stderr_lines[0]}" = "cd-push: x:1: invalid record: version: holds a NUL character" ]
	run -22 curl -sf "http://$REGISTRY/v2/containerdisks/x/tags/list" # 404: nothing was pushed
}

@test "arch sparc: no image config is made" {
	printf '%s\n' '{"name":"x","version":"1","artifacts":['"${ART/amd64/sparc}"']}' > in.ndjson
	run -1 --separate-stderr cd-build --output out --cache cache < in.ndjson
	[ "$(jq -c .error <<< "$output")" = '{"tool":"cd-build","message":"invalid record: artifacts[0].arch: unknown architecture '\''sparc'\'' (amd64, arm64 or s390x)"}' ]
	[ -z "$(ls -A out)" ]
	[ -z "$(find cache -type f)" ] # not even downloaded
}

@test "wrong types: not built, and not marked \"build\" by cd-diff" {
	{
		echo '{"name":"x","version":"1","artifacts":[{"arch":"amd64","url":7}]}'
		echo '{"name":"x","version":"2","artifacts":['"$ART"'],"published":[]}'
		echo '{"name":"x","version":"3","artifacts":['"$ART"'],"published":{},"latest":"true"}'
		echo '{"name":"x","version":"4","artifacts":['"$ART"'],"published":{}}'
	} > in.ndjson
	run -1 --separate-stderr cd-diff < in.ndjson
	[ "$(jq -r '.error.message // .action' <<< "$output")" = 'invalid record: artifacts[0].url: a number, not a string
invalid record: published: an array, not an object
invalid record: latest: a string, not a boolean
build' ]
	[ "$(jq -r .action <<< "$output" | grep -c build)" -eq 1 ]
	run -1 --separate-stderr cd-build --output out --cache cache < in.ndjson
	[ "$(jq -r '.error.message // .layout' <<< "$output" | head -3 | cut -d: -f1 | sort -u)" = "invalid record" ]
	[ "$(cd out && ls -d */*)" = x/4 ]
}

@test "invalid UTF-8 is refused, not silently rewritten; a record that already failed passes whatever it holds" {
	line='{"name":"../x","version":7,"error":{"tool":"cd-discover","message":"upstream gone"}}'
	{
		printf '{"name":"x","version":"1","artifacts":[%s],"published":{},"user":"caf\xe9"}\n' "$ART"
		echo "$line"
	} > in.ndjson
	run -1 --separate-stderr cd-diff < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "invalid record: user: not valid UTF-8" ]
	[ "$(jq -r .action <<< "${lines[0]}")" = null ]
	[ "${lines[1]}" = "$line" ]
	[ "$stderr" = "cd-diff: x:1: invalid record: user: not valid UTF-8" ]
}
