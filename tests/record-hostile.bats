#!/usr/bin/env bats
# Hostile input, every tool that reads records: garbage, a 16 MiB line, deep
# nesting, wrong types, NUL, invalid UTF-8, path-like and over-long names,
# duplicate keys, an unknown arch -- mixed with valid records, which must
# still come out, in order.  Malformed lines are skipped (exit 3); records
# that break the contract become error records (exit 1) and nothing is done
# with them.

bats_require_minimum_version 1.5.0
load lib/loop

setup_file() {
	loop_servers_start
	# invalid.ndjson: valid records (v1, v3, v13) around records that break the
	# contract; malformed.ndjson: lines that are not records at all, around
	# valid ones and one invalid record.
	python3 - "$BATS_FILE_TMPDIR" "$TINY_SUM" <<-'EOF'
	import json, sys
	d, s = sys.argv[1], sys.argv[2]
	def rec(version="v1", name="loop", arch="amd64", **kw):
	    r = {"name": name, "version": version,
	         "artifacts": [{"arch": arch, "url": "https://upstream.example/tiny.qcow2", "checksum": s}]}
	    r.update(kw)
	    return json.dumps(r, separators=(",", ":")).encode()
	invalid = [
	    rec("v1"),
	    rec(1),
	    rec("v3"),
	    rec("1\u0000/../../evil"),
	    rec("v5").replace(b'"v5"', b'"v5\x00x"'),
	    rec("v6").replace(b'"v6"', b'"v6\xff"'),
	    rec("v7", name="../x"),
	    rec("v8", name="a/b"),
	    rec("v9", name="a" * 200),
	    rec("v10").replace(b'{"name":"loop"', b'{"name":"loop","name":"evil"'),
	    rec("v11", arch="sparc"),
	    rec("v12", artifacts="x"),
	    rec("v13"),
	]
	open(d + "/invalid.ndjson", "wb").write(b"\n".join(invalid) + b"\n")
	malformed = [
	    rec("v1"),
	    b"this is not json",
	    rec("v3"),
	    rec("v4", pad="x" * (16 << 20)),
	    b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}",
	    b"[" * 100000,
	    b"[1,2]",
	    b'{"name":"loop","version":',
	    rec("v9", arch="sparc"),
	    rec("v10"),
	]
	open(d + "/malformed.ndjson", "wb").write(b"\n".join(malformed) + b"\n")
	EOF
}

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	export CD_MIRRORS=$MIRRORS
}

# The error messages of invalid.ndjson's records, by line (valid ones: -).
want_invalid() {
	cat <<-'EOF'
	-
	invalid record: version: a number, not a string
	-
	invalid record: version: holds a NUL character
	invalid record: version: holds a NUL character
	invalid record: version: not valid UTF-8
	invalid record: name: '../x' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')
	invalid record: name: 'a/b' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')
	invalid record: name: longer than 100 bytes
	invalid record: name: duplicate key
	invalid record: artifacts[0].arch: unknown architecture 'sparc' (amd64, arm64 or s390x)
	invalid record: artifacts: a string, not an array
	-
	EOF
}

# hostile TOOL PREPARE [ARGS...]: run TOOL on both files, PREPARE (a jq
# filter) applied to every record first (what the stage needs of a valid
# record), and check what comes out.
hostile() {
	local tool=$1 prep=$2 f
	shift 2
	for f in invalid malformed; do
		# jq would rewrite the NUL and the invalid bytes: prepare with sed-free byte surgery instead
		python3 - "$BATS_FILE_TMPDIR/$f.ndjson" "$prep" > "$f.in" <<-'EOF'
		import json, subprocess, sys
		for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
		    try:
		        r = json.loads(line)
		        ok = isinstance(r, dict) and r.get("name") == "loop" and r.get("version") in ("v1", "v3", "v10", "v13")
		    except (ValueError, RecursionError):
		        ok = False
		    if ok:
		        line = subprocess.run(["jq", "-c", sys.argv[2]], input=line, capture_output=True, check=True).stdout.rstrip(b"\n")
		    sys.stdout.buffer.write(line + b"\n")
		EOF
	done

	run -1 --separate-stderr timeout 120 "$tool" "$@" < invalid.in
	[ "${#lines[@]}" -eq 13 ]
	diff -u <(want_invalid) <(printf '%s\n' "$output" | jq -r '.error.message // "-"')
	# in order: the versions as they went in (jq shows the NUL escaped, the bad byte as U+FFFD)
	[ "$(printf '%s\n' "$output" | jq -r .version | head -3 | xargs)" = "v1 1 v3" ]
	[ "$(printf '%s\n' "$output" | jq -c .version | sed -n 4p)" = '"1\u0000/../../evil"' ]
	[ "$(printf '%s\n' "$output" | jq -r .version | tail -1)" = v13 ]
	# each said once on stderr, the NUL cut, the bad byte shown as jq read it
	[ "$(grep -c "^$tool: .*: invalid record: " <<< "$stderr")" -eq 10 ]
	[[ "$stderr" == *"$tool: loop:1: invalid record: version: holds a NUL character"* ]]
	[[ "$stderr" == *"$tool: evil:v10: invalid record: name: duplicate key"* ]]
	[[ "$stderr" == *"$tool: ../x:v7: invalid record: name: '../x' is not"* ]]
	VALID_OUT=$(printf '%s\n' "$output" | sed -n '1p;3p;13p')

	run -3 --separate-stderr timeout 120 "$tool" "$@" < malformed.in
	[ "${#lines[@]}" -eq 4 ]
	[ "$(printf '%s\n' "$output" | jq -r .version | xargs)" = "v1 v3 v9 v10" ]
	[ "$(printf '%s\n' "$output" | jq -r '.error.message // "-"' | xargs -d '\n' | tr '\n' '|')" = \
		"- - invalid record: artifacts[0].arch: unknown architecture 'sparc' (amd64, arm64 or s390x) -|" ]
	grep -qxF "$tool: stdin:2: malformed record, skipped: Invalid literal at line 1, column 5" <<< "$stderr"
	grep -qxF "$tool: stdin:4: line longer than 4194304 bytes, skipped" <<< "$stderr"
	grep -qxF "$tool: stdin:5: malformed record, skipped: Exceeds depth limit for parsing at line 1, column 260" <<< "$stderr"
	grep -qxF "$tool: stdin:6: malformed record, skipped: Exceeds depth limit for parsing at line 1, column 257" <<< "$stderr"
	grep -qxF "$tool: stdin:7: malformed record, skipped: not a JSON object" <<< "$stderr"
	grep -qxF "$tool: stdin:8: malformed record, skipped: Unfinished JSON term at EOF at line 1, column 25" <<< "$stderr"
	grep -qxF "$tool: loop:v9: invalid record: artifacts[0].arch: unknown architecture 'sparc' (amd64, arm64 or s390x)" <<< "$stderr"
	[ "$(wc -c <<< "$stderr")" -lt 4096 ] || { echo "$stderr" | cut -c1-300; false; } # no line is echoed into the log
}

@test "hostile input: cd-current" {
	hostile cd-current . --source-registry "$REGISTRY/containerdisks"
	[ "$(jq -c .published <<< "$VALID_OUT" | xargs)" = "{} {} {}" ]
}

@test "hostile input: cd-diff" {
	hostile cd-diff '.published = {}'
	[ "$(jq -r .action <<< "$VALID_OUT" | xargs)" = "build build build" ]
}

@test "hostile input: cd-build (nothing built from an invalid record)" {
	hostile cd-build . --output out --cache cache
	[ "$(jq -r '.layout | split("/") | .[-2:] | join("-")' <<< "$VALID_OUT" | xargs)" = "loop-v1 loop-v3 loop-v13" ]
	[ "$(cd out && ls -d */* | tr / - | xargs)" = "loop-v1 loop-v10 loop-v13 loop-v3" ]
}

@test "hostile input: cd-push (nothing pushed from an invalid record)" {
	hostile cd-push '.action = "skip"' --dry-run=false --target-registry "$REGISTRY/containerdisks"
	[ "$(jq -r .action <<< "$VALID_OUT" | xargs)" = "skip skip skip" ]
	[ "$(grep -c ' "PUT \| "POST ' "$REGISTRY_LOG")" -eq 0 ]
}

@test "hostile input: cd-verify" {
	hostile cd-verify .
	[ "$(jq -r .verified <<< "$VALID_OUT" | xargs)" = "null null null" ]
}

@test "hostile input: cd-promote (nothing promoted from an invalid record)" {
	hostile cd-promote . --dry-run=false --source-registry "$REGISTRY" --target-registry "$REGISTRY/prod"
	[ "$(jq -r .promoted <<< "$VALID_OUT" | xargs)" = "null null null" ]
	[ "$(grep -c ' "PUT \| "POST ' "$REGISTRY_LOG")" -eq 0 ]
}
