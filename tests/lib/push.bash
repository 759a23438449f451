# Helpers for the cd-push / cd-promote tests:  load lib/push
# (it loads lib/cd-build and lib/registry: the registry itself, with kill,
# restart and tls-token, is lib/registry's).

load lib/cd-build
load lib/registry

# blob_writes: how many blob upload requests (PUT or PATCH on .../blobs/uploads/)
# the running registry's access log holds so far.
blob_writes() {
	grep -cE '"(PUT|PATCH) /v2/[^ ]*/blobs/uploads/' "$REGISTRY_LOG" || true
}

# sk ARGS...: skopeo with the flags the running registry needs (source side).
sk() {
	local cmd=$1 side='' flags
	shift
	[ "$cmd" != copy ] || side=src
	mapfile -t flags < <(registry_skopeo_args $side)
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

# uploaded BYTES DIR: the registry's uploads under way in DIR (the _uploads
# folder of a repository in its storage) hold BYTES or more.
uploaded() {
	[ "$(cat "$2"/*/data 2> /dev/null | head -c "$1" | wc -c)" -ge "$1" ]
}

# slowproxy_start UPSTREAM RATE: a TCP proxy on loopback that forwards client
# bytes at RATE bytes/s (tests/lib/slowproxy.py).  Sets PROXY, PROXY_PID.
slowproxy_start() {
	local pf=$BATS_FILE_TMPDIR/proxy.port.$RANDOM
	server_start slowproxy "$pf" python3 "$CDKIT_ROOT/tests/lib/slowproxy.py" --upstream "$1" --rate "$2" \
		--port-file "$pf" || return 1
	PROXY_PID=$SERVER_PID
	PROXY=127.0.0.1:$SERVER_PORT
	export PROXY PROXY_PID
}

slowproxy_stop() {
	server_stop "${PROXY_PID:-}"
	PROXY_PID=
}

# Two registries for cd-promote, STAGING (the source, with the fixtures)
# and PROD (the target), as cd-promote-auth.bats and cd-promote-tls.bats
# start them; DIGEST is staging's cirros:6.1 amd64.
#
# promote_input: in.ndjson, that image verified, to be promoted as tag
# t$BATS_TEST_NUMBER (a tag of its own for each test).
promote_input() {
	jq -nc --arg repo "$STAGING/containerdisks/cirros" --arg d "$DIGEST" --arg t "t$BATS_TEST_NUMBER" \
		'{name: "cirros", version: "6.1", artifacts: [{arch: "amd64", url: "https://upstream.example/amd64.qcow2"}],
		  pushed: {repository: $repo, digest: $d, tags: [$t]},
		  verified: {ok: true, checks: []}}' > in.ndjson
}

# promote [CD-PROMOTE-ARGS...]: in.ndjson from STAGING/containerdisks to PROD/prod.
promote() {
	cd-promote --dry-run=false --source-registry "$STAGING/containerdisks" --target-registry "$PROD/prod" "$@" < in.ndjson
}
