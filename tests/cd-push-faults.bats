#!/usr/bin/env bats
# cd-push faults against the real registry: the registry killed in the middle
# of a blob upload (reached through a slow loopback proxy, so the kill lands
# mid-body) and restarted; an unreachable registry; a registry that trickles
# (tests/lib/regproxy.py in front of it).

bats_require_minimum_version 1.5.0
load lib/common
load lib/cd-build
load lib/registry
load lib/push

setup_file() {
	export SRV=$BATS_FILE_TMPDIR/srv
	mkdir -p "$SRV"
	head -c 12M /dev/urandom > "$BATS_FILE_TMPDIR/big.raw"
	qemu-img convert -q -f raw -O qcow2 "$BATS_FILE_TMPDIR/big.raw" "$SRV/big.qcow2"
	(cd "$SRV" && sha256sum big.qcow2 > SHA256SUMS)
	httpd_start "$SRV"
	registry_start plain
	regproxy_start
}

teardown_file() {
	registry_restarted_stop
	regproxy_stop
	slowproxy_stop
	httpd_stop
	registry_stop
}

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
	for i in $(seq 300); do
		[ "$(cat "$uploads"/*/data 2>/dev/null | head -c 1048576 | wc -c)" -ge 1048576 ] && break
		sleep 0.05
	done
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

@test "cd-push: a registry that trickles its answer to the upload POST (2 bytes/s) is given up after --timeout" {
	record slow 1 "$(artifact amd64 big.qcow2)" > in.ndjson
	cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out < in.ndjson > built.ndjson
	proxy_rules '[{"method":"POST","path":"/v2/containerdisks/slow/blobs/uploads/","pad":60000,"rate":2}]'
	run --separate-stderr -1 timeout 60 cd-push --dry-run=false --timeout 2 --retries 0 --parallel 1 \
		--target-registry "$PROXY/containerdisks" < built.ndjson
	[[ "$(jq -r .error.message <<< "$output")" == *"starting an upload: POST http://$PROXY/v2/containerdisks/slow/blobs/uploads/: timed out: under 1 KiB/s for 2 s" ]]
	[ "$(jq -r 'has("pushed")' <<< "$output")" = false ]
}
