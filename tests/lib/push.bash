# Helpers for the cd-push / cd-promote tests:
#   load lib/common; load lib/cd-build; load lib/registry; load lib/push
# (lib/registry after lib/cd-build: its registry_start is the one used).

# blob_writes: how many blob upload requests (PUT or PATCH on .../blobs/uploads/)
# the running registry's access log holds so far.
blob_writes() {
	grep -cE '"(PUT|PATCH) /v2/[^ ]*/blobs/uploads/' "$REGISTRY_LOG" || true
}

# tls_token_start: the real registry over TLS (certificate from a CA made here)
# with Bearer tokens from tests/lib/token-issuer.py, reusing lib/registry's
# parts.  Sets what registry_start sets, with REGISTRY_MODE=tls-token.
tls_token_start() {
	local try port
	registry_unexport
	REGISTRY_DIR=$(mktemp -d "$BATS_FILE_TMPDIR/registry.XXXXXX")
	REGISTRY_LOG=$REGISTRY_DIR/registry.log
	_registry_tls_files
	_token_issuer_start
	for try in 1 2 3; do
		port=$(free_port)
		{ _registry_config tls "$port"; _registry_config token "$port" | sed -n '/^auth:/,$p'; } \
			> "$REGISTRY_DIR/config.yml"
		docker-registry serve "$REGISTRY_DIR/config.yml" >> "$REGISTRY_LOG" 2>&1 &
		REGISTRY_PID=$!
		wait_http "https://127.0.0.1:$port/v2/" -k && kill -0 "$REGISTRY_PID" 2>/dev/null && break
		kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null
		REGISTRY_PID=
	done
	[ -n "$REGISTRY_PID" ] || { cat "$REGISTRY_LOG" >&2; return 1; }
	REGISTRY_PORT=$port REGISTRY=127.0.0.1:$port REGISTRY_MODE=tls-token
	mkdir -p "$REGISTRY_DIR/skopeo-certs"
	cp "$REGISTRY_CA" "$REGISTRY_DIR/skopeo-certs/ca.crt"
	export REGISTRY REGISTRY_PORT REGISTRY_PID REGISTRY_DIR REGISTRY_LOG REGISTRY_MODE
	_registry_authfile
}

# docker-registry reads REGISTRY_* environment variables as configuration
# ("REGISTRY_LOG=/path" replaces the log: section and it will not start), so
# the ones lib/registry exports must not reach a second registry.
registry_unexport() {
	local v
	for v in $(compgen -e | grep '^REGISTRY_'); do
		export -n "$v"
	done
}

# registry_restart: start the stopped (or killed) registry again, same port
# and storage.
registry_restart() {
	registry_unexport
	docker-registry serve "$REGISTRY_DIR/config.yml" >> "$REGISTRY_LOG" 2>&1 &
	REGISTRY_PID=$!
	export REGISTRY_PID
	# a test's variables do not reach teardown_file: registry_restarted_stop kills it
	echo "$REGISTRY_PID" >> "$BATS_FILE_TMPDIR/restarted.pids"
	wait_http "http://$REGISTRY/v2/"
}

registry_restarted_stop() {
	local pid
	[ -f "$BATS_FILE_TMPDIR/restarted.pids" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done < "$BATS_FILE_TMPDIR/restarted.pids"
	rm -f "$BATS_FILE_TMPDIR/restarted.pids"
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
