#!/usr/bin/env bats
# Secrets, for every registry tool and every way of giving credentials
# (--creds, an auth.json, and the bearer tokens the issuer hands out for
# them): nothing secret in stdout, stderr (with -v), the records or
# /proc/PID/cmdline (read while the tool waits on a slow registry), and no
# credential sent to a host the command line does not name.
#
# The registry (token auth) is reached through tests/lib/regproxy.py
# ($PROXY), which holds the first request of a run for two seconds so that
# the test can read the tool's command line.  A second proxy ($OTHER, another
# port: another host) stands for a host a tampered record names; it answers
# every request with a Basic challenge and logs the Authorization headers it
# gets: it must get none.

bats_require_minimum_version 1.5.0
load lib/cd-build
load lib/registry

setup_file() {
	upstream_start random a.qcow2 1M
	registry_start token fixtures
	regproxy_start
	regproxy_start OTHER
	proxy_rules '[{"path":"/v2/*","status":401,"body":"","headers":{"WWW-Authenticate":"Basic realm=\"other\""}}]' OTHER
	export B64
	B64=$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASS" | base64 -w0)
	# an auth file for the registry as the tools reach it (not for $OTHER)
	export AUTHFILE=$BATS_FILE_TMPDIR/auth.json
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$PROXY" "$B64" > "$AUTHFILE"
	mirror_args
	local t=$BATS_FILE_TMPDIR
	record secret 1 "$(artifact amd64 a.qcow2)" | jq -c '. + {latest: true}' |
		cd-build -q "${MIRROR_ARGS[@]}" --cache "$t/cache" --output "$t/out" > "$t/built.ndjson"
	# what cd-verify and cd-promote read: the image pushed and verified once
	cd-push -q --dry-run=false --authfile "$AUTHFILE" --target-registry "$PROXY/containerdisks" \
		< "$t/built.ndjson" > "$t/pushed.ndjson"
	cd-verify -q --authfile "$AUTHFILE" < "$t/pushed.ndjson" > "$t/verified.ndjson"
	[ "$(jq -r .verified.ok "$t/verified.ndjson")" = true ]
	echo 0 > "$t/rule.count"
}

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	no_machine_creds
	: > "$TOKEN_ISSUED"
	: > "$OTHER_AUTHLOG"
	WATCHED=
}

teardown() {
	if [ -n "${WATCHED:-}" ]; then
		kill "$WATCHED" 2>/dev/null || true
	fi
}

# use_creds WAY: c, the flags that give the credentials that way; the logs
# the checks read (the tokens issued, what the other host got) emptied.
use_creds() {
	: > "$TOKEN_ISSUED"
	: > "$OTHER_AUTHLOG"
	case $1 in
	creds) c=(--creds "$REGISTRY_USER:$REGISTRY_PASS") ;;
	authfile) c=(--authfile "$AUTHFILE") ;;
	esac
}

# with_tampered FILE: FILE's records, then a copy of them named "tampered"
# whose pushed.repository is on $OTHER.
with_tampered() {
	cat "$1"
	jq -c --arg o "$OTHER" '.name = "tampered" | .pushed.repository |= sub("^[^/]+"; $o)' "$1"
}

# watched NAME IN TOOL ARGS...: run the tool in the background on IN, the
# proxy holding its first registry request for 2 s; once that request has
# arrived (so the options were parsed), copy /proc/PID/cmdline to
# NAME.cmdline; then wait: NAME.out, NAME.err, $STATUS.
watched() {
	local name=$1 in=$2 n
	shift 2
	# "times" counts per rule index for the proxy's life: a fresh index each run
	n=$(($(cat "$BATS_FILE_TMPDIR/rule.count") + 1))
	echo "$n" > "$BATS_FILE_TMPDIR/rule.count"
	proxy_rules "$(jq -cn --argjson n "$n" '[range($n) | {path: "/none"}] + [{path: "/v2/*", delay: 2, times: 1}]')"
	: > "$PROXY_LOG"
	"$@" < "$in" > "$name.out" 2> "$name.err" &
	WATCHED=$!
	wait_until 10 grep -q ' delay$' "$PROXY_LOG" # the tool is talking to the registry
	tr '\0' ' ' < "/proc/$WATCHED/cmdline" > "$name.cmdline"
	grep -q -- "$1" "$name.cmdline" # it is the tool's
	finish
}

# finish: wait for $WATCHED, 60 s at most (no `timeout`: its own command
# line would hold the password); $STATUS.
finish() {
	wait_until 60 pid_gone "$WATCHED" || true
	kill "$WATCHED" 2>/dev/null || true # a hang ends here, and fails the test
	STATUS=0
	wait "$WATCHED" || STATUS=$?
	WATCHED=
}

# flag_shows_no_password TOOL ARGS... FLAG: FLAG given "user:password@registry/org"
# is a usage error whose message shows no password.
flag_shows_no_password() {
	local bad="$REGISTRY_USER:$REGISTRY_PASS@$REGISTRY/containerdisks" flag=${*: -1}
	run --separate-stderr -2 "${@:1:$#-1}" "$flag" "$bad" < /dev/null
	[ "${stderr%%$'\n'*}" = "$1: ${FLAG_PREFIX-$flag: }invalid reference '***@$REGISTRY/containerdisks': malformed digest" ]
	[[ "$stderr" != *"$REGISTRY_PASS"* ]]
}

# no_secret FILE...: none holds the password, the Basic credentials or a token issued.
no_secret() {
	local f t
	[ -s "$TOKEN_ISSUED" ] # tokens were issued: the check below means something
	for f in "$@"; do
		! grep -qF -- "$REGISTRY_PASS" "$f" || { echo "password in $f" >&2; return 1; }
		! grep -qF -- "$B64" "$f" || { echo "basic credentials in $f" >&2; return 1; }
		while read -r t; do
			! grep -qF -- "$t" "$f" || { echo "a token in $f" >&2; return 1; }
			! grep -qF -- "${t##*.}" "$f" || { echo "a token signature in $f" >&2; return 1; }
		done < "$TOKEN_ISSUED"
	done
}

# other_got_nothing: the other host received no Authorization header at all.
other_got_nothing() {
	! grep -v ' -$' "$OTHER_AUTHLOG"
}

fedora() {
	echo '{"name":"fedora","version":"41","artifacts":[{"arch":"amd64","url":"https://upstream.example/f41.x86_64.qcow2"},{"arch":"arm64","url":"https://upstream.example/f41.aarch64.qcow2"}]}'
}

@test "secrets: cd-current, with --creds and with an auth file" {
	local way
	fedora > in.ndjson
	for way in creds authfile; do
		use_creds "$way"
		watched "$way" in.ndjson cd-current -v "${c[@]}" --source-registry "$PROXY/containerdisks"
		[ "$STATUS" -eq 0 ]
		[ "$(jq -r .published.arm64.shasum "$way.out")" = "$(fixture_sum fedora 41 arm64)" ]
		no_secret "$way.out" "$way.err" "$way.cmdline"
	done
	grep -q "^GET repository:containerdisks/fedora:pull $REGISTRY_USER 200$" "$TOKEN_LOG"
	FLAG_PREFIX= flag_shows_no_password cd-current --source-registry
}

@test "secrets: cd-push, with --creds and with an auth file" {
	local way
	for way in creds authfile; do
		use_creds "$way"
		watched "$way" "$BATS_FILE_TMPDIR/built.ndjson" cd-push -v --dry-run=false "${c[@]}" \
			--target-registry "$PROXY/push-$way"
		[ "$STATUS" -eq 0 ]
		[ "$(jq -r .pushed.repository "$way.out")" = "$PROXY/push-$way/secret" ]
		no_secret "$way.out" "$way.err" "$way.cmdline"
	done
	flag_shows_no_password cd-push --target-registry
	flag_shows_no_password cd-push --target-registry "$REGISTRY/x" --source-registry
}

@test "secrets: cd-verify sends no credential to a host a tampered record names, and shows none" {
	local way
	for way in creds authfile; do
		use_creds "$way"
		[ "$way" = authfile ] || c+=(--registry "$PROXY")
		with_tampered "$BATS_FILE_TMPDIR/pushed.ndjson" > in.ndjson
		watched "$way" in.ndjson cd-verify -v -j 1 "${c[@]}"
		[ "$STATUS" -eq 1 ]
		[ "$(jq -r .verified.ok "$way.out" | paste -sd,)" = true,false ]
		[[ "$(jq -r 'select(.name == "tampered") | .error.message' "$way.out")" == "top: $OTHER/containerdisks/secret@sha256:"*": authentication required and no credentials found for '$OTHER': HTTP 401" ]]
		other_got_nothing
		[ -s "$OTHER_AUTHLOG" ] # it was asked, anonymously
		no_secret "$way.out" "$way.err" "$way.cmdline"
	done
	# -v says why the tampered record's host got no --creds
	grep -qF "cd-verify: debug: $OTHER: not a registry named on the command line: --creds are not sent there (anonymous)" creds.err
}

@test "secrets: cd-promote, with --creds and with an auth file; a tampered record is refused before any request" {
	local way
	for way in creds authfile; do
		use_creds "$way"
		with_tampered "$BATS_FILE_TMPDIR/verified.ndjson" > in.ndjson
		watched "$way" in.ndjson cd-promote -v --dry-run=false "${c[@]}" \
			--source-registry "$PROXY" --target-registry "$PROXY/prod-$way"
		[ "$STATUS" -eq 1 ]
		[ "$(jq -r 'select(.name == "secret") | .promoted.repository' "$way.out")" = "$PROXY/prod-$way/secret" ]
		[ "$(jq -r 'select(.name == "tampered") | .error.message' "$way.out")" = "pushed.repository is on $OTHER, --source-registry is $PROXY" ]
		[ ! -s "$OTHER_AUTHLOG" ]
		no_secret "$way.out" "$way.err" "$way.cmdline"
	done
	flag_shows_no_password cd-promote --target-registry "$REGISTRY/x" --source-registry
	flag_shows_no_password cd-promote --source-registry "$REGISTRY" --target-registry
}

@test "secrets: cd-verify --creds without --registry is refused: there is no host to send them to" {
	run --separate-stderr -2 cd-verify --creds "$REGISTRY_USER:$REGISTRY_PASS" < /dev/null
	[ "${stderr%%$'\n'*}" = "cd-verify: --creds needs --registry: the registry the credentials are for" ]
	[[ "$stderr" != *"$REGISTRY_PASS"* ]]
}

@test "secrets: a user:password in cd-verify's --registry, or in a record's pushed.repository, is never printed" {
	local bad="$REGISTRY_USER:$REGISTRY_PASS@$REGISTRY/containerdisks"
	run --separate-stderr -2 cd-verify --registry "$REGISTRY_USER:$REGISTRY_PASS@$REGISTRY" < /dev/null
	[ "${stderr%%$'\n'*}" = "cd-verify: --registry: invalid source registry '***@$REGISTRY': expected HOST[:PORT][/PATH]" ]
	[[ "$stderr" != *"$REGISTRY_PASS"* ]]
	# and in a record, where cd-verify and cd-promote read a repository
	local z=sha256:0000000000000000000000000000000000000000000000000000000000000000
	jq -cn --arg r "$bad/fedora" --arg z "$z" '{name: "fedora", version: "41", artifacts: [{arch: "amd64", url: "https://upstream.example/f41.qcow2", checksum: $z}],
		pushed: {repository: $r, digest: $z, tags: ["41"]}, verified: {ok: true, checks: []}}' > in.ndjson
	run --separate-stderr -1 cd-verify < in.ndjson
	[ "$(jq -r .error.message <<< "$output")" = "top: invalid reference '***@$REGISTRY/containerdisks/fedora': malformed digest" ]
	# (the record passes its own fields through: only what the tool adds counts)
	[[ "$(jq -c '[.error, .verified]' <<< "$output")$stderr" != *"$REGISTRY_PASS"* ]]
	run --separate-stderr -1 cd-promote --source-registry "$REGISTRY" --target-registry "$REGISTRY/x" < in.ndjson
	[ "$(jq -r .error.message <<< "$output")" = "pushed.repository '***@$REGISTRY/containerdisks/fedora' is not a repository" ]
	[[ "$(jq -c .error <<< "$output")$stderr" != *"$REGISTRY_PASS"* ]]
}

@test "secrets: a user:password in a --mirror URL is wiped from the command line and never printed" {
	local pw=M1rr0r-pa55 mirror
	mirror="https://upstream.example/img/=http://mirror-user:$pw@127.0.0.1:$HTTPD_PORT/"
	rules '[{"path": "/a.qcow2", "rate": 2}]'
	: > "$HTTPD_LOG"
	record secret 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	cd-build -v --mirror "$mirror" --timeout 3 --retries 0 --cache cache --output out < in.ndjson > out.ndjson 2> err.txt &
	WATCHED=$!
	wait_until 10 grep -q '^GET /a.qcow2 200' "$HTTPD_LOG" # the download has started, through the mirror
	tr '\0' ' ' < "/proc/$WATCHED/cmdline" > cmdline
	finish
	rules '[]'
	[ "$STATUS" -eq 1 ]
	grep -q -- '--mirror https://upstream.example/img/=http://' cmdline
	! grep -qF "$pw" cmdline
	[ "$(jq -r .error.message out.ndjson)" = "GET https://upstream.example/img/a.qcow2: timed out: under 1 KiB/s for 3 s" ]
	! grep -qF "$pw" out.ndjson err.txt
	# a malformed one is refused without showing it
	run --separate-stderr -2 cd-build --mirror "http://mirror-user:$pw@127.0.0.1:$HTTPD_PORT/" < /dev/null
	[ "${stderr%%$'\n'*}" = "cd-build: invalid mirror 'http://***@127.0.0.1:$HTTPD_PORT/': expected PREFIX=REPLACEMENT" ]
	run --separate-stderr -2 env CD_MIRRORS="http://mirror-user:$pw@127.0.0.1:$HTTPD_PORT/" cd-discover < /dev/null
	[[ "$stderr" == *"invalid mirror 'http://***@127.0.0.1:$HTTPD_PORT/'"* ]]
	[[ "$stderr" != *"$pw"* ]]
}
