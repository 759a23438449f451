#!/usr/bin/env bats
# cd-build under faults: each bad record becomes an error record with a clear
# message, leaves nothing in --output (nor a partial file in the cache), and
# the other records are still built.

bats_require_minimum_version 1.5.0
load lib/common
load lib/cd-build

setup_file() {
	export SRV=$BATS_FILE_TMPDIR/srv
	make_disks "$SRV"
	export FULL=$BATS_FILE_TMPDIR/full
	mkdir -p "$FULL"
	export FULL_MOUNTED=0
	if mount -t tmpfs -o size=2m cdkit-test-full "$FULL"; then
		FULL_MOUNTED=1
	fi
}

teardown_file() {
	if [ "$FULL_MOUNTED" = 1 ]; then
		umount "$FULL"
	fi
}

setup() {
	# A server per test: "times" counters of the fault rules start afresh.
	HTTPD_RULES=$BATS_TEST_TMPDIR/rules.json
	echo '[]' > "$HTTPD_RULES"
	httpd_start "$SRV" "$HTTPD_RULES"
	: > "$HTTPD_LOG"
	mirror_args
	OUT=$BATS_TEST_TMPDIR/out
	CACHE=$BATS_TEST_TMPDIR/cache
	cd "$BATS_TEST_TMPDIR"
	record good 1 "$(artifact amd64 b.qcow2)" > good.ndjson
}

teardown() {
	httpd_stop
}

cdb() {
	cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" --workers 1 "$@"
}

# The good record was built and is the only thing in --output; the cache holds
# no partial file.
assert_only_good() {
	[ "$(jq -r .layout <<< "$1")" = "$OUT/good-1" ]
	[ "$(jq -r .digest <<< "$1")" != null ]
	[ "$(ls -A "$OUT")" = good-1 ]
	[ -z "$(ls -A "$CACHE/tmp")" ]
}

@test "cd-build: a checksum mismatch names the URL and both digests, and keeps nothing" {
	a='{"arch":"amd64","url":"https://upstream.example/img/a.qcow2","checksum":"sha256:'$(sum b.qcow2)'"}'
	record bad 1 "$a" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[ "$(jq -r .error.tool <<< "${lines[0]}")" = cd-build ]
	[ "$(jq -r .error.arch <<< "${lines[0]}")" = amd64 ]
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "checksum mismatch for 'https://upstream.example/img/a.qcow2': expected sha256:$(sum b.qcow2), got sha256:$(sum a.qcow2)" ]
	[ "$(jq -r .layout <<< "${lines[0]}")" = null ]
	[[ $stderr == *"cd-build: bad:1 amd64: checksum mismatch for 'https://upstream.example/img/a.qcow2'"* ]]
	assert_only_good "${lines[1]}"
	[ ! -e "$CACHE/sha256/$(sum a.qcow2)" ]
	[ "$(ls "$CACHE/sha256")" = "$(sum b.qcow2)" ]
}

@test "cd-build: a download cut in the middle resumes with a Range request" {
	rules '[{"path": "/a.qcow2", "cut": 300000, "times": 1}]'
	record cut 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	grep -q '^GET /a.qcow2 200 -$' "$HTTPD_LOG"
	grep -q '^GET /a.qcow2 206 bytes=300000-$' "$HTTPD_LOG"
	[ "$(grep -c '^GET /a.qcow2 ' "$HTTPD_LOG")" -eq 2 ]
	layout=$(jq -r .layout <<< "$output")
	man=$layout/blobs/sha256/$(jq -r '.digest | ltrimstr("sha256:")' <<< "$output")
	unpack_layer "$layout/blobs/sha256/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$man")" root
	cmp root/disk/disk.img "$SRV/a.qcow2"
	cmp "$CACHE/sha256/$(sum a.qcow2)" "$SRV/a.qcow2"
}

@test "cd-build: a download cut every time gives up after the retries, keeping nothing" {
	rules '[{"path": "/a.qcow2", "cut": 300000}]'
	record cut 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb --retries 1 < in.ndjson
	[[ $(jq -r .error.message <<< "${lines[0]}") == "GET https://upstream.example/img/a.qcow2: "*"(after 2 attempts)" ]]
	grep -q '^GET /a.qcow2 206 bytes=300000-$' "$HTTPD_LOG"
	assert_only_good "${lines[1]}"
	[ ! -e "$CACHE/sha256/$(sum a.qcow2)" ]
}

@test "cd-build: a 500 is retried and the build goes on" {
	rules '[{"path": "/a.qcow2", "status": 500, "times": 1}]'
	record retry 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	grep -q '^GET /a.qcow2 500 -$' "$HTTPD_LOG"
	grep -q '^GET /a.qcow2 200 -$' "$HTTPD_LOG"
	[ -d "$OUT/retry-1" ]
}

@test "cd-build: a server that stops answering times out" {
	rules '[{"path": "/a.qcow2", "hang": 30}]'
	record hang 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb --timeout 1 --retries 0 < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/a.qcow2: timed out: under 1 KiB/s for 1 s" ]
	[ "$(jq -r .error.arch <<< "${lines[0]}")" = amd64 ]
	assert_only_good "${lines[1]}"
}

@test "cd-build: an upstream that trickles a 1 TB file (2 bytes/s) is given up after --timeout" {
	rules '[{"path": "/huge.qcow2", "length": 1000000000000, "rate": 2}]'
	a='{"arch":"amd64","url":"https://upstream.example/img/huge.qcow2","checksum":"sha256:'$(sum a.qcow2)'"}'
	record huge 1 "$a" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 timeout 60 cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" --timeout 2 --retries 0 < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/huge.qcow2: timed out: under 1 KiB/s for 2 s" ]
	assert_only_good "${lines[1]}"
}

@test "cd-build: a 404 is an error record naming the URL" {
	a='{"arch":"arm64","url":"https://upstream.example/img/gone.qcow2","checksum":"sha256:'$(sum a.qcow2)'"}'
	record gone 1 "$(artifact amd64 a.qcow2)" "$a" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/gone.qcow2: HTTP 404 (not found)" ]
	[ "$(jq -r .error.arch <<< "${lines[0]}")" = arm64 ]
	assert_only_good "${lines[1]}"
	# The arch that did download is verified and cached for the next run.
	[ -f "$CACHE/sha256/$(sum a.qcow2)" ]
}

@test "cd-build: a corrupt xz stream, and a file that is not what the record says" {
	record corrupt 1 "$(artifact amd64 bad.qcow2.xz xz)" > in.ndjson
	record notxz 1 "$(artifact amd64 b.qcow2.gz xz)" >> in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[[ $(jq -r .error.message <<< "${lines[0]}") == "cannot decompress 'https://upstream.example/img/bad.qcow2.xz' (xz): corrupt stream: "* ]]
	[ "$(jq -r .error.message <<< "${lines[1]}")" = "cannot decompress 'https://upstream.example/img/b.qcow2.gz' (xz): not xz data (found gzip)" ]
	assert_only_good "${lines[2]}"
	[ ! -e "$CACHE/sha256/$(sum bad.qcow2.xz).disk" ]
	[ ! -e "$CACHE/sha256/$(sum bad.qcow2.xz)" ]
}

@test "cd-build: a full disk for --output leaves no partial image, and smaller images still fit" {
	[ "$FULL_MOUNTED" = 1 ] || skip "mounting a small tmpfs needs root"
	[ -z "$(ls -A "$FULL")" ]
	record big 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$FULL" --workers 1 < in.ndjson
	[[ $(jq -r .error.message <<< "${lines[0]}") == *"No space left on device"* ]]
	[ "$(jq -r .error.arch <<< "${lines[0]}")" = amd64 ]
	[ "$(jq -r .layout <<< "${lines[1]}")" = "$FULL/good-1" ]
	[ "$(ls -A "$FULL")" = good-1 ]
	rm -rf "${FULL:?}"/good-1
}

@test "cd-build: malformed records: bad lines exit 3, records without artifacts are errors" {
	{
		echo 'not json'
		echo '{"name":"x","version":"1"}'
		echo '{"name":"../etc","version":"1","artifacts":[]}'
		cat good.ndjson
	} > in.ndjson
	run --separate-stderr -3 cdb < in.ndjson
	[[ $stderr == *"stdin:1: malformed record"* ]]
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "record has no artifacts" ]
	[ "$(jq -r .error.message <<< "${lines[1]}")" = "record needs a name and a version fit for a folder name" ]
	assert_only_good "${lines[2]}"
}

@test "cd-build: leftovers of a killed run are swept; files in use and other hidden folders are not" {
	mkdir -p "$CACHE/tmp" "$OUT/.cd-build.old-1.abcdef/blobs" "$OUT/.hidden"
	echo partial > "$CACHE/tmp/stale.123456.part"
	echo partial > "$CACHE/tmp/busy.123456.part"
	# Another run still writing: it holds the lock.
	exec {held}< "$CACHE/tmp/busy.123456.part"
	flock -x "$held"
	run --separate-stderr -0 cdb < good.ndjson
	exec {held}<&-
	[ ! -e "$CACHE/tmp/stale.123456.part" ]
	[ -e "$CACHE/tmp/busy.123456.part" ]
	[ ! -e "$OUT/.cd-build.old-1.abcdef" ]
	[ -d "$OUT/.hidden" ]
	[ -d "$OUT/good-1" ]
}

@test "cd-build: a server that cannot resume a cut download is asked for the whole file again" {
	rules '[{"path": "/a.qcow2", "cut": 300000, "times": 1}, {"path": "/a.qcow2", "norange": true}]'
	record norange 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[[ $stderr == *"norange:1 amd64: the server cannot resume; downloading again from the start"* ]]
	[ "$(grep -c '^GET /a.qcow2 200 -$' "$HTTPD_LOG")" -eq 3 ]   # cut, refused range, whole file
	cmp "$CACHE/sha256/$(sum a.qcow2)" "$SRV/a.qcow2"
}
