#!/usr/bin/env bats
# cd-docs: the repositories' descriptions from the real catalog's records
# (tests/fixtures/expected: what cd-discover makes of the catalog) and its
# templates (pipelines/catalog/docs), written with --output and published to
# a loopback server that answers as Quay's API does (tests/lib/httpd.py,
# recording every PUT and POST).

bats_require_minimum_version 1.5.0
load lib/common

setup_file() {
	export RECORDS=$BATS_FILE_TMPDIR/catalog.ndjson
	cat "$FIXTURES"/expected/*.ndjson > "$RECORDS"
	export REQUESTS=$BATS_FILE_TMPDIR/requests.ndjson
	mkdir -p "$BATS_FILE_TMPDIR/empty"
	httpd_start "$BATS_FILE_TMPDIR/empty" "$BATS_FILE_TMPDIR/rules.json" --requests "$REQUESTS"
	export TOKEN=qt-$RANDOM$RANDOM-secret-token
	printf '%s\n' "$TOKEN" > "$BATS_FILE_TMPDIR/token"
}

teardown_file() {
	httpd_stop
}

setup() {
	QUAY=(--quay-api "$HTTPD_URL/api/v1" --quay-token-file "$BATS_FILE_TMPDIR/token")
	: > "$REQUESTS"
	rules '[]'
	cd "$BATS_TEST_TMPDIR"
}

# yaml_of FILE: the ```yaml block of a Markdown file
yaml_of() {
	awk '/^```yaml$/ {f = 1; next} /^```$/ {f = 0} f' "$1"
}

lint() {
	yamllint -s -d '{extends: default, rules: {document-start: disable}}' "$1"
}

@test "--output: one Markdown file per repository, its VirtualMachine YAML parses and names the image" {
	run -0 --separate-stderr cd-docs --output out < "$RECORDS"
	[ "$(ls out | tr '\n' ' ')" = "almalinux.md centos-stream.md fedora.md opensuse-leap.md opensuse-microos.md opensuse-tumbleweed.md " ]
	local f name version
	for f in out/*.md; do
		name=$(basename "$f" .md)
		version=$(jq -r --arg n "$name" 'select(.name == $n and .described) | .version' <<<"$output")
		yaml_of "$f" > "$name.yaml"
		lint "$name.yaml"
		python3 - "$name.yaml" "quay.io/containerdisks/$name:$version" "$name" <<-'EOF'
			import sys, yaml
			vm = yaml.safe_load(open(sys.argv[1]))
			assert vm["apiVersion"] == "kubevirt.io/v1" and vm["kind"] == "VirtualMachine", vm
			spec = vm["spec"]["template"]["spec"]
			assert vm["spec"]["runStrategy"] == "Always"
			assert spec["domain"]["resources"]["requests"]["memory"] == "1Gi"
			assert spec["domain"]["devices"]["rng"] == {}
			disks = {d["name"]: d for d in spec["domain"]["devices"]["disks"]}
			assert disks["containerdisk"]["disk"]["bus"] == "virtio"
			vols = {v["name"]: v for v in spec["volumes"]}
			assert vols["containerdisk"]["containerDisk"]["image"] == sys.argv[2], vols
			ud = vols["cloudinit"]["cloudInitNoCloud"]["userData"]
			assert ud.startswith("#cloud-config\n") and "ssh-rsa AAAA..." in ud, ud
			efi = spec["domain"].get("firmware", {}).get("bootloader", {}).get("efi")
			# the catalog marks Fedora's images (amd64) as needing EFI with Secure Boot
			assert (efi == {"secureBoot": True}) == (sys.argv[3] == "fedora"), efi
			if efi:
			    assert spec["domain"]["features"]["smm"]["enabled"] is True
		EOF
		grep -qxF "virtctl create vm --instancetype=u1.medium --preference=$(jq -r --arg n "$name" 'select(.name == $n and .described) | .env.INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE' <<<"$output") --volume-import=type:registry,url:docker://quay.io/containerdisks/$name:$version,size:10Gi | kubectl create -f -" "$f"
		grep -qF -- "--volume-containerdisk=src:quay.io/containerdisks/$name:$version |" "$f"
	done
	grep -qxF '# The default username is: cloud-user' <(sed 's/^ *//' out/centos-stream.md)
	grep -qxF 'The default user is `sles`.' out/opensuse-leap.md
	# the records: the chosen ones described, every record written, in order
	[ "$(jq -r .name <<<"$output" | tr '\n' ' ')" = "$(jq -r .name "$RECORDS" | tr '\n' ' ')" ]
	[ "$(jq -c 'select(.name == "fedora" and .described) | .described' <<<"$output")" = \
		'{"repository":"quay.io/containerdisks/fedora","file":"out/fedora.md","published":false}' ]
}

@test "a repository shared by two versions gets the newest stable one, in any order, not a newer prerelease" {
	jq -c 'select(.name == "almalinux")' "$RECORDS" > alma.ndjson
	[ "$(jq -r 'select(.docs) | .version' alma.ndjson | tr '\n' ' ')" = "10 9 " ] # both marked, as medius
	{
		tac alma.ndjson
		jq -c 'select(.version == "10") | .version = "11-beta" | .stable = false' alma.ndjson
	} > mixed.ndjson
	run -0 --separate-stderr cd-docs --output out < mixed.ndjson
	[ "$(jq -r 'select(.described) | .version' <<<"$output")" = 10 ]
	grep -qxF '            image: quay.io/containerdisks/almalinux:10' out/almalinux.md
	! grep -q 'almalinux:9\|almalinux:11' out/almalinux.md
}

@test "--registry names the images; a distribution's own template replaces the text (no C)" {
	cp -r "$CDKIT_ROOT/pipelines/catalog/docs" tpl
	printf '%s\n' '"custom \(.name) \(.version) \(.image) \(.secureboot)\n"' > tpl/fedora.jq
	run -0 --separate-stderr cd-docs --registry registry.example:5000/org --templates tpl --output out \
		--focus 'fedora:*' < "$RECORDS"
	[ "$(cat out/fedora.md)" = "custom fedora 40 registry.example:5000/org/fedora:40 true" ]
	[ "$(ls out)" = fedora.md ]
	# debian 12 is not marked "docs": a focus on it is a usage error, as one on nothing
	run -2 --separate-stderr cd-docs --focus 'debian:*' < "$RECORDS"
	[ "$stderr" = "cd-docs: focus 'debian:*' matches no record marked \"docs\"" ]
}

@test "dry run by default: says what it would send, sends nothing, needs no token" {
	run -0 --separate-stderr cd-docs --quay-api "$HTTPD_URL/api/v1" --focus 'fedora:*' < "$RECORDS"
	[ "$stderr" = "cd-docs: fedora: dry run: would PUT $HTTPD_URL/api/v1/repository/containerdisks/fedora ($(cd-docs --focus 'fedora:*' --output o < "$RECORDS" 2>/dev/null >/dev/null; wc -c < o/fedora.md) bytes of Markdown), then POST $HTTPD_URL/api/v1/repository/containerdisks/fedora/changevisibility" ]
	[ ! -s "$REQUESTS" ]
	run -2 --separate-stderr cd-docs --dry-run=false < "$RECORDS"
	[ "${stderr%%$'\n'*}" = "cd-docs: --dry-run=false needs --quay-token-file" ]
	run -2 --separate-stderr cd-docs --registry quay.io --dry-run=false "${QUAY[@]}" < "$RECORDS"
	[ "$stderr" = "cd-docs: --registry: want HOST/ORG (quay.io/<org>), not 'quay.io'" ]
	# a catalog that cannot be read is a lost input, as for cd-discover
	run -4 --separate-stderr cd-docs --catalog "$BATS_TEST_TMPDIR/nosuch" < "$RECORDS"
	[ "$stderr" = "cd-docs: cannot open catalog '$BATS_TEST_TMPDIR/nosuch': No such file or directory" ]
	[ -z "$output" ]
	[ ! -s "$REQUESTS" ]
}

@test "publish: PUT the description, then POST changevisibility, JSON bodies, the bearer token" {
	run -0 --separate-stderr cd-docs --dry-run=false "${QUAY[@]}" --output out \
		--focus 'almalinux:*' --focus 'fedora:*' < "$RECORDS"
	[ -z "$stderr" ]
	[ "$(jq -r '"\(.method) \(.path)"' "$REQUESTS" | tr '\n' ' ')" = "PUT /api/v1/repository/containerdisks/almalinux POST /api/v1/repository/containerdisks/almalinux/changevisibility PUT /api/v1/repository/containerdisks/fedora POST /api/v1/repository/containerdisks/fedora/changevisibility " ]
	[ "$(jq -r '.headers.authorization' "$REQUESTS" | sort -u)" = "Bearer $TOKEN" ]
	[ "$(jq -r '.headers["content-type"]' "$REQUESTS" | sort -u)" = application/json ]
	# the description is the Markdown written with --output, byte for byte
	jq -j 'select(.method == "PUT" and (.path | endswith("/fedora"))) | .body | fromjson | .description' "$REQUESTS" > put.md
	cmp put.md out/fedora.md
	[ "$(jq -c 'select(.method == "PUT") | .body | fromjson | keys' "$REQUESTS" | sort -u)" = '["description"]' ]
	[ "$(jq -c 'select(.method == "POST") | .body | fromjson' "$REQUESTS" | sort -u)" = '{"visibility":"public"}' ]
	[ "$(jq -c 'select(.described) | [.name, .described.published]' <<<"$output" | tr '\n' ' ')" = '["almalinux",true] ["fedora",true] ' ]
}

@test "a 403 for one repository fails only that one; the others are published" {
	rules '[{"path": "/api/v1/repository/containerdisks/centos-stream", "status": 403, "json": {"error_message": "Unauthorized"}}]'
	run -1 --separate-stderr cd-docs --dry-run=false "${QUAY[@]}" < "$RECORDS"
	[ "$stderr" = "cd-docs: centos-stream:10: PUT $HTTPD_URL/api/v1/repository/containerdisks/centos-stream: HTTP 403 (forbidden)" ]
	[ "$(jq -c 'select(.name == "centos-stream" and .version == "10") | .error' <<<"$output")" = \
		"{\"tool\":\"cd-docs\",\"message\":\"PUT $HTTPD_URL/api/v1/repository/containerdisks/centos-stream: HTTP 403 (forbidden)\"}" ]
	[ "$(jq -r 'select(.described.published) | .name' <<<"$output" | tr '\n' ' ')" = "almalinux fedora opensuse-leap opensuse-microos opensuse-tumbleweed " ]
	# no changevisibility for the repository whose description was refused
	! grep -q 'centos-stream/changevisibility' "$REQUESTS"
	[ "$(jq -r 'select(.method == "POST") | .path' "$REQUESTS" | wc -l)" -eq 5 ]
}

@test "the token is nowhere: stdout, stderr, records, /proc/PID/cmdline" {
	rules '[{"path": "/api/v1/repository/containerdisks/opensuse-leap", "status": 401, "json": {"error": "invalid token"}}, {"path": "/api/*", "delay": 2, "times": 1}]'
	cd-docs -v --dry-run=false "${QUAY[@]}" < "$RECORDS" > out.ndjson 2> err.txt &
	local pid=$! i
	for i in $(seq 200); do
		[ -s "$REQUESTS" ] && break
		sleep 0.05
	done
	[ -s "$REQUESTS" ] # it is talking to the API: its options were read
	tr '\0' ' ' < "/proc/$pid/cmdline" > cmdline
	grep -q 'cd-docs' cmdline
	local status=0
	wait "$pid" || status=$?
	[ "$status" -eq 1 ]
	grep -q 'opensuse-leap:16.0: PUT .*: HTTP 401 (unauthorized)' err.txt
	grep -q "Bearer $TOKEN" "$REQUESTS" # it was sent
	! grep -qF -- "$TOKEN" out.ndjson err.txt cmdline
}
