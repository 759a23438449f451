#!/usr/bin/env bats
# cd-build under faults: each bad record becomes an error record with a clear
# message, leaves nothing in --output (nor a partial file in the cache), and
# the other records are still built.  Runs of 150+ records (more than any
# stdio buffer holds) with failures at the front, middle and end check that
# every record comes out, in order, and (tests/lib/check-store) that every
# cache entry and every layout's disk is what its name and label say.

bats_require_minimum_version 1.5.0
load lib/cd-build

setup_file() {
	export SRV=$BATS_FILE_TMPDIR/srv
	make_disks "$SRV"
	# A disk that compresses well: 40 KiB of gzip, 3 MiB once decompressed.
	yes 'cdkit compressible disk' | head -c 3M > "$BATS_FILE_TMPDIR/z.raw"
	qemu-img convert -q -f raw -O qcow2 "$BATS_FILE_TMPDIR/z.raw" "$BATS_FILE_TMPDIR/z.qcow2"
	gzip -1 -c "$BATS_FILE_TMPDIR/z.qcow2" > "$SRV/z.qcow2.gz"
	(cd "$SRV" && sha256sum z.qcow2.gz >> SHA256SUMS)
	make_tiny_disks "$SRV" 40
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
	servers_stop
	local m
	for m in "${MOUNTS[@]}"; do
		umount "$m"
	done
}

# small_disk DIR SIZE: a tmpfs of SIZE mounted on DIR for this test (teardown
# unmounts it).
MOUNTS=()
small_disk() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" cdkit-test-full "$1" || skip "mounting a small tmpfs needs root"
	MOUNTS+=("$1")
}

# The tiny upstream files of make_tiny_disks.
TINY=(t01.qcow2 t02.qcow2 t03.qcow2 t04.qcow2 t05.qcow2 t06.qcow2 t07.qcow2 t08.qcow2 t09.qcow2 t10.qcow2
      t11.qcow2 t12.qcow2 t13.qcow2 t14.qcow2 t15.qcow2 t16.qcow2 t17.qcow2 t18.qcow2 t19.qcow2 t20.qcow2
      t21.qcow2 t22.qcow2 t23.qcow2 t24.qcow2 t25.qcow2 t26.qcow2 t27.qcow2 t28.qcow2 t29.qcow2 t30.qcow2
      t31.qcow2 t32.qcow2 t33.qcow2 t34.qcow2 t35.qcow2 t36.qcow2 t37.qcow2 t38.qcow2 t39.qcow2 t40.qcow2)

# An artifact whose download fails: URL path and the checksum it claims.
art_at() {
	printf '{"arch":"amd64","url":"https://upstream.example/img/%s","checksum":"sha256:%s"}' "$1" "$2"
}

# then_good: 30 good records after the faulty ones: more than the input
# buffer holds, so a tool that lost its stdin would lose some of them.
then_good() {
	good_records 1 30 b.qcow2
}

# assert_all IN FAILED...: the run's records are IN's, in order, FAILED the
# ones with an error; stdin was never lost; cache and output hold only whole,
# right files.
assert_all() {
	assert_stream "$@" 
	[[ $stderr != *"Bad file descriptor"* ]]
	[[ $stderr != *"malformed record"* ]]
	check_store "$CACHE" "$OUT"
}

cdb() {
	cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" --workers 1 "$@"
}

# The good record was built and is the only thing in --output; the cache holds
# no partial file.
assert_only_good() {
	[ "$(jq -r .layout <<< "$1")" = "$OUT/good/1" ]
	[ "$(jq -r .digest <<< "$1")" != null ]
	[ "$(ls -A "$OUT")" = good ]
	[ "$(ls -A "$OUT/good")" = 1 ]
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

# build_one RULES NAME: with the server's fault RULES, cdb of one record
# NAME:1 of a.qcow2 (amd64), which succeeds.
build_one() {
	rules "$1"
	record "$2" 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
}

@test "cd-build: a download cut in the middle resumes with a Range request" {
	build_one '[{"path": "/a.qcow2", "cut": 300000, "times": 1}]' cut
	grep -q '^GET /a.qcow2 200 -$' "$HTTPD_LOG"
	grep -q '^GET /a.qcow2 206 bytes=300000-$' "$HTTPD_LOG"
	[ "$(grep -c '^GET /a.qcow2 ' "$HTTPD_LOG")" -eq 2 ]
	built_disk "$output" root
	cmp root/disk/disk.img "$SRV/a.qcow2"
	cmp "$CACHE/sha256/$(sum a.qcow2)" "$SRV/a.qcow2"
}

@test "cd-build: off a terminal (a CI log), a slow download says it started, then how far it got, in plain lines" {
	rules '[{"path": "/a.qcow2", "rate": 524288}]'
	record r 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[[ $stderr != *$'\e'* ]]
	grep -Eqx 'cd-build: r:1 amd64: started( \(2\.[0-9] MiB\))?' <<< "$stderr" || { echo "$stderr"; return 1; }
	# at least one line between the start and the end, and none says 100%
	grep -Eq '^cd-build: r:1 amd64: [1-9]0% [0-9.]+ (KiB|MiB) / 2\.[0-9] MiB [0-9.]+ (B|KiB|MiB)/s( ETA [0-9]+:[0-9]{2})?$' <<< "$stderr"
	run -1 grep -q '100%' <<< "$stderr"
	grep -q '^cd-build: r:1 amd64: downloaded and verified ' <<< "$stderr"
	# --quiet: none of it
	rm -rf "$CACHE" "$OUT"
	run --separate-stderr -0 cdb -q < in.ndjson
	[ "$stderr" = "" ]
}

# killed SIGNAL: start cd-build on in.ndjson (SIGINT at its default action,
# as a terminal's Ctrl-C finds it: a background job of a script ignores it),
# wait until its download of a.qcow2 has written some bytes, send SIGNAL,
# and set HAVE to the bytes it left in the cache.
killed() {
	local part=$CACHE/tmp/sha256-$(sum a.qcow2).resume pid st=0 i
	python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
		cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" < in.ndjson > killed.ndjson 2> killed.err &
	pid=$!
	for i in $(seq 600); do
		[ "$(stat -c %s "$part" 2>/dev/null || echo 0)" -gt 200000 ] && break
		sleep 0.05
	done
	kill "-$1" "$pid"
	wait "$pid" || st=$?
	[ "$st" -eq $((128 + $(kill -l "$1"))) ]   # killed by it, not finished
	HAVE=$(stat -c %s "$part")
}

@test "cd-build: after Ctrl-C (SIGINT) or SIGTERM, a rerun fetches only the missing bytes and still verifies them all" {
	local size sig
	size=$(stat -c %s "$SRV/a.qcow2")
	record r 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	for sig in INT TERM; do
		rm -rf "$CACHE" "$OUT"
		rules '[{"path": "/a.qcow2", "rate": 262144}]'
		killed "$sig"
		[ "$HAVE" -gt 0 ] && [ "$HAVE" -lt "$size" ]
		rules '[]'
		: > "$HTTPD_LOG"
		: > "$HTTPD_SENT_LOG"
		run --separate-stderr -0 cdb < in.ndjson
		[[ $stderr == *"r:1 amd64: resuming an interrupted download at "* ]]
		[[ $stderr == *"r:1 amd64: downloaded and verified"* ]]
		# one request, for the rest only, and only the rest was sent
		[ "$(grep -c '^GET /a.qcow2 ' "$HTTPD_LOG")" -eq 1 ]
		grep -q "^GET /a.qcow2 206 bytes=$HAVE-\$" "$HTTPD_LOG"
		[ "$(cat "$HTTPD_SENT_LOG")" = "SENT /a.qcow2 $((size - HAVE))" ]
		cmp "$CACHE/sha256/$(sum a.qcow2)" "$SRV/a.qcow2"
		[ -z "$(ls -A "$CACHE/tmp")" ]
		check_store "$CACHE" "$OUT"
	done
}

@test "cd-build: a left part whose bytes are wrong fails the checksum and is dropped; the next run fetches the whole file" {
	local size part
	size=$(stat -c %s "$SRV/a.qcow2")
	part=$CACHE/tmp/sha256-$(sum a.qcow2).resume
	mkdir -p "$CACHE/tmp"
	head -c 300000 "$SRV/b.qcow2" > "$part"       # not the start of a.qcow2
	record r 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[[ $(jq -r .error.message <<< "$output") == "checksum mismatch for 'https://upstream.example/img/a.qcow2': expected sha256:$(sum a.qcow2), got sha256:"* ]]
	grep -q '^GET /a.qcow2 206 bytes=300000-$' "$HTTPD_LOG"
	[ ! -e "$part" ]
	[ ! -e "$CACHE/sha256/$(sum a.qcow2)" ]
	: > "$HTTPD_LOG"
	: > "$HTTPD_SENT_LOG"
	run --separate-stderr -0 cdb < in.ndjson
	grep -q '^GET /a.qcow2 200 -$' "$HTTPD_LOG"
	[ "$(cat "$HTTPD_SENT_LOG")" = "SENT /a.qcow2 $size" ]
	cmp "$CACHE/sha256/$(sum a.qcow2)" "$SRV/a.qcow2"
}

@test "cd-build: a left part that is already the whole file (killed before it was stored) is fetched again, not stuck on a 416" {
	local part=$CACHE/tmp/sha256-$(sum a.qcow2).resume
	mkdir -p "$CACHE/tmp"
	cp "$SRV/a.qcow2" "$part"
	record r 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	grep -q '^GET /a.qcow2 416 -$' "$HTTPD_LOG"
	grep -q '^GET /a.qcow2 200 -$' "$HTTPD_LOG"
	cmp "$CACHE/sha256/$(sum a.qcow2)" "$SRV/a.qcow2"
	[ -z "$(ls -A "$CACHE/tmp")" ]
}

@test "cd-build: a download cut every time gives up after the retries, keeping nothing" {
	rules '[{"path": "/a.qcow2", "cut": 300000}]'
	record cut 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb --retries 1 < in.ndjson
	[[ $(jq -r .error.message <<< "${lines[0]}") == "GET https://upstream.example/img/a.qcow2 (fetched as $HTTPD_URL/a.qcow2): "*"(after 2 attempts)" ]]
	grep -q '^GET /a.qcow2 206 bytes=300000-$' "$HTTPD_LOG"
	assert_only_good "${lines[1]}"
	[ ! -e "$CACHE/sha256/$(sum a.qcow2)" ]
}

@test "cd-build: a 500 is retried and the build goes on" {
	build_one '[{"path": "/a.qcow2", "status": 500, "times": 1}]' retry
	grep -q '^GET /a.qcow2 500 -$' "$HTTPD_LOG"
	grep -q '^GET /a.qcow2 200 -$' "$HTTPD_LOG"
	[ -d "$OUT/retry/1" ]
}

@test "cd-build: a server that stops answering times out" {
	rules '[{"path": "/a.qcow2", "hang": 30}]'
	record hang 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb --timeout 1 --retries 0 < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/a.qcow2 (fetched as $HTTPD_URL/a.qcow2): timed out: under 1 KiB/s for 1 s" ]
	[ "$(jq -r .error.arch <<< "${lines[0]}")" = amd64 ]
	assert_only_good "${lines[1]}"
}

@test "cd-build: an upstream that trickles a 1 TB file (2 bytes/s) is given up after --timeout" {
	rules '[{"path": "/huge.qcow2", "length": 1000000000000, "rate": 2}]'
	a='{"arch":"amd64","url":"https://upstream.example/img/huge.qcow2","checksum":"sha256:'$(sum a.qcow2)'"}'
	record huge 1 "$a" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 timeout 60 cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" --timeout 2 --retries 0 < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/huge.qcow2 (fetched as $HTTPD_URL/huge.qcow2): timed out: under 1 KiB/s for 2 s" ]
	assert_only_good "${lines[1]}"
}

@test "cd-build: a 404 is an error record naming the URL" {
	a='{"arch":"arm64","url":"https://upstream.example/img/gone.qcow2","checksum":"sha256:'$(sum a.qcow2)'"}'
	record gone 1 "$(artifact amd64 a.qcow2)" "$a" > in.ndjson
	cat good.ndjson >> in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/gone.qcow2 (fetched as $HTTPD_URL/gone.qcow2): HTTP 404 (not found)" ]
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
	small_disk "$OUT" 2m
	record big 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	then_good >> in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "cannot write layer: No space left on device" ]
	[ "$(jq -r .error.arch <<< "${lines[0]}")" = amd64 ]
	assert_all in.ndjson "$output" big:1
	[ "$(jq -r .layout <<< "${lines[1]}")" = "$OUT/g001/1" ]
	[ ! -e "$OUT/big" ]
}

@test "cd-build: a full disk for --cache fails that download, keeps no partial entry, and the others still come out" {
	small_disk "$CACHE" 2m
	record big 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	record bigdisk 1 "$(artifact amd64 z.qcow2.gz gzip)" >> in.ndjson
	then_good >> in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "cannot write '$CACHE/tmp/sha256-$(sum a.qcow2).resume': No space left on device" ]
	[ "$(jq -r .error.message <<< "${lines[1]}")" = "cannot decompress 'https://upstream.example/img/z.qcow2.gz' (gzip): cannot write the disk: No space left on device" ]
	assert_all in.ndjson "$output" big:1 bigdisk:1
	[ -z "$(ls -A "$CACHE/tmp")" ]
	[ "$(ls "$CACHE/sha256")" = "$(sum b.qcow2)" ]
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
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "invalid record: artifacts: missing" ]
	[ "$(jq -r .error.message <<< "${lines[1]}")" = "invalid record: name: '../etc' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')" ]
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
	[ -d "$OUT/good/1" ]
}

@test "cd-build: a server that cannot resume a cut download is asked for the whole file again" {
	rules '[{"path": "/a.qcow2", "cut": 300000, "times": 1}, {"path": "/a.qcow2", "norange": true}]'
	record norange 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	[[ $stderr == *"norange:1 amd64: the server cannot resume; downloading again from the start"* ]]
	[ "$(grep -c '^GET /a.qcow2 200 -$' "$HTTPD_LOG")" -eq 3 ]   # cut, refused range, whole file
	cmp "$CACHE/sha256/$(sum a.qcow2)" "$SRV/a.qcow2"
}

@test "cd-build -j 1: a checksum mismatch, then 100 records: all 101 come out, in order, and stdin stays open" {
	record bad 1 "$(art_at a.qcow2 "$(sum b.qcow2)")" > in.ndjson
	good_records 1 100 b.qcow2 >> in.ndjson
	run --separate-stderr -1 cdb -j 1 < in.ndjson
	[ "${#lines[@]}" -eq 101 ]
	[[ $(jq -r .error.message <<< "${lines[0]}") == "checksum mismatch for 'https://upstream.example/img/a.qcow2': "* ]]
	assert_all in.ndjson "$output" bad:1
}

# 154 records over 40 upstream files, failures of several kinds at the front,
# in the middle and at the end.  The failing ones claim checksums of files
# no good record has (a file of that checksum already in the cache would
# rightly be used whatever the URL).
many_faults() {
	rules '[{"path": "/err500.qcow2", "status": 500}, {"path": "/loop.qcow2", "redirect": "/loop.qcow2"}]'
	{
		record f1 1 "$(art_at t01.qcow2 "$(sum b.qcow2)")"
		record f2 1 "$(art_at gone.qcow2 "$(sum a.qcow2)")"
		good_records 1 73 "${TINY[@]}"
		record m1 1 "$(art_at err500.qcow2 "$(sum a.qcow2)")"
		record m2 1 "$(artifact amd64 bad.qcow2.xz xz)"
		good_records 74 148 "${TINY[@]}"
		record e1 1 "$(art_at loop.qcow2 "$(sum a.qcow2)")"
		record e2 1 "$(art_at t05.qcow2 "$(sum b.qcow2)")"
	} > in.ndjson
	run --separate-stderr -1 cdb --retries 1 -j "$1" < in.ndjson
	[ "${#lines[@]}" -eq 154 ]
	assert_all in.ndjson "$output" f1:1 f2:1 m1:1 m2:1 e1:1 e2:1
	[[ $(jq -r .error.message <<< "${lines[0]}") == "checksum mismatch for 'https://upstream.example/img/t01.qcow2': "* ]]
	[ "$(jq -r .error.message <<< "${lines[1]}")" = "GET https://upstream.example/img/gone.qcow2 (fetched as $HTTPD_URL/gone.qcow2): HTTP 404 (not found)" ]
	[[ $(jq -r .error.message <<< "${lines[75]}") == "GET https://upstream.example/img/err500.qcow2 (fetched as $HTTPD_URL/err500.qcow2): HTTP 500 "*"(after 2 attempts)" ]]
	[[ $(jq -r .error.message <<< "${lines[76]}") == "cannot decompress 'https://upstream.example/img/bad.qcow2.xz' (xz): corrupt stream: "* ]]
	[[ $(jq -r .error.message <<< "${lines[152]}") == "GET https://upstream.example/img/loop.qcow2 (fetched as $HTTPD_URL/loop.qcow2): "*"redirects"* ]]
	[[ $(jq -r .error.message <<< "${lines[153]}") == "checksum mismatch for 'https://upstream.example/img/t05.qcow2': "* ]]
	[ "$(ls "$CACHE/sha256" | wc -l)" -eq 40 ]
}

@test "cd-build -j 2: 154 records with failures at the front, middle and end: all come out, in order, every file right" {
	many_faults 2
}

@test "cd-build -j 4: 154 records with failures at the front, middle and end: all come out, in order, every file right" {
	many_faults 4
}

# poison FILE: replace a cache entry's bytes with a.qcow2's (as a wrong
# download or a disk fault would), keeping its name.
poison() {
	chmod u+w "$1"
	cp "$SRV/a.qcow2" "$1"
	chmod 0444 "$1"
}

@test "cd-build: a cache entry whose bytes are not its name fails the record, is removed, and the next run fetches it afresh" {
	record good 1 "$(artifact amd64 b.qcow2)" > one.ndjson
	run --separate-stderr -0 cdb < one.ndjson
	entry=$CACHE/sha256/$(sum b.qcow2)
	poison "$entry"
	{ cat one.ndjson; good_records 1 30 "${TINY[@]}"; } > in.ndjson
	: > "$HTTPD_LOG"
	OUT=$BATS_TEST_TMPDIR/out2
	run --separate-stderr -1 cdb < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "cached disk '$entry' is not sha256:$(sum b.qcow2) (its bytes are sha256:$(sum a.qcow2)): removed it; the next run downloads it again" ]
	[ "$(jq -r .error.arch <<< "${lines[0]}")" = amd64 ]
	[[ $stderr == *"cd-build: good:1 amd64: cached disk '$entry' is not sha256:"* ]]
	[ ! -e "$entry" ]
	[ ! -e "$OUT/good" ]
	assert_all in.ndjson "$output" good:1
	run -1 grep -q '^GET /b.qcow2 ' "$HTTPD_LOG"

	run --separate-stderr -0 cdb < one.ndjson
	grep -q '^GET /b.qcow2 200 -$' "$HTTPD_LOG"
	built_disk "$output" root
	cmp root/disk/disk.img "$SRV/b.qcow2"
	check_store "$CACHE" "$OUT"
}

@test "cd-build: the disk of a compressed file is kept under its own digest; a damaged one is removed and fetched afresh" {
	record gz 1 "$(artifact amd64 b.qcow2.gz gzip)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	disk=$(sha256sum < "$SRV/b.qcow2" | cut -d' ' -f1)
	[ "$(readlink "$CACHE/sha256/$(sum b.qcow2.gz).disk")" = "../sha256/$disk" ]
	cmp "$CACHE/sha256/$disk" "$SRV/b.qcow2"
	check_store "$CACHE" "$OUT"
	poison "$CACHE/sha256/$disk"
	run --separate-stderr -1 cdb < in.ndjson
	[ "$(jq -r .error.message <<< "$output")" = "cached disk '$CACHE/sha256/$disk' is not sha256:$disk (its bytes are sha256:$(sum a.qcow2)): removed it; the next run downloads it again" ]
	[ ! -e "$CACHE/sha256/$disk" ]
	run --separate-stderr -0 cdb < in.ndjson
	cmp "$CACHE/sha256/$disk" "$SRV/b.qcow2"
	check_store "$CACHE" "$OUT"
}

@test "cd-build: a .disk file of an older cdkit (named by the compressed digest, not checkable) is fetched afresh" {
	mkdir -p "$CACHE/sha256"
	cp "$SRV/a.qcow2" "$CACHE/sha256/$(sum b.qcow2.gz).disk"
	record gz 1 "$(artifact amd64 b.qcow2.gz gzip)" > in.ndjson
	run --separate-stderr -0 cdb < in.ndjson
	grep -q '^GET /b.qcow2.gz 200 -$' "$HTTPD_LOG"
	[ -L "$CACHE/sha256/$(sum b.qcow2.gz).disk" ]
	check_store "$CACHE" "$OUT"
}

@test "cd-build: an upstream file replaced between a cut and the resume is a checksum mismatch, never a wrong file" {
	rules '[{"path": "/a.qcow2", "cut": 300000, "times": 1}, {"path": "/a.qcow2", "file": "/t01.qcow2"}]'
	record changed 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	then_good >> in.ndjson
	run --separate-stderr -1 cdb < in.ndjson
	grep -q '^GET /a.qcow2 206 bytes=300000-$' "$HTTPD_LOG"
	[[ $(jq -r .error.message <<< "${lines[0]}") == "checksum mismatch for 'https://upstream.example/img/a.qcow2': expected sha256:$(sum a.qcow2), got sha256:"* ]]
	assert_all in.ndjson "$output" changed:1
	[ ! -e "$CACHE/sha256/$(sum a.qcow2)" ]
}

@test "cd-build: a stalled upstream fails after --timeout; the records after it still come out" {
	rules '[{"path": "/a.qcow2", "hang": 30}]'
	record stalled 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	then_good >> in.ndjson
	run --separate-stderr -1 timeout 60 cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" -j 2 --timeout 1 --retries 0 < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/a.qcow2 (fetched as $HTTPD_URL/a.qcow2): timed out: under 1 KiB/s for 1 s" ]
	assert_all in.ndjson "$output" stalled:1
}

@test "cd-build: an upstream that answers 500 every time is retried, then an error record; the others still come out" {
	rules '[{"path": "/a.qcow2", "status": 500}]'
	record err 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	then_good >> in.ndjson
	run --separate-stderr -1 cdb --retries 2 < in.ndjson
	[[ $(jq -r .error.message <<< "${lines[0]}") == "GET https://upstream.example/img/a.qcow2 (fetched as $HTTPD_URL/a.qcow2): HTTP 500 "*"(after 3 attempts)" ]]
	[ "$(grep -c '^GET /a.qcow2 500 -$' "$HTTPD_LOG")" -eq 3 ]
	assert_all in.ndjson "$output" err:1
}

@test "cd-build: a redirect loop is an error record; the others still come out" {
	rules '[{"path": "/a.qcow2", "redirect": "/b-loop"}, {"path": "/b-loop", "redirect": "/a.qcow2"}]'
	record loop 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	then_good >> in.ndjson
	run --separate-stderr -1 timeout 60 cd-build "${MIRROR_ARGS[@]}" --cache "$CACHE" --output "$OUT" < in.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "GET https://upstream.example/img/a.qcow2 (fetched as $HTTPD_URL/a.qcow2): Maximum (10) redirects followed" ]
	assert_all in.ndjson "$output" loop:1
}
