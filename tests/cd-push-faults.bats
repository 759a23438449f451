#!/usr/bin/env bats
# cd-push faults against the real registry: the registry killed in the middle
# of a blob upload (reached through a slow loopback proxy, so the kill lands
# mid-body) and restarted; an unreachable registry; a registry that trickles
# (tests/lib/regproxy.py in front of it); runs of 150 records with -j 1, 2
# and 4 and broken layouts at the front, middle and end.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	upstream_start random big.qcow2 12M 10
	registry_start plain
	regproxy_start
	mirror_args
	build_many
}

# build_many: 150 records built once for the runs of many (g001..g144 and
# the faulty f1 f2 m1 m2 e1 e2), then the faulty ones broken:
#   f1, e1  the record's digest is another image's (g001's)
#   f2      the layout is gone
#   m1      the layer blob's bytes were changed (same size)
#   m2      the record has no digest
#   e2      a manifest blob of the layout is gone
build_many() {
	local d=$BATS_FILE_TMPDIR/many tiny=() i
	mkdir -p "$d"
	for i in $(seq -w 1 10); do tiny+=("t$i.qcow2"); done
	{
		record f1 1 "$(artifact amd64 t01.qcow2)"
		record f2 1 "$(artifact amd64 t02.qcow2)"
		good_records 1 72 "${tiny[@]}"
		record m1 1 "$(artifact amd64 t03.qcow2)"
		record m2 1 "$(artifact amd64 t04.qcow2)"
		good_records 73 144 "${tiny[@]}"
		record e1 1 "$(artifact amd64 t05.qcow2)"
		record e2 1 "$(artifact amd64 t06.qcow2)"
	} > "$d/in.ndjson"
	cd-build -q -j 2 "${MIRROR_ARGS[@]}" --cache "$d/cache" --output "$d/out" < "$d/in.ndjson" > "$d/built.ndjson"
	local g001 layer man
	g001=$(jq -r 'select(.name == "g001") | .digest' "$d/built.ndjson")
	rm -rf "$d/out/f2"
	man=$d/out/m1/1/blobs/sha256/$(jq -r 'select(.name == "m1") | .digest | ltrimstr("sha256:")' "$d/built.ndjson")
	layer=$d/out/m1/1/blobs/sha256/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$man")
	printf 'damaged!' | dd of="$layer" bs=1 seek=100 conv=notrunc status=none
	rm "$d/out/e2/1/blobs/sha256/$(jq -r 'select(.name == "e2") | .digest | ltrimstr("sha256:")' "$d/built.ndjson")"
	jq -c --arg g "$g001" 'if .name == "f1" or .name == "e1" then .digest = $g
		elif .name == "m2" then del(.digest) else . end' "$d/built.ndjson" > "$d/broken.ndjson"
}

teardown_file() { servers_stop; }

setup() {
	mirror_args
	cd "$BATS_TEST_TMPDIR"
}

@test "cd-push: registry killed mid-upload: the run fails, no tag ever names a partial image, the next run re-uploads" {
	record big 1 "$(artifact amd64 big.qcow2)" | jq -c '. + {latest: true}' > in.ndjson
	cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out < in.ndjson > built.ndjson
	slowproxy_start "$REGISTRY" 2000000
	cd-push --dry-run=false --retries 1 --target-registry "$PROXY/containerdisks" < built.ndjson > out.ndjson 2> err.txt &
	push=$!
	uploads=$REGISTRY_DIR/data/docker/registry/v2/repositories/containerdisks/big/_uploads
	wait_until 15 uploaded 1048576 "$uploads" || true
	[ "$(cat "$uploads"/*/data | wc -c)" -ge 1048576 ]    # the layer upload had started
	registry_kill
	st=0
	wait "$push" || st=$?
	slowproxy_stop
	[ "$st" -eq 1 ]
	[ "$(jq -r .error.tool out.ndjson)" = cd-push ]
	[ "$(jq -r 'has("pushed")' out.ndjson)" = false ]
	grep -q 'big:1: ' err.txt
	# while it is down, nothing can be read by that tag
	run -1 sk inspect --raw "docker://$REGISTRY/containerdisks/big:latest"
	registry_restart
	# the upload was cut: the blob is not there, and no tag or manifest names it
	run --separate-stderr -1 sk inspect --raw "docker://$REGISTRY/containerdisks/big:latest"
	[[ $stderr == *"manifest unknown"* ]]
	run --separate-stderr -1 sk inspect --raw "docker://$REGISTRY/containerdisks/big:1"
	[[ $stderr == *"manifest unknown"* ]]
	layer=$(jq -r '.layers[0].digest' "$(jq -r .layout built.ndjson)/blobs/sha256/$(jq -r '.digest | ltrimstr("sha256:")' built.ndjson)")
	run -0 curl -s -o /dev/null -w '%{http_code}' -I "http://$REGISTRY/v2/containerdisks/big/blobs/$layer"
	[ "$output" = 404 ]

	run --separate-stderr -0 cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" < built.ndjson
	[[ $stderr == *"pushed "[12]" blob"*"MiB), skipped "[01]" present, mounted 0"* ]]
	[ "$(jq -r .pushed.digest <<< "$output")" = "$(jq -r .digest built.ndjson)" ]
	disk_of "$REGISTRY/containerdisks/big:latest" amd64 d
	cmp d/disk/disk.img "$SRV/big.qcow2"
}

@test "cd-push: an unreachable registry fails every record with a message, exit 1" {
	record big 1 "$(artifact amd64 big.qcow2)" > in.ndjson
	cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out < in.ndjson > built.ndjson
	port=$(free_port)
	run --separate-stderr -1 cd-push --dry-run=false --retries 0 --target-registry "127.0.0.1:$port/containerdisks" < built.ndjson
	[[ $(jq -r .error.message <<< "$output") == *"127.0.0.1:$port"* ]]
	[[ $stderr == *"big:1: "* ]]
	[[ $stderr == *"pushed 0 blobs (0.0 MiB), skipped 0 present, mounted 0"* ]]
}

# push_many J: cd-push -j J of the 150 records into org jJ: as many records
# out as in, in order; the faulty ones are error records and have no tag; every
# other one is tagged with its own digest, and skopeo reads it whole.
push_many() {
	local d=$BATS_FILE_TMPDIR/many org=j$1 name digest code
	run --separate-stderr -1 cd-push --dry-run=false --retries 1 -j "$1" --target-registry "$REGISTRY/$org" < "$d/broken.ndjson"
	[ "${#lines[@]}" -eq 150 ]
	diff <(jq -r .name "$d/in.ndjson") <(jq -r .name <<< "$output")
	[ "$(jq -r 'select(.error) | .name' <<< "$output" | tr '\n' ' ')" = "f1 f2 m1 m2 e1 e2 " ]
	[ "$(jq -r 'select(.error) | .error.tool' <<< "$output" | sort -u)" = cd-push ]
	g001=$(jq -r 'select(.name == "g001") | .digest' "$d/built.ndjson")
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "layout '$d/out/f1/1' holds image $(jq -r 'select(.name == "f1") | .digest' "$d/built.ndjson"), not the record's digest $g001" ]
	[ "$(jq -r .error.message <<< "${lines[1]}")" = "cannot open '$d/out/f2/1/index.json': No such file or directory" ]
	[[ $(jq -r .error.message <<< "${lines[74]}") == "blob sha256:"*": $REGISTRY/$org/m1@sha256:"*": provided digest did not match uploaded content (DIGEST_INVALID)" ]]
	[ "$(jq -r .error.message <<< "${lines[75]}")" = "record has a layout but no digest (run cd-build first)" ]
	[[ $(jq -r .error.message <<< "${lines[148]}") == "layout '$d/out/e1/1' holds image "*", not the record's digest $g001" ]]
	[[ $(jq -r .error.message <<< "${lines[149]}") == "cannot open '$d/out/e2/1/blobs/sha256/"*"': No such file or directory" ]]
	jq -r 'select(.error | not) | [.name, .digest, .pushed.digest] | @tsv' <<< "$output" > pushed.tsv
	[ "$(wc -l < pushed.tsv)" -eq 144 ]
	[ "$(awk '$2 != $3' pushed.tsv | wc -l)" -eq 0 ]
	# the registry: each good image under its tag is its digest; no faulty one has a tag
	while IFS=$'\t' read -r name digest _; do
		[ "$(curl -sfI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
			"http://$REGISTRY/v2/$org/$name/manifests/1" | tr -d '\r' |
			awk 'tolower($1) == "docker-content-digest:" { print $2 }')" = "$digest" ]
	done < pushed.tsv
	for name in f1 f2 m1 m2 e1 e2; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -I "http://$REGISTRY/v2/$org/$name/manifests/1")
		[ "$code" = 404 ]
	done
	disk_of "$REGISTRY/$org/g001:1" amd64 first
	cmp first/disk/disk.img "$SRV/t01.qcow2"
	disk_of "$REGISTRY/$org/g144:1" amd64 last
	cmp last/disk/disk.img "$SRV/t04.qcow2"
}

@test "cd-push -j 1: 150 records, broken layouts at the front, middle and end: all come out in order, no faulty image tagged" {
	push_many 1
}

@test "cd-push -j 2: 150 records, broken layouts at the front, middle and end: all come out in order, no faulty image tagged" {
	push_many 2
}

@test "cd-push -j 4: 150 records, broken layouts at the front, middle and end: all come out in order, no faulty image tagged" {
	push_many 4
}

@test "cd-push: a registry that trickles its answer to the upload POST (2 bytes/s) is given up after --timeout" {
	record slow 1 "$(artifact amd64 big.qcow2)" > in.ndjson
	cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out < in.ndjson > built.ndjson
	proxy_rules '[{"method":"POST","path":"/v2/containerdisks/slow/blobs/uploads/","pad":60000,"rate":2}]'
	run --separate-stderr -1 timeout 60 cd-push --dry-run=false --timeout 2 --retries 0 --parallel 1 \
		--target-registry "$PROXY/containerdisks" < built.ndjson
	[[ "$(jq -r .error.message <<< "$output")" == *"starting an upload: POST http://$PROXY/v2/containerdisks/slow/blobs/uploads/: timed out: under 1 KiB/s for 2 s" ]]
	[ "$(jq -r 'has("pushed")' <<< "$output")" = false ]
}
