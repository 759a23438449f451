#!/usr/bin/env bats
# cd-discover's side of issue 12 against a loopback upstream: an arch whose
# upstream cannot be read is carried (the others still discovered, exit 1);
# a checksum-less artifact gets what one HEAD says ("http"); Fedora's
# "44 RC1" is 44-rc1, not stable, and published as fedora:44-rc1 through
# cd-discover | cd-build | cd-push against the real registry; what a
# program drops shows with -v, a version it cannot parse is a warning;
# `stable` comes from upstream, not from the shape of the version.

bats_require_minimum_version 1.5.0
load lib/common
load lib/registry
load lib/push

F44=https://download.fedoraproject.org/pub/fedora/linux/releases/test/44_RC/Cloud

setup_file() {
	export TREE="$BATS_FILE_TMPDIR/tree"
	mkdir -p "$TREE"
	httpd_start "$TREE"
	UPSTREAM_MIRRORS=$("$CDKIT_ROOT/tests/lib/upstream-tree" "$TREE" "$HTTPD_URL")
	export UPSTREAM_MIRRORS
	export CATALOG="$CDKIT_ROOT/pipelines/catalog"
	export C9=https://cloud.centos.org/centos/9-stream

	# A Fedora upstream of our own: 44 RC1 (no sha256, two arches), 43
	# (sha256), 37 (too old), "44 Alpha 2" (a version the program cannot read).
	local img=$TREE/fed/dl/pub/fedora/linux/releases/test/44_RC/Cloud d
	for d in x86_64 aarch64; do
		mkdir -p "$img/$d/images"
		qemu-img create -q -f qcow2 "$img/$d/images/Fedora-Cloud-Base-Generic-44_RC-1.1.$d.qcow2" 4M
		touch -d '2026-11-30 06:00:00 UTC' "$img/$d/images/Fedora-Cloud-Base-Generic-44_RC-1.1.$d.qcow2"
	done
	mkdir -p "$TREE/fed/getfedora.org"
	jq -n --arg f "$F44" '[
	  {version: "44 RC1", arch: "x86_64", variant: "Cloud", subvariant: "Cloud_Base", sha256: "",
	   link: ($f + "/x86_64/images/Fedora-Cloud-Base-Generic-44_RC-1.1.x86_64.qcow2")},
	  {version: "44 RC1", arch: "aarch64", variant: "Cloud", subvariant: "Cloud_Base",
	   link: ($f + "/aarch64/images/Fedora-Cloud-Base-Generic-44_RC-1.1.aarch64.qcow2")},
	  {version: "44 Alpha 2", arch: "x86_64", variant: "Cloud", subvariant: "Cloud_Base", sha256: "",
	   link: ($f + "/x86_64/images/Fedora-Cloud-Base-Generic-44_Alpha-2.1.x86_64.qcow2")},
	  {version: "43", arch: "x86_64", variant: "Cloud", subvariant: "Cloud_Base", sha256: ("ab" * 32),
	   link: "https://download.fedoraproject.org/pub/fedora/linux/releases/43/Cloud/x86_64/images/Fedora-Cloud-Base-Generic-43-1.6.x86_64.qcow2"},
	  {version: "37", arch: "x86_64", variant: "Cloud", subvariant: "Cloud_Base", sha256: ("cd" * 32),
	   link: "https://download.fedoraproject.org/pub/fedora/linux/releases/37/Cloud/x86_64/images/Fedora-Cloud-Base-37-1.7.x86_64.qcow2"}
	]' > "$TREE/fed/getfedora.org/releases.json"
	export FEDORA_MIRRORS="https://getfedora.org/=$HTTPD_URL/fed/getfedora.org/ https://download.fedoraproject.org/=$HTTPD_URL/fed/dl/"
	export FCAT="$BATS_FILE_TMPDIR/fcat"
	mkdir -p "$FCAT"
	cp "$CATALOG/fedora.json" "$FCAT/"
	registry_start plain
}

setup() {
	export CD_MIRRORS=$UPSTREAM_MIRRORS
	rules '[]'
	: > "$HTTPD_LOG"
}

teardown_file() {
	httpd_stop
	registry_stop
}

fetched() { # fetched PATH: the mirror URL a message names for the upstream file at PATH
	printf '%s/cloud.centos.org/centos/9-stream/%s' "$HTTPD_URL" "$1"
}

@test "a 404 on one arch's index: that arch carried with the reason, the others discovered, exit 1" {
	rules '[{"path": "/cloud.centos.org/centos/9-stream/aarch64/images/CHECKSUM", "status": 404}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus centos-stream:9
	local reason="GET $C9/aarch64/images/CHECKSUM (fetched as $(fetched aarch64/images/CHECKSUM)): HTTP 404 (not found)"
	[ "$(jq -c '[has("error"), [.artifacts[].arch], .carried]' <<<"$output")" = \
		"[false,[\"amd64\",\"s390x\"],[{\"arch\":\"arm64\",\"reason\":\"$reason\"}]]" ]
	[ "$(jq -c .tags <<<"$output")" = '["9-20211222.0"]' ]
	[ "$stderr" = "cd-discover: centos-stream:9 arm64: carried over: $reason
cd-discover: 1 image carried architectures over" ]
}

@test "a 500 on one arch's index (every attempt): carried, exit 1; the same record as a 404's" {
	rules '[{"path": "/cloud.centos.org/centos/9-stream/s390x/images/CHECKSUM", "status": 500}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus centos-stream:9 --retries 1
	[ "$(jq -c '[has("error"), [.artifacts[].arch], [.carried[].arch]]' <<<"$output")" = \
		'[false,["amd64","arm64"],["s390x"]]' ]
	[ "$(jq -r '.carried[0].reason' <<<"$output")" = \
		"GET $C9/s390x/images/CHECKSUM (fetched as $(fetched s390x/images/CHECKSUM)): HTTP 500 (after 2 attempts)" ]
	run -0 grep -c '^GET /cloud.centos.org/centos/9-stream/s390x/images/CHECKSUM 500' "$HTTPD_LOG"
	[ "$output" = 2 ]
}

@test "every arch unreadable (each its own file): one error for the record, no arch, nothing carried" {
	rules '[{"path": "/cloud.centos.org/centos/9-stream/*", "status": 404}]'
	run -1 --separate-stderr cd-discover --catalog "$CATALOG" --focus centos-stream:9
	[ "$(jq -c '[.error.arch, has("carried"), (.artifacts | length)]' <<<"$output")" = '[null,false,0]' ]
	[[ "$(jq -r .error.message <<<"$output")" == "no architecture could be read upstream: amd64: GET $C9/x86_64/images/CHECKSUM (fetched as $(fetched x86_64/images/CHECKSUM)): HTTP 404 (not found); arm64: "*"; s390x: GET $C9/s390x/"* ]]
	[[ "$stderr" == *"cd-discover: 1 image failed" ]]
}

@test "no checksum upstream: one HEAD per such artifact through the mirror, its validators in \"http\"" {
	export CD_MIRRORS=$FEDORA_MIRRORS
	run -0 --separate-stderr cd-discover --catalog "$FCAT" --focus fedora:44-rc1
	local size
	size=$(stat -c %s "$TREE/fed/dl/pub/fedora/linux/releases/test/44_RC/Cloud/x86_64/images/Fedora-Cloud-Base-Generic-44_RC-1.1.x86_64.qcow2")
	local etag
	etag=$(printf '"%x-%x"' "$(date -d '2026-11-30 06:00:00 UTC' +%s)" "$size")
	[ "$(jq -c '[.artifacts[] | [.arch, .checksum, .http]]' <<<"$output")" = \
		"[[\"amd64\",null,{\"etag\":$(jq -Rc . <<<"$etag"),\"last_modified\":\"Mon, 30 Nov 2026 06:00:00 GMT\",\"length\":$size}],[\"arm64\",null,{\"etag\":$(jq -Rc . <<<"$etag"),\"last_modified\":\"Mon, 30 Nov 2026 06:00:00 GMT\",\"length\":$size}]]" ]
	# one HEAD per checksum-less artifact, the index fetched once, nothing else
	[ "$(sort "$HTTPD_LOG")" = "GET /fed/getfedora.org/releases.json 200 -
HEAD /fed/dl/pub/fedora/linux/releases/test/44_RC/Cloud/aarch64/images/Fedora-Cloud-Base-Generic-44_RC-1.1.aarch64.qcow2 200 -
HEAD /fed/dl/pub/fedora/linux/releases/test/44_RC/Cloud/x86_64/images/Fedora-Cloud-Base-Generic-44_RC-1.1.x86_64.qcow2 200 -" ]
}

@test "no checksum upstream: only what the answer had; a HEAD that fails is a warning, the artifact left as it was" {
	export CD_MIRRORS=$FEDORA_MIRRORS
	rules '[{"path": "/fed/dl/pub/fedora/linux/releases/test/44_RC/Cloud/x86_64/*", "validators": false},
		{"path": "/fed/dl/pub/fedora/linux/releases/test/44_RC/Cloud/aarch64/*", "status": 404}]'
	run -0 --separate-stderr cd-discover --catalog "$FCAT" --focus fedora:44-rc1
	[ "$(jq -c '[.artifacts[] | [.arch, (.http // {} | keys)]]' <<<"$output")" = '[["amd64",["length"]],["arm64",[]]]' ]
	[[ "$stderr" == *"cd-discover: warning: fedora:44-rc1 arm64: no checksum upstream and HEAD $F44/aarch64/images/Fedora-Cloud-Base-Generic-44_RC-1.1.aarch64.qcow2 (fetched as $HTTPD_URL/fed/dl/pub/fedora/linux/releases/test/44_RC/Cloud/aarch64/images/Fedora-Cloud-Base-Generic-44_RC-1.1.aarch64.qcow2): HTTP 404 (not found)"* ]]
}

@test "fedora 44 RC1 is 44-rc1, not stable, after the stable ones; an unparseable version is a warning" {
	export CD_MIRRORS=$FEDORA_MIRRORS
	run -0 --separate-stderr cd-discover --catalog "$FCAT"
	[ "$(jq -c '[.version, .stable, .latest, (.artifacts | length)]' <<<"$output" | paste -sd' ')" = \
		'["43",true,true,1] ["44-rc1",false,false,2]' ]
	[ "$stderr" = "cd-discover: warning: $FCAT/fedora.json: https://getfedora.org/releases.json: cannot parse release version \"44 Alpha 2\" (not <number> or <number> <word>)" ]
}

@test "-v names every entry a program dropped, and why" {
	export CD_MIRRORS=$FEDORA_MIRRORS
	run -0 --separate-stderr cd-discover -v --catalog "$FCAT" --focus fedora:43
	[[ "$stderr" == *"$FCAT/fedora.json: https://getfedora.org/releases.json: dropped https://download.fedoraproject.org/pub/fedora/linux/releases/37/Cloud/x86_64/images/Fedora-Cloud-Base-37-1.7.x86_64.qcow2: release older than 38"* ]]
	run -0 --separate-stderr cd-discover --catalog "$FCAT" --focus fedora:43
	[[ "$stderr" != *dropped* ]]
}

@test "stable: a catalog version is a release whatever its shape, unless the catalog says otherwise" {
	mkdir -p "$TREE/up.example/10-rolling"
	printf '%s  img-2026.qcow2\n' "$(printf 'ef%.0s' $(seq 32))" > "$TREE/up.example/10-rolling/SHA256SUMS"
	cat > "$BATS_TEST_TMPDIR/rolling.json" <<-'EOF'
	{ "name": "rolling", "user": "u", "preference": "p", "arches": { "amd64": "x86_64" },
	  "source": "https://up.example/{version}/SHA256SUMS", "format": "checksums",
	  "pick": "first(.[]) | { url: ($base + .name), checksum }",
	  "images": [ { "version": "10-rolling" }, { "version": "10-rolling", "name": "rolling-pre", "stable": false } ] }
	EOF
	export CD_MIRRORS="https://up.example/=$HTTPD_URL/up.example/"
	run -0 --separate-stderr cd-discover --catalog "$BATS_TEST_TMPDIR/rolling.json"
	[ "$(jq -c '[.name, .stable]' <<<"$output" | paste -sd' ')" = '["rolling",true] ["rolling-pre",false]' ]
}

@test "acceptance: a 44 RC1 release is published as fedora:44-rc1 (cd-discover | cd-build | cd-push, real registry)" {
	export CD_MIRRORS=$FEDORA_MIRRORS
	cd "$BATS_TEST_TMPDIR"
	cd-discover --catalog "$FCAT" --focus fedora:44-rc1 > discovered.ndjson
	cd-build -q --cache "$BATS_TEST_TMPDIR/cache" --output "$BATS_TEST_TMPDIR/out" < discovered.ndjson > built.ndjson
	run -0 --separate-stderr cd-push -q --dry-run=false --target-registry "$REGISTRY/containerdisks" < built.ndjson
	[ "$(jq -r '.error // empty' <<<"$output")" = "" ]
	run -0 sk inspect --raw "docker://$REGISTRY/containerdisks/fedora:44-rc1"
	[ "$(jq -c '[.manifests[].platform.architecture] | sort' <<<"$output")" = '["amd64","arm64"]' ]
	run -1 sk inspect --raw "docker://$REGISTRY/containerdisks/fedora:latest"
}

@test "README's table of images is the catalog's: every image with the architectures it expects" {
	run -0 "$CDKIT_ROOT/pipelines/catalog-table"
	[ "$(sed -n '/^<!-- images: pipelines\/catalog-table -->$/,/^<!-- \/images -->$/p' "$CDKIT_ROOT/README.md" | sed '1d;$d')" = "$output" ]
	[[ "$output" == *'| `opensuse-leap:15.6` | amd64, arm64 |'* ]]
	[[ "$output" == *'| `opensuse-leap:16.0` | amd64, arm64, s390x |'* ]]
}
