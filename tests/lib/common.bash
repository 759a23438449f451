# Shared set-up for cdkit's bats files:  load lib/common
#
# Puts the freshly built tools first on PATH, gives each test file a
# scratch folder, and starts/stops loopback servers by PID (never by name).

CDKIT_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
CDKIT_BIN="${CDKIT_BIN:-$CDKIT_ROOT/bin}"
export PATH="$CDKIT_BIN:$PATH"
export CD_RETRY_BASE_MS="${CD_RETRY_BASE_MS:-50}"
# Fixtures shipped with the brief sit beside the checkout (../shared); CI
# gets a copy there too.  CDKIT_SHARED overrides.
CDKIT_SHARED="${CDKIT_SHARED:-$(cd "$CDKIT_ROOT/../shared" 2>/dev/null && pwd)}"
FIXTURES="$CDKIT_ROOT/tests/fixtures"
unset CD_MIRRORS REGISTRY_AUTH_FILE

# httpd_start ROOT [RULES]: serve ROOT on 127.0.0.1; sets HTTPD_PORT, HTTPD_URL,
# HTTPD_PID, HTTPD_LOG.  Call from setup_file or setup.
httpd_start() {
	local root=$1 rules=${2:-$BATS_FILE_TMPDIR/httpd-rules.json}
	local pf="$BATS_FILE_TMPDIR/httpd.port.$$.$RANDOM"
	HTTPD_LOG="$BATS_FILE_TMPDIR/httpd.log"
	HTTPD_RULES=$rules
	python3 "$CDKIT_ROOT/tests/lib/httpd.py" --root "$root" --port-file "$pf" \
		--log "$HTTPD_LOG" --rules "$rules" "${@:3}" &
	HTTPD_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	HTTPD_PORT=$(cat "$pf")
	HTTPD_URL="http://127.0.0.1:$HTTPD_PORT"
	export HTTPD_PORT HTTPD_URL HTTPD_PID HTTPD_LOG HTTPD_RULES
}

httpd_stop() {
	[ -n "${HTTPD_PID:-}" ] && kill "$HTTPD_PID" 2>/dev/null && wait "$HTTPD_PID" 2>/dev/null
	HTTPD_PID=
	return 0
}

# rules 'JSON': replace the server's fault rules.
rules() {
	printf '%s\n' "$1" > "$HTTPD_RULES.tmp" && mv "$HTTPD_RULES.tmp" "$HTTPD_RULES"
}

# Compare two NDJSON streams field-for-field (key order ignored).
assert_records() {
	local got=$1 want=$2
	diff -u <(jq -cS . < "$want") <(jq -cS . < "$got")
}
