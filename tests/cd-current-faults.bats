#!/usr/bin/env bats
# cd-current when the registry misbehaves.  The real registry cannot do that
# on demand, so these tests put tests/lib/regproxy.py (a loopback proxy that
# forwards to the real registry and injects the fault named by its rules) in
# front of it: 429 answers, a tampered manifest, an oversized manifest, quay's
# expired-tag answer.  "Registry down" is a loopback port nobody listens on.

bats_require_minimum_version 1.5.0
load lib/registry

setup_file() {
	registry_start plain fixtures
	regproxy_start
}

teardown_file() { servers_stop; }

setup() {
	proxy_rules '[]'
	: > "$PROXY_LOG"
}

fedora() {
	echo '{"name":"fedora","version":"41","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"},{"arch":"arm64","url":"https://upstream.example/arm64.qcow2"}]}'
}

@test "cd-current: 429 then success is retried" {
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/41","status":429,"retry_after":0,"times":1}]'
	run -0 cd-current --source-registry "$PROXY/containerdisks" < <(fedora)
	[ "$(jq -r .published.arm64.shasum <<< "$output")" = "$(fixture_sum fedora 41 arm64)" ]
	[ "$(grep -c '^GET /v2/containerdisks/fedora/manifests/41 429$' "$PROXY_LOG")" -eq 1 ]
	[ "$(grep -c '^GET /v2/containerdisks/fedora/manifests/41 200$' "$PROXY_LOG")" -eq 1 ]
}

@test "cd-current: 429 every time gives up after the retries, with the registry's message" {
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/41","status":429,"retry_after":0}]'
	run -1 --separate-stderr cd-current --retries 2 --source-registry "$PROXY/containerdisks" < <(fedora)
	[ "$(jq -r .error.message <<< "$output")" = "$PROXY/containerdisks/fedora:41: injected failure (TOOMANYREQUESTS) (HTTP 429 after 3 attempts)" ]
	[ "$(grep -c ' 429$' "$PROXY_LOG")" -eq 3 ]
}

@test "cd-current: a manifest list whose bytes do not match Docker-Content-Digest is refused" {
	want=$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/containerdisks/fedora:41" | sha256sum | cut -d' ' -f1)
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/41","tamper":true}]'
	run -1 --separate-stderr cd-current --source-registry "$PROXY/containerdisks" < <(fedora)
	msg=$(jq -r .error.message <<< "$output")
	[[ "$msg" == "$PROXY/containerdisks/fedora:41: manifest digest mismatch: expected sha256:$want, got sha256:"* ]]
	[[ "$msg" != *"got sha256:$want" ]]
}

@test "cd-current: an arch manifest that does not match its digest in the list is refused" {
	d=$(arch_digest containerdisks/fedora:41 amd64)
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/'"$d"'","tamper":true}]'
	run -1 --separate-stderr cd-current --source-registry "$PROXY/containerdisks" < <(fedora)
	[ "$(jq -r .error.arch <<< "$output")" = amd64 ]
	[[ "$(jq -r .error.message <<< "$output")" == "$PROXY/containerdisks/fedora@$d: manifest digest mismatch: expected $d, got sha256:"* ]]
	[ "$(jq -r .published <<< "$output")" = null ]
}

@test "cd-current: a manifest over 4 MiB is refused" {
	proxy_rules '[{"path":"/v2/containerdisks/cirros/manifests/6.1","oversize":4194305}]'
	run -1 --separate-stderr cd-current --source-registry "$PROXY/containerdisks" <<< '{"name":"cirros","version":"6.1","artifacts":[{"arch":"amd64","url":"https://upstream.example/amd64.qcow2"}]}'
	[ "$(jq -r .error.message <<< "$output")" = "$PROXY/containerdisks/cirros:6.1: manifest larger than 4 MiB: refused" ]
}

@test "cd-current: quay's 'Tag ... was deleted or has expired' means not published" {
	body='{"errors":[{"code":"UNKNOWN","message":"Tag 41 was deleted or has expired. To pull, revive via time machine","detail":{}}]}'
	proxy_rules "$(jq -cn --arg b "$body" '[{path:"/v2/containerdisks/fedora/manifests/41",status:404,body:$b}]')"
	run -0 cd-current --source-registry "$PROXY/containerdisks" < <(fedora)
	[ "$(jq -c .published <<< "$output")" = '{}' ]
}

@test "cd-current: a registry that is down gives an error record per image, exit 1" {
	port=$(free_port)
	run -1 --separate-stderr cd-current --retries 1 --source-registry "127.0.0.1:$port/containerdisks" < <(fedora; fedora)
	[ "$(wc -l <<< "$output")" -eq 2 ]
	msg=$(sed -n 2p <<< "$output" | jq -r .error.message)
	[[ "$msg" == "127.0.0.1:$port/containerdisks/fedora:41: GET https://127.0.0.1:$port/v2/containerdisks/fedora/manifests/41: "*"Couldn't connect to server (after 2 attempts)" ]]
}

@test "cd-current: a negative, NaN, overflowing or far-future Retry-After is clamped before the wait is computed" {
	local ra want m=/v2/containerdisks/fedora/manifests/41 k=0
	for ra in -5:50 nan:50 99999999999999999999:50 9223372036854775807:400 'Fri, 31 Dec 9999 23:59:59 GMT:400'; do
		want=${ra##*:}
		ra=${ra%:*}
		# "times" counts per rule index: a fresh index for each value
		k=$((k + 1))
		proxy_rules "$(jq -cn --arg p "$m" --arg ra "$ra" --argjson k "$k" \
			'[range($k) | {path: "/none"}] + [{path: $p, status: 429, retry_after: $ra, times: 1}]')"
		CD_RETRY_MAX_MS=400 run -0 --separate-stderr cd-current -v --source-registry "$PROXY/containerdisks" < <(fedora)
		[ "$(jq -r .published.arm64.shasum <<< "$output")" = "$(fixture_sum fedora 41 arm64)" ]
		[[ "$stderr" == *"GET http://$PROXY$m: HTTP 429; retrying in $want ms"* ]]
	done
}

@test "cd-current: a registry that trickles a manifest (2 bytes/s) is given up after --timeout" {
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/41","pad":60000,"rate":2}]'
	run -1 --separate-stderr timeout 60 cd-current --timeout 2 --retries 0 --source-registry "$PROXY/containerdisks" < <(fedora)
	[ "$(jq -r .error.message <<< "$output")" = "$PROXY/containerdisks/fedora:41: GET http://$PROXY/v2/containerdisks/fedora/manifests/41: timed out: under 1 KiB/s for 2 s" ]
}

@test "cd-current: a manifest sent above the stall rate but too slowly is given up at its deadline, 4 x --timeout" {
	proxy_rules '[{"path":"/v2/containerdisks/fedora/manifests/41","pad":600000,"rate":16384}]'
	run -1 --separate-stderr timeout 60 cd-current --timeout 2 --retries 0 --source-registry "$PROXY/containerdisks" < <(fedora)
	[ "$(jq -r .error.message <<< "$output")" = "$PROXY/containerdisks/fedora:41: GET http://$PROXY/v2/containerdisks/fedora/manifests/41: timed out: not complete within 8 s" ]
}
