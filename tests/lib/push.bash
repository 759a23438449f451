# Helpers for the cd-push / cd-promote tests:
#   load lib/common; load lib/cd-build; load lib/registry; load lib/push
# (the registry itself, with restart and tls-token, is lib/registry's).

# blob_writes: how many blob upload requests (PUT or PATCH on .../blobs/uploads/)
# the running registry's access log holds so far.
blob_writes() {
	grep -cE '"(PUT|PATCH) /v2/[^ ]*/blobs/uploads/' "$REGISTRY_LOG" || true
}

# sk ARGS...: skopeo with the flags the running registry needs (source side).
sk() {
	local cmd=$1 flags=()
	shift
	case ${REGISTRY_MODE:-plain} in
	tls-token) flags=(--cert-dir "$REGISTRY_DIR/skopeo-certs" --creds "$REGISTRY_USER:$REGISTRY_PASS") ;;
	*) flags=(--tls-verify=false) ;;
	esac
	[ "$cmd" = copy ] && flags=("${flags[@]/--tls-verify=false/--src-tls-verify=false}") &&
		flags=("${flags[@]/--cert-dir/--src-cert-dir}") && flags=("${flags[@]/--creds/--src-creds}")
	skopeo --insecure-policy "$cmd" "${flags[@]}" "$@"
}

# disk_of REF ARCH DIR: skopeo copy REF's ARCH image to a dir: and unpack its
# layer into DIR (as root, keeping owners); prints nothing.
disk_of() {
	local ref=$1 arch=$2 dir=$3 blob
	sk copy -q --override-arch "$arch" "docker://$ref" "dir:$dir.img" || return 1
	blob=$dir.img/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$dir.img/manifest.json")
	unpack_layer "$blob" "$dir"
}

# slowproxy_start UPSTREAM RATE: a TCP proxy on loopback that forwards client
# bytes at RATE bytes/s (tests/lib/slowproxy.py).  Sets PROXY, PROXY_PID.
slowproxy_start() {
	local pf=$BATS_FILE_TMPDIR/proxy.port.$RANDOM i
	python3 "$CDKIT_ROOT/tests/lib/slowproxy.py" --upstream "$1" --rate "$2" --port-file "$pf" &
	PROXY_PID=$!
	for i in $(seq 200); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	PROXY=127.0.0.1:$(cat "$pf")
	export PROXY PROXY_PID
}

slowproxy_stop() {
	if [ -n "${PROXY_PID:-}" ]; then
		kill "$PROXY_PID" 2>/dev/null
		wait "$PROXY_PID" 2>/dev/null || true
	fi
	PROXY_PID=
	return 0
}

# registry_kill: SIGKILL the running registry (by PID) and wait until it is gone.
registry_kill() {
	local i
	kill -9 "$REGISTRY_PID"
	for i in $(seq 100); do
		kill -0 "$REGISTRY_PID" 2>/dev/null || break
		sleep 0.05
	done
	REGISTRY_PID=
}
