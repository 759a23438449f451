# bench/push.sh: the push section of make bench (issue 5, item 5), sourced
# by bench/run, which provides need, timed, ratio, target, row, make_inputs,
# setup_ours, ours_record, $WORK, $ROOT, $RUNS and $SIZE_MIB.
#
# One real registry (docker-registry, loopback, storage in $WORK), one
# image: cd-build's layout of the incompressible disk (a 512 MiB layer).
# Timed in the same run, each run into a registry emptied before it (untimed)
# so that nothing is already there, not even for skopeo's blob-info cache
# to mount from:
#   cd-push --dry-run=false            the whole image (config, layer, manifest, tag)
#   skopeo copy oci:LAYOUT docker://   the same image
#   curl -T                            the layer blob alone: POST, then one PUT
#   cd-push, unchanged second push     into a repository that has it all
# Targets: cd-push <= 0.9x skopeo, <= 1.1x curl, second push < 1 s.

PUSH_REG=
PUSH_REG_PID=

push_registry_start() {
	local port i
	mkdir -p "$WORK/registry"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat >"$WORK/registry/config.yml" <<-YML
	version: 0.1
	log: {level: error, accesslog: {disabled: true}}
	storage: {filesystem: {rootdirectory: $WORK/registry/data}, delete: {enabled: true}}
	http: {addr: 127.0.0.1:$port, secret: cdkit-bench}
	YML
	docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
	PUSH_REG_PID=$!
	PUSH_REG=127.0.0.1:$port
	for i in $(seq 100); do
		curl -sf "http://$PUSH_REG/v2/" >/dev/null && return 0
		sleep 0.1
	done
	echo "bench: the registry did not start" >&2
	return 1
}

# A registry with empty storage on the same port, before each timed run:
# nothing there to skip, and nothing for skopeo's blob-info cache to mount.
push_registry_fresh() {
	push_registry_stop
	rm -rf "$WORK/registry/data"
	docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
	PUSH_REG_PID=$!
	local i
	for i in $(seq 100); do
		curl -sf "http://$PUSH_REG/v2/" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

push_registry_stop() {
	[ -z "$PUSH_REG_PID" ] || { kill "$PUSH_REG_PID" 2>/dev/null; wait "$PUSH_REG_PID" 2>/dev/null || true; }
	PUSH_REG_PID=
}

# Small scripts, so that each timed run goes to a fresh repository (the
# counter is bumped inside; bash's start-up is in every tool's time alike).
push_scripts() {
	local layer=$1 layout=$3
	cat >"$WORK/push-ours" <<-EOF
	#!/bin/bash
	n=\$(( \$(cat "$WORK/n-ours" 2>/dev/null || echo 0) + 1 )); echo \$n > "$WORK/n-ours"
	exec "$ROOT/bin/cd-push" -q --plain-http --dry-run=false --target-registry "$PUSH_REG/ours\$n" < "$WORK/push.built"
	EOF
	cat >"$WORK/push-second" <<-EOF
	#!/bin/bash
	exec "$ROOT/bin/cd-push" -q --plain-http --dry-run=false --target-registry "$PUSH_REG/second" < "$WORK/push.built"
	EOF
	cat >"$WORK/push-skopeo" <<-EOF
	#!/bin/bash
	n=\$(( \$(cat "$WORK/n-skopeo" 2>/dev/null || echo 0) + 1 )); echo \$n > "$WORK/n-skopeo"
	exec skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$layout:1" \
		"docker://$PUSH_REG/skopeo\$n/bench-push:1"
	EOF
	cat >"$WORK/push-curl" <<-EOF
	#!/bin/bash
	set -e
	n=\$(( \$(cat "$WORK/n-curl" 2>/dev/null || echo 0) + 1 )); echo \$n > "$WORK/n-curl"
	loc=\$(curl -sfS -X POST -D - -o /dev/null "http://$PUSH_REG/v2/curl\$n/blob/blobs/uploads/" |
		tr -d '\r' | awk 'tolower(\$1) == "location:" { print \$2 }')
	curl -sfS -T "$layer" -H 'Content-Type: application/octet-stream' "\$loc&digest=$2" -o /dev/null
	EOF
	chmod +x "$WORK/push-ours" "$WORK/push-second" "$WORK/push-skopeo" "$WORK/push-curl"
}

bench_push() {
	need docker-registry skopeo curl python3 jq
	[ -e "$WORK/incompressible.qcow2" ] || make_inputs
	[ -n "$OURS" ] || setup_ours
	[ "$OURS" = cd-build ] && [ -x "$ROOT/bin/cd-push" ] || { echo "bench: push needs bin/cd-build and bin/cd-push" >&2; return 1; }
	echo
	echo "push: the ${SIZE_MIB} MiB incompressible image, into the real registry on loopback, median of $RUNS"
	ours_record push "$WORK/incompressible.qcow2"
	rm -rf "$WORK/push-out" && mkdir -p "$WORK/push-out"
	# OCI media types: skopeo 1.9 reads no Docker media types from an OCI layout
	"$ROOT/bin/cd-build" -q --oci --output "$WORK/push-out" --cache "$WORK/cache" <"$WORK/push.rec" >"$WORK/push.built"
	local layout manifest layer digest size
	layout=$(jq -r .layout "$WORK/push.built")
	manifest=$layout/blobs/sha256/$(jq -r '.manifests[0].digest | ltrimstr("sha256:")' "$layout/index.json")
	digest=$(jq -r '.layers[0].digest' "$manifest")
	size=$(jq -r '.layers[0].size' "$manifest")
	layer=$layout/blobs/sha256/${digest#sha256:}
	push_registry_start || return 1
	trap 'push_registry_stop; rm -rf "$WORK"' EXIT
	push_scripts "$layer" "$digest" "$layout"

	local ok=1
	BEFORE=push_registry_fresh timed push/ours "$WORK/push-ours" || ok=0
	BEFORE=push_registry_fresh timed push/skopeo "$WORK/push-skopeo" || ok=0
	BEFORE=push_registry_fresh timed push/curl "$WORK/push-curl" || ok=0
	"$WORK/push-second" >/dev/null 2>&1   # the repository the unchanged push finds full
	timed push/second "$WORK/push-second" || ok=0
	push_registry_stop
	rm -rf "$WORK/registry"
	[ "$ok" = 1 ] || return 1

	local mib
	mib=$(awk -v s="$size" 'BEGIN { printf "%.1f MiB layer", s / 1048576 }')
	printf '  %-34s %10s %12s\n' "" "median" "peak RSS"
	row push/ours "cd-push (whole image)" "$mib"
	row push/skopeo "skopeo copy oci: docker://"
	row push/curl "curl -T (layer blob only)"
	row push/second "cd-push, unchanged second push"
	echo
	echo "targets (issue 5, item 5):"
	target "cd-push time vs skopeo copy" "$(ratio "${T[push/ours]}" "${T[push/skopeo]}")" 0.9
	target "cd-push time vs bare curl -T upload of the blob" "$(ratio "${T[push/ours]}" "${T[push/curl]}")" 1.1
	target "unchanged second push, seconds" "${T[push/second]}" 0.999
}
