# The real registry (CNCF distribution, Debian's docker-registry) on loopback,
# for cdkit's bats files (it loads lib/common):
#
#   load lib/registry
#   setup_file()    { registry_start token fixtures; }
#   teardown_file() { servers_stop; }
#
# registry_start MODE [fixtures], MODE one of
#   plain     plain HTTP, anonymous
#   tls       HTTPS with a certificate signed by a CA made here ($REGISTRY_CA;
#             skopeo's copy in $REGISTRY_DIR/skopeo-certs)
#   htpasswd  plain HTTP, Basic auth (bcrypt htpasswd)
#   token     plain HTTP, Bearer tokens from tests/lib/token-issuer.py
#   tls-token HTTPS as tls, Bearer tokens as token
# and with "fixtures", registry_publish_fixtures (below);
# sets REGISTRY (127.0.0.1:PORT), REGISTRY_PORT, REGISTRY_PID, REGISTRY_DIR,
# REGISTRY_LOG (its log, with the access log: count requests there);
# for htpasswd and token also REGISTRY_USER, REGISTRY_PASS and
# REGISTRY_AUTHFILE (a containers auth.json holding them); for token also
# TOKEN_PID, TOKEN_URL, TOKEN_LOG, TOKEN_ISSUED (every token issued) and
# TOKEN_RULES (write '{"expired": true}', '{"deny": true}' or
# '{"expires_in": "1e308"}' there to make the issuer misbehave).
# Every server binds 127.0.0.1 on a free port, is listed for servers_stop
# (lib/common) and is stopped by PID; registry_stop stops the registry and
# its issuer at once.  registry_kill kills the registry with SIGKILL;
# registry_restart starts it again on the same port and storage.
#
# Reading it back (skopeo, an independent client):
#   registry_skopeo_args [src|dest]       skopeo's flags for this registry
#   manifest_raw REF, manifest_digest REF, arch_digest REF ARCH
#   registry_writes LINE                  write requests in its log since LINE
#   no_machine_creds                      no credentials but the test's own
#
# Publishing (skopeo, from OCI layouts made with umoci):
#   oci_image LAYOUT TAG ARCH SHASUM      a one-layer image like medius makes
#   oci_index LAYOUT TAG TAG...           an OCI index of those images
#   registry_push LAYOUT:TAG REPO:TAG FORMAT   FORMAT v2s2 or oci (--all)
#   registry_publish_fixtures             the standard set:
#     containerdisks/cirros:6.1    single-arch Docker schema 2 (amd64)
#     containerdisks/fedora:41     Docker manifest list (amd64, arm64)
#     containerdisks/ubuntu:24.04  OCI index (amd64, arm64)
#   fixture_sum NAME VERSION ARCH         the shasum label the set carries
#
# regproxy_start [VAR], proxy_rules, regproxy_stop: tests/lib/regproxy.py in
# front of the registry, for the faults it cannot make (below).

REGISTRY_USER=cdkit-tester
REGISTRY_PASS='s3cret-Pa55word'

load lib/common

# wait_http URL [CURL-ARGS...]: poll until anything answers (max ~10 s).
wait_http() {
	wait_until 10 curl -s -o /dev/null "${@:2}" "$1"
}

_registry_tls_files() {
	local d=$REGISTRY_DIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=cdkit-test-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=127.0.0.1 -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
	REGISTRY_CA=$d/ca.crt
	export REGISTRY_CA
}

_registry_authfile() {
	local auth
	auth=$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASS" | base64 -w0)
	REGISTRY_AUTHFILE=$REGISTRY_DIR/auth.json
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$auth" > "$REGISTRY_AUTHFILE"
	export REGISTRY_USER REGISTRY_PASS REGISTRY_AUTHFILE
}

_token_issuer_start() {
	local d=$REGISTRY_DIR pf="$REGISTRY_DIR/token.port"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cdkit-token-issuer \
		-keyout "$d/token.key" -out "$d/token.crt" 2>/dev/null
	printf '%s:%s\n' "$REGISTRY_USER" "$REGISTRY_PASS" > "$d/token.users"
	TOKEN_RULES=$d/token-rules.json
	TOKEN_LOG=$d/token.log
	TOKEN_ISSUED=$d/token.issued
	echo '{}' > "$TOKEN_RULES"
	server_start token-issuer "$pf" python3 "$CDKIT_ROOT/tests/lib/token-issuer.py" --key "$d/token.key" \
		--cert "$d/token.crt" --users "$d/token.users" --issuer cdkit-test-issuer --service cdkit-registry \
		--rules "$TOKEN_RULES" --log "$TOKEN_LOG" --issued "$TOKEN_ISSUED" --port-file "$pf" || return 1
	TOKEN_PID=$SERVER_PID
	TOKEN_URL="http://127.0.0.1:$SERVER_PORT/token"
	export TOKEN_PID TOKEN_URL TOKEN_LOG TOKEN_RULES TOKEN_ISSUED
}

_registry_config() {
	local mode=$1 port=$2 d=$REGISTRY_DIR
	cat <<-EOF
	version: 0.1
	log:
	  level: warn
	  accesslog:
	    disabled: false
	storage:
	  filesystem:
	    rootdirectory: $d/data
	  delete:
	    enabled: true
	http:
	  addr: 127.0.0.1:$port
	  secret: cdkit-test-secret
	EOF
	case $mode in
	tls)
		printf '  tls:\n    certificate: %s\n    key: %s\n' "$d/server.crt" "$d/server.key" ;;
	htpasswd)
		printf 'auth:\n  htpasswd:\n    realm: cdkit-test\n    path: %s\n' "$d/htpasswd" ;;
	tls-token)
		_registry_config tls "$port" | sed -n '/^  tls:/,$p'
		_registry_config token "$port" | sed -n '/^auth:/,$p' ;;
	token)
		printf 'auth:\n  token:\n    realm: %s\n    service: cdkit-registry\n    issuer: cdkit-test-issuer\n    rootcertbundle: %s\n' \
			"$TOKEN_URL" "$d/token.crt" ;;
	esac
}

# _registry_serve: docker-registry on $REGISTRY_DIR/config.yml, in the
# background.  It reads REGISTRY_* environment variables as configuration
# ("REGISTRY_LOG=/path" replaces the log: section and it will not start), so
# the ones exported here are removed from its environment.
_registry_serve() {
	local unset=() v
	for v in $(compgen -e | grep '^REGISTRY_'); do
		unset+=(-u "$v")
	done
	env "${unset[@]}" docker-registry serve "$REGISTRY_DIR/config.yml" >> "$REGISTRY_LOG" 2>&1 3>&- &
	REGISTRY_PID=$!
	server_track registry "$REGISTRY_PID"
}

registry_start() {
	local mode=${1:-plain} scheme=http try port
	REGISTRY_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/registry.XXXXXX")
	REGISTRY_LOG=$REGISTRY_DIR/registry.log
	case $mode in
	plain) ;;
	tls) _registry_tls_files; scheme=https ;;
	htpasswd) htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASS" > "$REGISTRY_DIR/htpasswd" 2>/dev/null ;;
	token) _token_issuer_start || return 1 ;;
	tls-token) _registry_tls_files; _token_issuer_start || return 1; scheme=https ;;
	*) echo "registry_start: unknown mode '$mode'" >&2; return 1 ;;
	esac
	for try in 1 2 3; do
		port=$(free_port)
		_registry_config "$mode" "$port" > "$REGISTRY_DIR/config.yml"
		_registry_serve
		if wait_http "$scheme://127.0.0.1:$port/v2/" -k && kill -0 "$REGISTRY_PID" 2>/dev/null; then
			break
		fi
		server_stop "$REGISTRY_PID"
		REGISTRY_PID=
	done
	[ -n "$REGISTRY_PID" ] || { echo "registry_start: the registry did not start" >&2; cat "$REGISTRY_LOG" >&2; return 1; }
	REGISTRY_PORT=$port
	REGISTRY=127.0.0.1:$port
	REGISTRY_MODE=$mode
	export REGISTRY REGISTRY_PORT REGISTRY_PID REGISTRY_DIR REGISTRY_LOG REGISTRY_MODE
	case $mode in htpasswd|token|tls-token) _registry_authfile ;; esac
	if [ "$scheme" = https ]; then
		mkdir -p "$REGISTRY_DIR/skopeo-certs"
		cp "$REGISTRY_CA" "$REGISTRY_DIR/skopeo-certs/ca.crt"
	fi
	[ "${2:-}" != fixtures ] || registry_publish_fixtures
}

# registry_kill: SIGKILL the running registry (by PID) and wait until it is gone.
registry_kill() {
	kill -9 "$REGISTRY_PID"
	wait_until 5 pid_gone "$REGISTRY_PID" || true
	server_stop "$REGISTRY_PID"
	REGISTRY_PID=
}

# registry_restart: start the stopped (or killed) registry again, same port
# and storage (listed for servers_stop, which reaches it from teardown_file).
registry_restart() {
	_registry_serve
	export REGISTRY_PID
	wait_http "http://$REGISTRY/v2/"
}

registry_stop() {
	server_stop "${REGISTRY_PID:-}"
	server_stop "${TOKEN_PID:-}"
	REGISTRY_PID= TOKEN_PID=
}

# no_machine_creds: a HOME and an XDG_RUNTIME_DIR of the test's own, so
# that no credentials of the machine running the tests reach a tool.
no_machine_creds() {
	export HOME=$BATS_TEST_TMPDIR/home XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
}

# registry_writes LINE: the requests that wrote to the registry (PUT, POST,
# PATCH, DELETE) in its log from line LINE on.
registry_writes() {
	tail -n "+$1" "$REGISTRY_LOG" | grep -E '"(PUT|POST|PATCH|DELETE) /v2/' || true
}

# registry_skopeo_args [src|dest]: skopeo's flags for the running registry
# (its CA, its credentials), one a line; with src or dest, those of that
# side of `skopeo copy`.
registry_skopeo_args() {
	local f=--${1:+$1-} creds=$REGISTRY_USER:$REGISTRY_PASS certs=$REGISTRY_DIR/skopeo-certs
	case ${REGISTRY_MODE:-plain} in
	tls) printf '%s\n' "${f}cert-dir" "$certs" ;;
	tls-token) printf '%s\n' "${f}cert-dir" "$certs" "${f}creds" "$creds" ;;
	htpasswd|token) printf '%s\n' "${f}tls-verify=false" "${f}creds" "$creds" ;;
	*) printf '%s\n' "${f}tls-verify=false" ;;
	esac
}

fixture_sum() {
	printf '%s:%s:%s' "$1" "$2" "$3" | sha256sum | cut -d' ' -f1
}

# oci_image LAYOUT TAG ARCH SHASUM: one image with medius's config and a tiny disk layer.
oci_image() {
	local layout=$1 tag=$2 arch=$3 sum=$4 src
	[ -d "$layout" ] || umoci init --layout "$layout"
	umoci new --image "$layout:$tag"
	umoci config --image "$layout:$tag" --architecture "$arch" --os linux \
		--config.label "shasum=$sum" --config.entrypoint no-entrypoint \
		--config.env INSTANCETYPE_KUBEVIRT_IO_DEFAULT_INSTANCETYPE=u1.medium
	src=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/disk.XXXXXX")
	mkdir -p "$src/disk"
	printf 'disk of %s %s\n' "$tag" "$sum" > "$src/disk/disk.img"
	umoci insert --image "$layout:$tag" "$src/disk" /disk
	rm -rf "$src"
}

# oci_index LAYOUT TAG TAG...: an OCI image index of the tagged images (their
# platforms read from their configs), tagged TAG in the layout.
oci_index() {
	local layout=$1 tag=$2
	shift 2
	python3 - "$layout" "$tag" "$@" <<-'EOF'
	import hashlib, json, os, sys
	layout, tag, parts = sys.argv[1], sys.argv[2], sys.argv[3:]
	def blob(d):
	    return os.path.join(layout, "blobs", *d.split(":", 1))
	idx = json.load(open(os.path.join(layout, "index.json")))
	byname = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
	ms = []
	for p in parts:
	    d = byname[p]
	    man = json.load(open(blob(d["digest"])))
	    cfg = json.load(open(blob(man["config"]["digest"])))
	    ms.append({"mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"],
	               "platform": {"architecture": cfg["architecture"], "os": cfg["os"]}})
	body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
	                   "manifests": ms}).encode()
	dg = "sha256:" + hashlib.sha256(body).hexdigest()
	open(blob(dg), "wb").write(body)
	idx["manifests"] = [m for m in idx["manifests"]
	                    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
	idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": dg,
	                         "size": len(body), "annotations": {"org.opencontainers.image.ref.name": tag}})
	json.dump(idx, open(os.path.join(layout, "index.json"), "w"))
	EOF
}

# registry_push LAYOUT:TAG REPO:TAG FORMAT
registry_push() {
	local src=$1 dst=$2 format=${3:-v2s2} flags
	mapfile -t flags < <(registry_skopeo_args dest)
	skopeo --insecure-policy copy -q --all --format "$format" "${flags[@]}" \
		"oci:$src" "docker://$REGISTRY/$dst"
}

registry_publish_fixtures() {
	local l=$REGISTRY_DIR/layout
	oci_image "$l" cirros-amd64 amd64 "$(fixture_sum cirros 6.1 amd64)"
	oci_image "$l" fedora-amd64 amd64 "$(fixture_sum fedora 41 amd64)"
	oci_image "$l" fedora-arm64 arm64 "$(fixture_sum fedora 41 arm64)"
	oci_index "$l" fedora fedora-amd64 fedora-arm64
	oci_image "$l" ubuntu-amd64 amd64 "$(fixture_sum ubuntu 24.04 amd64)"
	oci_image "$l" ubuntu-arm64 arm64 "$(fixture_sum ubuntu 24.04 arm64)"
	oci_index "$l" ubuntu ubuntu-amd64 ubuntu-arm64
	registry_push "$l:cirros-amd64" containerdisks/cirros:6.1 v2s2
	registry_push "$l:fedora" containerdisks/fedora:41 v2s2
	registry_push "$l:ubuntu" containerdisks/ubuntu:24.04 oci
}

# regproxy_start [VAR]: tests/lib/regproxy.py in front of the running registry
# (plain mode only), for faults the real registry cannot make.  Sets PROXY
# (127.0.0.1:PORT), PROXY_PID, PROXY_RULES, PROXY_LOG and PROXY_AUTHLOG (the
# Authorization header of every request).  With VAR (say OTHER), a further
# proxy on its own port, another host as cdkit sees it: OTHER, OTHER_PID,
# OTHER_RULES, OTHER_LOG, OTHER_AUTHLOG.
regproxy_start() {
	local v=${1:-PROXY} pf
	pf=$REGISTRY_DIR/$v.port
	printf -v "${v}_RULES" '%s' "$REGISTRY_DIR/$v-rules.json"
	printf -v "${v}_LOG" '%s' "$REGISTRY_DIR/$v.log"
	printf -v "${v}_AUTHLOG" '%s' "$REGISTRY_DIR/$v.auth"
	local rules_var=${v}_RULES log_var=${v}_LOG auth_var=${v}_AUTHLOG
	echo '[]' > "${!rules_var}"
	: > "${!auth_var}"
	server_start "regproxy $v" "$pf" python3 "$CDKIT_ROOT/tests/lib/regproxy.py" --upstream "http://$REGISTRY" \
		--rules "${!rules_var}" --log "${!log_var}" --auth-log "${!auth_var}" --port-file "$pf" || return 1
	printf -v "${v}_PID" '%s' "$SERVER_PID"
	printf -v "$v" '%s' "127.0.0.1:$SERVER_PORT"
	export "$v" "${v}_PID" "${v}_RULES" "${v}_LOG" "${v}_AUTHLOG"
}

# regproxy_stop [VAR]
regproxy_stop() {
	local pid_var=${1:-PROXY}_PID
	server_stop "${!pid_var:-}"
	printf -v "$pid_var" '%s' ""
}

# proxy_rules 'JSON' [VAR]: replace the proxy's fault rules.
proxy_rules() {
	local rules_var=${2:-PROXY}_RULES
	printf '%s\n' "$1" > "${!rules_var}.tmp" && mv "${!rules_var}.tmp" "${!rules_var}"
}

# manifest_raw REPO:TAG: the manifest the tag names, as the running registry
# serves it, read with skopeo (an independent client).
manifest_raw() {
	local flags
	mapfile -t flags < <(registry_skopeo_args)
	skopeo inspect --raw "${flags[@]}" "docker://$REGISTRY/$1"
}

# manifest_digest REPO:TAG: the digest of what the tag names.
manifest_digest() {
	printf 'sha256:%s\n' "$(manifest_raw "$1" | sha256sum | cut -d' ' -f1)"
}

# arch_digest REPO:TAG ARCH: the digest of ARCH's image manifest.
arch_digest() {
	local ref=$1 arch=$2 raw
	raw=$(manifest_raw "$ref")
	if jq -e '.manifests' <<<"$raw" >/dev/null; then
		jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$raw"
	else
		printf 'sha256:%s\n' "$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)"
	fi
}
