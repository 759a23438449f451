#!/usr/bin/env bats
# The publishing guarantees of issue 12 (parts 1, 3, 4) and the one-request
# no-op night of issue 13 (part 1), against the real registry (its access
# log counts the requests) and a loopback upstream:
#   - an upstream file without a checksum is rebuilt only when its HTTP
#     validators change (the image carries them: label cdkit.upstream.http);
#   - an architecture that upstream cannot give this run, or no longer
#     lists, stays in the index as it was ("carried"), and the run says so;
#   - a unique tag never moves;
#   - a no-op cd-current reads one manifest per image cdkit published, and
#     images medius published (Docker schema 2, shasum label only) are
#     still read, found up to date and taken over without a rebuild.
# The "http" and "carried" fields are written here by hand as cd-discover
# makes them (SHARED-FIELDS.md).

bats_require_minimum_version 1.5.0
load lib/common
load lib/cd-build
load lib/registry
load lib/push

setup_file() {
	export SRV=$BATS_FILE_TMPDIR/srv
	make_disks "$SRV"
	# d.qcow2: what amd64 becomes when upstream changes
	printf 'cdkit test disk D\n%.0s' $(seq 3000) > "$BATS_FILE_TMPDIR/d.raw"
	qemu-img convert -q -f raw -O qcow2 "$BATS_FILE_TMPDIR/d.raw" "$SRV/d.qcow2"
	(cd "$SRV" && sha256sum d.qcow2 >> SHA256SUMS)
	httpd_start "$SRV"
	registry_start plain
	registry_publish_fixtures
}

teardown_file() {
	httpd_stop
	registry_stop
}

setup() {
	mirror_args
	OUT=$BATS_TEST_TMPDIR/out
	cd "$BATS_TEST_TMPDIR"
	T=$REGISTRY/containerdisks
}

# mark: remember where the registry's access log is; since: its API
# requests (GET, HEAD, PUT, POST, PATCH, DELETE on /v2/...) after the mark;
# writes: those that write.
mark() { MARK=$(wc -l < "$REGISTRY_LOG"); }
since() { tail -n +"$((MARK + 1))" "$REGISTRY_LOG" | grep -E '"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2/' || true; }
writes() { since | grep -cE '"(PUT|POST|PATCH|DELETE) ' || true; }

# pipeline FILE [CD-DIFF FLAGS...]: cd-current | cd-diff | cd-build | cd-push of FILE's
# records into $T (each stage's output kept: cur, diff, built, pushed .ndjson).
# Sets DIFF_STATUS (cd-diff's exit status); fails when another stage fails.
pipeline() {
	local in=$1
	shift
	cd-current -q --source-registry "$T" < "$in" > cur.ndjson
	DIFF_STATUS=0
	cd-diff -q "$@" < cur.ndjson > diff.ndjson || DIFF_STATUS=$?
	cd-build -q "${MIRROR_ARGS[@]}" --cache "$BATS_FILE_TMPDIR/cache" --output "$OUT" < diff.ndjson > built.ndjson
	cd-push -q --dry-run=false --target-registry "$T" < built.ndjson > pushed.ndjson
}

# nosum ARCH FILE: an artifact without a checksum, with the HTTP validators
# one HEAD of the loopback file gives (Content-Length; an ETag made from the
# file's bytes, as a server would).
nosum() {
	local arch=$1 file=$2
	jq -nc --arg arch "$arch" --arg url "https://upstream.example/img/$file" \
		--arg etag "\"$(sha256sum "$SRV/$file" | cut -c1-16)\"" --argjson len "$(stat -c %s "$SRV/$file")" \
		'{arch: $arch, url: $url, checksum: null, compression: null,
		  http: {etag: $etag, last_modified: "Tue, 01 Dec 2026 06:00:00 GMT", length: $len}}'
}

# index_arch REF ARCH: the manifest digest ARCH has in the index REF names.
index_arch() {
	sk inspect --raw "docker://$1" | jq -r --arg a "$2" '.manifests[] | select(.platform.architecture == $a) | .digest'
}

@test "no checksum upstream: the second run with unchanged HTTP validators uploads nothing; the image carries them" {
	record nosum 44 "$(nosum amd64 a.qcow2)" "$(nosum arm64 b.qcow2)" > in.ndjson
	pipeline in.ndjson
	[ "$(jq -r .action diff.ndjson)" = build ]
	digest=$(jq -r .pushed.digest pushed.ndjson)
	run -0 sk inspect --override-arch arm64 --config "docker://$T/nosum:44"
	[ "$(jq -r '.config.Labels.shasum' <<< "$output")" = "$(sha256sum "$SRV/b.qcow2" | cut -d' ' -f1)" ]
	[ "$(jq -c '.config.Labels["cdkit.upstream.http"] | fromjson' <<< "$output")" = \
		"$(jq -c '.artifacts[1].http | to_entries | sort_by(.key) | from_entries' in.ndjson)" ]
	mark
	pipeline in.ndjson
	[ "$(jq -r .action diff.ndjson)" = skip ]
	[ "$(jq -r .reason diff.ndjson)" = "up to date" ]
	[ "$(writes)" -eq 0 ]
	[ "$(sk inspect --raw "docker://$T/nosum:44" | sha256sum | cut -d' ' -f1)" = "${digest#sha256:}" ]
}

@test "no checksum upstream: an ETag that changed rebuilds that arch, and the reason says why" {
	record etag 44 "$(nosum amd64 a.qcow2)" "$(nosum arm64 b.qcow2)" > in.ndjson
	pipeline in.ndjson
	jq -c '.artifacts[1].http.etag = "\"changed\""' in.ndjson > in2.ndjson
	pipeline in2.ndjson
	[ "$(jq -r .action diff.ndjson)" = build ]
	[ "$(jq -r .reason diff.ndjson)" = "arm64 upstream file changed (HTTP validators differ)" ]
	[ "$(jq -c .changed diff.ndjson)" = '["arm64"]' ]
	# an image without the label (built before, or by medius) is rebuilt, and says so
	jq -c 'del(.published.amd64.http) | del(.action, .reason, .changed)' cur.ndjson > nolabel.ndjson
	run -0 cd-diff < nolabel.ndjson
	[ "$(jq -r .reason <<< "$output")" = "amd64 has no upstream checksum and its image no HTTP validators label, arm64 upstream file changed (HTTP validators differ)" ]
}

@test "carried: one arch's upstream unreadable (cd-discover's carried): the others are updated, its old manifest stays, the report exits 1" {
	two=$(record carry 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)")
	printf '%s\n' "$two" > in.ndjson
	pipeline in.ndjson
	arm=$(index_arch "$T/carry:41" arm64)
	[ -n "$arm" ]
	# next night: amd64 changed upstream, arm64's CHECKSUM answered 404 (cd-discover carried it)
	record carry 41 "$(artifact amd64 d.qcow2)" |
		jq -c '.carried = [{arch: "arm64", reason: "GET https://upstream.example/img/aarch64/CHECKSUM: HTTP 404"}]' > in2.ndjson
	pipeline in2.ndjson
	[ "$DIFF_STATUS" -eq 0 ]
	[ "$(jq -c .built built.ndjson)" = '["amd64"]' ]
	[ "$(index_arch "$T/carry:41" arm64)" = "$arm" ]
	[ "$(index_arch "$T/carry:41" amd64)" = "$(jq -r .manifests.amd64 built.ndjson)" ]
	run -1 --separate-stderr cd-report pushed.ndjson
	[[ $stderr == *"1 image kept an architecture as published (see CARRIED)"* ]]
	grep -qE '^carry:41 +amd64 +amd64,arm64 +arm64 \(GET https://upstream.example/img/aarch64/CHECKSUM: HTTP 404\)$' <<< "$output"
}

@test "carried: an arch upstream stops listing stays in the index (cd-diff exits 1); --allow-arch-removal drops it" {
	record gone 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" > in.ndjson
	pipeline in.ndjson
	arm=$(index_arch "$T/gone:41" arm64)
	record gone 41 "$(artifact amd64 a.qcow2)" > in2.ndjson
	cd-current -q --source-registry "$T" < in2.ndjson > cur.ndjson
	run -1 --separate-stderr cd-diff < cur.ndjson
	[[ $stderr == *"1 image kept an architecture upstream no longer lists"* ]]
	[ "$(jq -r .action <<< "$output")" = skip ]
	[ "$(jq -c .carried <<< "$output")" = '[{"arch":"arm64","reason":"upstream no longer lists it"}]' ]
	# when amd64 changes too, the new index still has the old arm64
	record gone 41 "$(artifact amd64 d.qcow2)" > in3.ndjson
	pipeline in3.ndjson
	[ "$DIFF_STATUS" -eq 1 ]
	[ "$(index_arch "$T/gone:41" arm64)" = "$arm" ]
	[ "$(index_arch "$T/gone:41" amd64)" = "$(jq -r .manifests.amd64 built.ndjson)" ]
	# --allow-arch-removal: rebuilt without it
	pipeline in3.ndjson --allow-arch-removal
	[ "$DIFF_STATUS" -eq 0 ]
	[ "$(jq -r .reason diff.ndjson)" = "arm64 no longer listed upstream: dropped (--allow-arch-removal)" ]
	run -0 sk inspect --raw "docker://$T/gone:41"
	[ "$(jq -r .mediaType <<< "$output")" = application/vnd.docker.distribution.manifest.v2+json ]
}

@test "a unique tag that names another image is left where it is, and the record says so; <version> floats" {
	record uniq 41 "$(artifact amd64 a.qcow2)" | jq -c '.tags = ["41-1.4"]' > in.ndjson
	pipeline in.ndjson
	first=$(jq -r .pushed.digest pushed.ndjson)
	# upstream rebuilt the same "unique" release: another disk under the same upstream tag
	record uniq 41 "$(artifact amd64 b.qcow2)" | jq -c '.tags = ["41-1.4"]' > in2.ndjson
	cd-current -q --source-registry "$T" < in2.ndjson | cd-diff -q |
		cd-build -q "${MIRROR_ARGS[@]}" --cache "$BATS_FILE_TMPDIR/cache" --output "$OUT" > built.ndjson
	run -0 --separate-stderr cd-push --dry-run=false --target-registry "$T" < built.ndjson
	second=$(jq -r .pushed.digest <<< "$output")
	[ "$second" != "$first" ]
	[ "$(jq -c '.pushed.held[] | select(.tag == "41-1.4")' <<< "$output")" = "{\"tag\":\"41-1.4\",\"digest\":\"$first\"}" ]
	# (the timestamp tag is held too when both runs fell in the same minute)
	[ "$(jq -c '[.pushed.tags[] | select(test("^41-[0-9]{10}$") | not)]' <<< "$output")" = '["41"]' ]
	[[ $stderr == *"$T/uniq:41-1.4 names $first, not $second: a unique tag is not moved"* ]]
	[ "sha256:$(sk inspect --raw "docker://$T/uniq:41-1.4" | sha256sum | cut -d' ' -f1)" = "$first" ]
	[ "sha256:$(sk inspect --raw "docker://$T/uniq:41" | sha256sum | cut -d' ' -f1)" = "$second" ]
}

@test "no-op night: cd-current reads one manifest per image cdkit published (single-arch, multi-arch, checksum-less)" {
	{
		record noop1 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)"
		record noop2 41 "$(artifact arm64 b.qcow2)"
		record noop3 44 "$(nosum amd64 a.qcow2)" "$(nosum s390x b.qcow2)"
	} > in.ndjson
	pipeline in.ndjson
	mark
	run -0 cd-current --source-registry "$T" < in.ndjson
	printf '%s\n' "$output" > cur.ndjson
	since > requests
	cat requests >&2
	[ "$(wc -l < requests)" -le 3 ]
	for n in noop1 noop2 noop3; do
		[ "$(grep -c "/v2/containerdisks/$n/" requests)" -eq 1 ]
	done
	run -0 cd-diff < cur.ndjson
	[ "$(jq -r .action <<< "$output" | sort -u)" = skip ]
	# what the annotations said is what the configs say
	[ "$(jq -r 'select(.name == "noop1") | .published.arm64.shasum' cur.ndjson)" = "$(sum b.qcow2)" ]
	[ "$(jq -r 'select(.name == "noop2") | .published.arm64.digest' cur.ndjson)" = "$(jq -r 'select(.name == "noop2") | .pushed.digest' pushed.ndjson)" ]
}

@test "images medius published (Docker schema 2, shasum label only) are read at today's cost, up to date, and taken over without a rebuild" {
	fed() {
		record fedora 41 \
			"$(printf '{"arch":"amd64","url":"https://upstream.example/img/a.qcow2","checksum":"sha256:%s"}' "$(fixture_sum fedora 41 amd64)")" \
			"$(printf '{"arch":"arm64","url":"https://upstream.example/img/%s","checksum":"sha256:%s"}' "$1" "$2")"
	}
	fed b.qcow2 "$(fixture_sum fedora 41 arm64)" > in.ndjson
	mark
	cd-current -q --source-registry "$T" < in.ndjson > cur.ndjson
	# the index, then each arch's manifest and config: 1 + 2 per arch, as before
	[ "$(since | wc -l)" -eq 5 ]
	run -0 cd-diff < cur.ndjson
	[ "$(jq -r .action <<< "$output")" = skip ]
	[ "$(jq -r .reason <<< "$output")" = "up to date" ]
	# arm64 changes upstream: only arm64 is built, medius's amd64 image is reused as it is
	amd=$(index_arch "$T/fedora:41" amd64)
	fed b.qcow2 "$(sum b.qcow2)" > in2.ndjson
	pipeline in2.ndjson
	[ "$(jq -c .built built.ndjson)" = '["arm64"]' ]
	[ "$(index_arch "$T/fedora:41" amd64)" = "$amd" ]
	# and the next no-op night reads the new (annotated) index alone
	mark
	cd-current -q --source-registry "$T" < in2.ndjson > cur2.ndjson
	[ "$(since | wc -l)" -eq 1 ]
	[ "$(jq -r .published.amd64.shasum cur2.ndjson)" = "$(fixture_sum fedora 41 amd64)" ]
	run -0 cd-diff < cur2.ndjson
	[ "$(jq -r .action <<< "$output")" = skip ]
}

@test "cd-build --no-annotations (a registry that refuses them): plain images, read from their configs, up to date" {
	record plain 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" > in.ndjson
	cd-current -q --source-registry "$T" < in.ndjson | cd-diff -q |
		cd-build -q --no-annotations "${MIRROR_ARGS[@]}" --cache "$BATS_FILE_TMPDIR/cache" --output "$OUT" > built.ndjson
	cd-push -q --dry-run=false --target-registry "$T" < built.ndjson > pushed.ndjson
	run -0 sk inspect --raw "docker://$T/plain:41"
	[ "$(jq -c '[.manifests[] | has("annotations")]' <<< "$output")" = '[false,false]' ]
	run -0 sk inspect --raw "docker://$T/plain@$(index_arch "$T/plain:41" arm64)"
	[ "$(jq -r 'has("annotations")' <<< "$output")" = false ]
	mark
	cd-current -q --source-registry "$T" < in.ndjson > cur.ndjson
	[ "$(since | wc -l)" -eq 5 ]
	run -0 cd-diff < cur.ndjson
	[ "$(jq -r .action <<< "$output")" = skip ]
}
