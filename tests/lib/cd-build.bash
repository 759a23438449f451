# Helpers for the cd-build tests:  load lib/cd-build  (it loads lib/upstream:
# the upstream files it builds from, and lib/common)

load lib/upstream

# good_records FIRST LAST FILE...: records gFIRST:1 ... gLAST:1 (g001, g002, ...;
# one amd64 artifact each, taking the files in turn: many records share one
# upstream file).
good_records() {
	local first=$1 last=$2 i
	shift 2
	local files=("$@")
	for i in $(seq "$first" "$last"); do
		record "$(printf 'g%03d' "$i")" 1 "$(artifact amd64 "${files[(i - 1) % ${#files[@]}]}")"
	done
}

# assert_stream IN OUT FAILED...: OUT (a run's stdout) holds as many records
# as IN, in the same order; exactly the records named in FAILED (name:version)
# carry an error (from cd-build), the others a layout and a digest.
assert_stream() {
	local in=$1 out=$2 want got
	shift 2
	diff <(jq -r '.name + ":" + .version' "$in") <(jq -r '.name + ":" + .version' <<< "$out")
	want=$(printf '%s\n' "$@")
	got=$(jq -r 'select(.error) | .name + ":" + .version' <<< "$out")
	[ "$got" = "$want" ] || { echo "failed: $got, expected: $want"; return 1; }
	[ "$(jq -r 'select(.error) | .error.tool' <<< "$out" | sort -u)" = cd-build ]
	[ "$(jq -r 'select(.error | not) | select(.layout and .digest) | .name' <<< "$out" | wc -l)" -eq \
		"$(( $(wc -l < "$in") - $# ))" ]
}

# check_store CACHE OUTPUT: every cache entry and every layout's disk is what
# its name and label say, and nothing partial is left (tests/lib/check-store).
check_store() {
	python3 "$CDKIT_ROOT/tests/lib/check-store" --cache "$1" --output "$2"
}

# sum FILE [ALG]: the upstream checksum of a served file, from its checksum file.
sum() {
	local alg=${2:-sha256}
	awk -v f="$1" '$2 == f || $2 == "*" f { print $1 }' "$SRV/${alg^^}SUMS"
}

# artifact ARCH FILE [COMPRESSION] [ALG]: one artifact object for a record.
artifact() {
	local arch=$1 file=$2 comp=${3:-null} alg=${4:-sha256}
	[ "$comp" = null ] || comp="\"$comp\""
	printf '{"arch":"%s","url":"https://upstream.example/img/%s","checksum":"%s:%s","compression":%s}' \
		"$arch" "$file" "$alg" "$(sum "$file" "$alg")" "$comp"
}

# record NAME VERSION ARTIFACT...: one record line (upstream URLs; tests map
# them to the loopback server with --mirror, as a pipeline would).
record() {
	local name=$1 version=$2 arts
	shift 2
	arts=$(IFS=,; echo "$*")
	printf '{"name":"%s","version":"%s","env":{"INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE":"%s","INSTANCETYPE_KUBEVIRT_IO_DEFAULT_INSTANCETYPE":"u1.medium"},"artifacts":[%s]}\n' \
		"$name" "$version" "$name" "$arts"
}

# build ARGS...: cd-build with the loopback mirror and the test's cache.
MIRROR_ARGS=()
mirror_args() {
	MIRROR_ARGS=(--mirror "https://upstream.example/img/=$HTTPD_URL/")
}

# layout_push LAYOUT REPO TAG: upload an image layout with plain curl (an
# uploader independent of cdkit): every blob, the child manifests by digest,
# then what index.json points at under TAG.
layout_push() {
	local layout=$1 repo=$2 tag=$3 b loc top type child ctype
	for b in "$layout"/blobs/sha256/*; do
		loc=$(curl -sfS -X POST -D - -o /dev/null "http://$REGISTRY/v2/$repo/blobs/uploads/" |
			tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }') || return 1
		case $loc in http*) ;; *) loc="http://$REGISTRY$loc" ;; esac
		curl -sfS -X PUT --data-binary "@$b" -H 'Content-Type: application/octet-stream' \
			"$loc&digest=sha256:$(basename "$b")" > /dev/null || return 1
	done
	top=$(jq -r '.manifests[0].digest' "$layout/index.json")
	type=$(jq -r '.manifests[0].mediaType' "$layout/index.json")
	case $type in *list* | *index*)
		for child in $(jq -r '.manifests[].digest' "$layout/blobs/sha256/${top#sha256:}"); do
			ctype=$(jq -r .mediaType "$layout/blobs/sha256/${child#sha256:}")
			curl -sfS -X PUT -H "Content-Type: $ctype" --data-binary "@$layout/blobs/sha256/${child#sha256:}" \
				"http://$REGISTRY/v2/$repo/manifests/$child" > /dev/null || return 1
		done
	esac
	curl -sfS -X PUT -H "Content-Type: $type" --data-binary "@$layout/blobs/sha256/${top#sha256:}" \
		"http://$REGISTRY/v2/$repo/manifests/$tag" > /dev/null
}

# built_disk RECORD DIR: unpack the layer of the image a record of cd-build
# names (its layout and digest) into DIR, as root (unpack_layer).
built_disk() {
	local layout man
	layout=$(jq -r .layout <<< "$1")
	man=$layout/blobs/sha256/$(jq -r '.digest | ltrimstr("sha256:")' <<< "$1")
	unpack_layer "$layout/blobs/sha256/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$man")" "$2"
}

# unpack_layer BLOB DIR: extract a layer (gzip, zstd or plain tar) as root, keeping owners.
unpack_layer() {
	mkdir -p "$2"
	case $(head -c 4 "$1" | od -An -tx1 | tr -d ' ') in
	1f8b*) tar -xzpf "$1" -C "$2" --same-owner ;;
	28b52ffd) zstd -qdc "$1" | tar -xpf - -C "$2" --same-owner ;;
	*) tar -xpf "$1" -C "$2" --same-owner ;;
	esac
}
