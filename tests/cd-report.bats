#!/usr/bin/env bats
# cd-report: the fan-in of a sharded run.  Final records of several jobs
# (files, stdin, any order) merged into one per image, duplicates named;
# the summary and architecture tables; medius's results.json byte for byte
# as Go's json.MarshalIndent writes it; timings that cd-shard --weights
# reads back; exit status 1 on a failed image unless --no-fail.  (The
# seconds each stage stamps on a record: record-loop-timings.bats.)

bats_require_minimum_version 1.5.0
load lib/common

setup() {
	cd "$BATS_TEST_TMPDIR"
	# shard 0: a promoted two-arch image, an up-to-date one
	cat > shard0.ndjson <<-'EOF'
	{"name":"fedora","version":"43","artifacts":[{"arch":"amd64"},{"arch":"arm64"}],"published":{},"action":"build","built":["amd64","arm64"],"pushed":{"repository":"r/staging/fedora","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","tags":["43-2609010300","43-1.6","43","latest"]},"verified":{"ok":true,"checks":[{"name":"manifest","arch":"amd64","ok":true},{"name":"manifest","arch":"arm64","ok":true}]},"promoted":{"repository":"r/prod/fedora","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","tags":["43-2609010300","43-1.6","43","latest"]},"seconds":{"cd-current":0.5,"cd-build":20.25,"cd-push":4}}
	{"name":"ubuntu","version":"24.04","artifacts":[{"arch":"amd64"},{"arch":"arm64"},{"arch":"s390x"}],"published":{"amd64":{"shasum":"a"},"arm64":{"shasum":"b"}},"action":"skip","reason":"up to date","seconds":{"cd-current":0.25}}
	EOF
	# shard 1: a failed build (message with characters Go escapes), a pushed-only image
	cat > shard1.ndjson <<-'EOF'
	{"name":"debian","version":"12","artifacts":[{"arch":"amd64"},{"arch":"arm64"}],"published":{"amd64":{"shasum":"x"}},"action":"build","error":{"tool":"cd-build","arch":"arm64","message":"sha512 mismatch for <https://x/y?a=1&b=2> \"quoted\"\tend"},"seconds":{"cd-build":1.5}}
	{"name":"centos-stream","version":"9","artifacts":[{"arch":"amd64"},{"arch":"s390x"}],"published":{"s390x":{"shasum":"s"}},"action":"build","changed":["amd64"],"built":["amd64"],"pushed":{"repository":"r/staging/centos-stream","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","tags":["9-2609010300","9-20260101.0","9"]},"seconds":{"cd-build":3.25,"cd-push":1}}
	EOF
}

@test "report: merges the records of several jobs into one table, sorted by image" {
	run -1 --separate-stderr cd-report shard1.ndjson shard0.ndjson
	[ "${lines[0]}" = "4 images: 2 rebuilt, 1 up to date, 1 failed" ]
	# (bats drops the empty lines from $lines)
	[[ ${lines[1]} == "IMAGE "*"ACTION "*"RESULT "*"TAGS "*"DIGEST "*"ERROR "*"SECONDS" ]]
	[[ ${lines[2]} =~ ^centos-stream:9\ +build\ +pushed\ +9-2609010300,9-20260101.0,9\ +sha256:222222222222\ +4.25$ ]]
	[[ ${lines[3]} =~ ^debian:12\ +build\ +failed\ +cd-build:\ arm64:\ sha512\ mismatch ]]
	[[ ${lines[4]} =~ ^fedora:43\ +build\ +promoted\ +43-2609010300,43-1.6,43,latest\ +sha256:111111111111\ +24.75$ ]]
	[[ ${lines[5]} =~ ^ubuntu:24.04\ +skip\ +up\ to\ date\ +0.25$ ]]
	# stdin, in another order, gives the same report
	run -1 --separate-stderr cd-report < <(cat shard0.ndjson shard1.ndjson)
	[ "${lines[0]}" = "4 images: 2 rebuilt, 1 up to date, 1 failed" ]
}

@test "report: the architecture table: upstream, what the registry serves now, what is missing, what was carried" {
	run -1 cd-report shard0.ndjson shard1.ndjson
	local arch
	arch=$(printf '%s\n' "$output" | sed -n '/^IMAGE  *UPSTREAM/,$p')
	# centos: amd64 built, s390x reused from the published index
	grep -qE '^centos-stream:9 +amd64,s390x +amd64,s390x +-$' <<< "$arch"
	# debian failed: the registry still serves the old amd64 only
	grep -qE '^debian:12 +amd64,arm64 +amd64 +arm64 +-$' <<< "$arch"
	# fedora: the manifests cd-verify read back
	grep -qE '^fedora:43 +amd64,arm64 +amd64,arm64 +-$' <<< "$arch"
	# ubuntu up to date, but upstream has s390x, which was never published
	grep -qE '^ubuntu:24.04 +amd64,arm64,s390x +amd64,arm64 +s390x +-$' <<< "$arch"
}

@test "report: an image that carried an architecture shows it in CARRIED and serves it; exit 1 (--no-fail: 0)" {
	jq -c 'select(.name == "ubuntu")
	       | .carried = [{"arch": "s390x", "reason": "upstream no longer lists it"}]
	       | .artifacts |= map(select(.arch != "s390x"))
	       | .published.s390x = {"shasum": null, "digest": "sha256:\("3" * 64)"}' shard1.ndjson shard0.ndjson > carried.ndjson
	[ "$(wc -l < carried.ndjson)" -eq 1 ]
	run -1 --separate-stderr cd-report carried.ndjson
	[[ $stderr == *"warning: 1 image kept an architecture as published (see CARRIED)"* ]]
	grep -qE '^ubuntu:24.04 +amd64,arm64 +amd64,arm64,s390x +s390x \(upstream no longer lists it\)$' <<< "$output"
	run -0 --separate-stderr cd-report --no-fail carried.ndjson
	[[ $stderr == *"(--no-fail: exit status 0)"* ]]
}

@test "report: exit 1 when an image failed; --no-fail makes it a warning" {
	run -1 --separate-stderr cd-report shard0.ndjson shard1.ndjson
	run -0 --separate-stderr cd-report --no-fail shard0.ndjson shard1.ndjson
	[[ $stderr == *"warning: 1 of 4 images failed (--no-fail: exit status 0)"* ]]
	run -0 --separate-stderr cd-report shard0.ndjson
	[ -z "$stderr" ]
}

@test "report: a duplicate record is named with both sources; the one that got further is kept" {
	head -1 shard0.ndjson | jq -c 'del(.promoted, .verified, .pushed) | .error = {"tool":"cd-push","message":"503"}' > retry.ndjson
	run -0 --separate-stderr cd-report retry.ndjson shard0.ndjson
	[[ $stderr == *"duplicate record of fedora:43: retry.ndjson:1 and shard0.ndjson:1; kept the one from shard0.ndjson:1"* ]]
	[[ $stderr == *"1 duplicate records (each image should be in exactly one job's records)"* ]]
	[ "${lines[0]}" = "2 images: 1 rebuilt, 1 up to date, 0 failed (1 duplicate records)" ]
	[[ $output == *"fedora:43 "*" promoted "* ]]
}

@test "report --results-file: medius's results.json, as Go's MarshalIndent writes it, mode 0600" {
	run -1 cd-report --results-file results.json shard0.ndjson shard1.ndjson
	printf '%s' '{
  "centos-stream:9": {
    "Tags": [
      "centos-stream:9-2609010300",
      "centos-stream:9-20260101.0",
      "centos-stream:9"
    ],
    "Stage": "push"
  },
  "debian:12": {
    "Stage": "push",
    "Err": "cd-build: arm64: sha512 mismatch for \u003chttps://x/y?a=1\u0026b=2\u003e \"quoted\"\tend"
  },
  "fedora:43": {
    "Tags": [
      "fedora:43-2609010300",
      "fedora:43-1.6",
      "fedora:43",
      "fedora:latest"
    ],
    "Stage": "promote"
  }
}' > want.json
	cmp results.json want.json
	[ "$(stat -c %a results.json)" = 600 ]
	# the up-to-date image has no entry (medius: nothing to do, no entry)
	[ "$(jq 'has("ubuntu:24.04")' results.json)" = false ]
	# nothing rebuilt or failed: an empty object, as medius writes it
	run -0 cd-report --results-file empty.json < <(sed -n 2p shard0.ndjson)
	[ "$(cat empty.json)" = "{}" ]
}

@test "report --results-file --merge: keeps the other entries of the file (medius's verify/promote)" {
	printf '%s' '{"alma:9": {"Tags": ["9-1"], "Stage": "verify", "Extra": 1}, "fedora:43": {"Stage": "push"}}' > results.json
	run -0 cd-report --results-file results.json --merge shard0.ndjson
	[ "$(jq -c . results.json)" = '{"alma:9":{"Tags":["9-1"],"Stage":"verify"},"fedora:43":{"Tags":["fedora:43-2609010300","fedora:43-1.6","fedora:43","fedora:latest"],"Stage":"promote"}}' ]
	# without --merge the file is written afresh, as medius's push does
	run -0 cd-report --results-file results.json shard0.ndjson
	[ "$(jq -c 'keys' results.json)" = '["fedora:43"]' ]
	echo '[1]' > bad.json
	run -1 --separate-stderr cd-report --results-file bad.json --merge shard0.ndjson
	[[ $stderr == *"--results-file: 'bad.json': not a JSON object"* ]]
	run -2 --separate-stderr cd-report --merge shard0.ndjson
	[[ $stderr == *"--merge needs --results-file"* ]]
}

@test "report --timings: seconds of the images built, kept across runs, read back by cd-shard --weights" {
	echo '{"old:1": 42, "fedora:43": 1}' > timings.json
	run -1 cd-report --timings timings.json shard0.ndjson shard1.ndjson
	# built and fine: fedora (24.75 s), centos (4.25 s); failed and up-to-date ones not;
	# old entries of other images kept
	[ "$(cat timings.json)" = "$(printf '{\n  "centos-stream:9": 4.25,\n  "fedora:43": 24.75,\n  "old:1": 42\n}')" ]
	cat shard0.ndjson shard1.ndjson | jq -c '{name, version}' > plan-in.ndjson
	# the file is cd-shard's weights: fedora 24.75 s, centos 4.25 s, the two
	# others the median (24.75 s): the best split is fedora + centos | the two others
	run -0 cd-shard plan --shards 2 --weights timings.json < plan-in.ndjson
	[ "$(printf '%s\n' "$output" | jq -s -c '(map(select(.name == "fedora"))[0].shard.index) as $f | map(select(.shard.index == $f) | .name) | sort')" = '["centos-stream","fedora"]' ]
}

@test "report --format markdown: a CI job summary" {
	run -1 cd-report --format markdown shard0.ndjson shard1.ndjson
	[ "${lines[0]}" = "### cdkit: containerdisks" ]
	[ "${lines[1]}" = "**4 images: 2 rebuilt, 1 up to date, 1 failed**" ]
	[ "${lines[2]}" = "| Image | Action | Result | Tags | Digest | Error | Seconds |" ]
	[ "${lines[3]}" = "| --- | --- | --- | --- | --- | --- | --- |" ]
	[[ ${lines[5]} == "| debian:12 | build | failed |  |  | cd-build: arm64: sha512 mismatch"* ]]
	[[ $output == *"| fedora:43 | build | promoted | 43-2609010300,43-1.6,43,latest | sha256:1111111111111111111111111111111111111111111111111111111111111111 |  | 24.75 |"* ]]
	[[ $output == *"#### Architectures"*"| ubuntu:24.04 | amd64,arm64,s390x | amd64,arm64 | s390x |"* ]]
}

@test "report --plan: the images of a shard job that wrote no records fail, named" {
	cat shard0.ndjson shard1.ndjson | jq -c '{name, version, shard: {index: (if .name == "debian" or .name == "centos-stream" then 1 else 0 end), total: 2}}' > plan.ndjson
	run -1 --separate-stderr cd-report --plan plan.ndjson --results-file results.json shard0.ndjson
	[[ $stderr == *"debian:12: in the plan, but no job wrote its final record"* ]]
	[ "${lines[0]}" = "4 images: 1 rebuilt, 1 up to date, 2 failed" ]
	[ "$(jq -r '."centos-stream:9".Err' results.json)" = "cd-report: no final record: its shard job (1 of 2, 0-based) wrote none" ]
	run -0 cd-report --plan plan.ndjson shard0.ndjson shard1.ndjson --no-fail
}

@test "report: --merged writes one record per image; a malformed line is named and exit 3" {
	run -1 cd-report --merged merged.ndjson shard1.ndjson shard0.ndjson shard0.ndjson
	[ "$(jq -r '.name + ":" + .version' merged.ndjson | tr '\n' ' ')" = "centos-stream:9 debian:12 fedora:43 ubuntu:24.04 " ]
	{ cat shard0.ndjson; echo 'not json'; } > bad.ndjson
	run -3 --separate-stderr cd-report bad.ndjson
	[[ $stderr == *"bad.ndjson:3: malformed record, skipped"* ]]
	run -1 --separate-stderr cd-report missing.ndjson
	[[ $stderr == *"cannot open 'missing.ndjson'"* ]]
	run -2 --separate-stderr cd-report --format html
	run -0 cd-report --help
	[[ $output == "usage: cd-report"* ]]
}
