# Shared set-up for cdkit's bats files:  load lib/common
#
# Puts the freshly built tools first on PATH, and starts and stops loopback
# servers by PID (never by name): httpd here, the registry and its proxies
# in lib/registry.  Every other module of tests/lib loads this one.

CDKIT_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
CDKIT_BIN="${CDKIT_BIN:-$CDKIT_ROOT/bin}"
export PATH="$CDKIT_BIN:$PATH"
export CD_RETRY_BASE_MS="${CD_RETRY_BASE_MS:-50}"
# Fixtures shipped with the brief sit beside the checkout (../shared); CI
# gets a copy there too.  CDKIT_SHARED overrides.
CDKIT_SHARED="${CDKIT_SHARED:-$(cd "$CDKIT_ROOT/../shared" 2>/dev/null && pwd)}"
FIXTURES="$CDKIT_ROOT/tests/fixtures"
unset CD_MIRRORS REGISTRY_AUTH_FILE

# wait_until SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds;
# 1 when it has not in SECONDS (a whole number).
wait_until() {
	local end=$((${EPOCHREALTIME//[.,]/} + $1 * 1000000))
	shift
	until "$@"; do
		((${EPOCHREALTIME//[.,]/} < end)) || return 1
		sleep 0.05
	done
}

# A free loopback port (a small race with other processes is retried by the caller).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Loopback servers.  Every server a test file starts (httpd, the registry,
# its token issuer, the proxies) is listed in $BATS_FILE_TMPDIR/servers, a
# line "PID START-TIME NAME" each, so that `servers_stop` in teardown_file
# (or teardown) stops all of them by PID, also those a test started in its
# own process (bats runs every test in a process of its own: its variables
# never reach teardown_file).  The start time, from /proc/PID/stat, keeps a
# PID the system has given to another process since from being taken for
# the server.
#
# server_start NAME PORT-FILE COMMAND...: start COMMAND, a server that
# writes the port it listens on to PORT-FILE once it listens (the servers of
# tests/lib/testserver.py do), in the background, its output to
# PORT-FILE.out; wait for the port.  Sets SERVER_PID and SERVER_PORT.  When
# the server ends before it wrote the port, or has not written it after
# SERVER_START_SECONDS (20), the server is stopped and server_start says so
# on stderr with the end of its output, and returns 1: no test runs against
# a server that is not there.
SERVER_START_SECONDS=${SERVER_START_SECONDS:-20}
server_start() {
	local name=$1 pf=$2 why rc=0
	shift 2
	rm -f "$pf" "$pf.out"
	"$@" > "$pf.out" 2>&1 3>&- &
	SERVER_PID=$!
	SERVER_PORT=
	server_track "$name" "$SERVER_PID"
	wait_until "$SERVER_START_SECONDS" _server_up_or_gone "$pf" "$SERVER_PID" || true
	if [ -s "$pf" ]; then
		SERVER_PORT=$(cat "$pf")
		return 0
	fi
	if server_alive "$SERVER_PID"; then
		why="no port in '$pf' after $SERVER_START_SECONDS s"
		server_stop "$SERVER_PID"
	else
		wait "$SERVER_PID" 2> /dev/null || rc=$?
		why="it exited with status $rc before it wrote its port to '$pf'"
		server_stop "$SERVER_PID"
	fi
	{
		echo "$name did not start: $why; its output ('$pf.out') ends:"
		tail -n 5 "$pf.out"
	} >&2
	SERVER_PID=
	return 1
}

_server_up_or_gone() { [ -s "$1" ] || ! server_alive "$2"; }

# _server_started PID: the process's start time, or 1 when there is no such
# process (or only its zombie).
_server_started() {
	local stat
	stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # the fields after the command name
	set -- $stat
	[ "$1" != Z ] || return 1
	echo "${20}"
}

# server_alive PID
server_alive() { _server_started "$1" > /dev/null; }

# server_track NAME PID: list a server started in the background (by a
# helper that does not use server_start) for servers_stop.
server_track() {
	local started
	started=$(_server_started "$2") || return 0
	echo "$2 $started $1" >> "$BATS_FILE_TMPDIR/servers"
}

# server_stop PID: stop that listed server (SIGTERM, SIGKILL after 5 s) and
# take it off the list; nothing when it has ended already.
server_stop() {
	local pid=${1:-} list=$BATS_FILE_TMPDIR/servers p started name
	[ -n "$pid" ] && [ -f "$list" ] || return 0
	while read -r p started name; do
		if [ "$p" = "$pid" ] && [ "$(_server_started "$p")" = "$started" ]; then
			pid_stop "$p"
		fi
	done < "$list"
	grep -v "^$pid " "$list" > "$list.new" || true
	mv "$list.new" "$list"
}

# servers_stop: stop every listed server, the last started first.
servers_stop() {
	local list=$BATS_FILE_TMPDIR/servers p started name
	[ -f "$list" ] || return 0
	while read -r p started name; do
		if [ "$(_server_started "$p")" = "$started" ]; then
			pid_stop "$p"
		fi
	done < <(tac "$list")
	rm -f "$list"
}

# pid_stop PID: SIGTERM, SIGKILL after 5 s; returns once the process is gone.
pid_stop() {
	kill "$1" 2> /dev/null || return 0
	if ! wait_until 5 pid_gone "$1"; then
		kill -9 "$1" 2> /dev/null || true
		wait_until 5 pid_gone "$1" || true
	fi
	wait "$1" 2> /dev/null || true # reap it when it is this shell's child
}

# pid_gone PID: no such process runs (any more).
pid_gone() { ! server_alive "$1"; }

# httpd_start ROOT [RULES [HTTPD-ARGS...]]: serve ROOT on 127.0.0.1
# (tests/lib/httpd.py); sets HTTPD_PORT, HTTPD_URL, HTTPD_PID, HTTPD_LOG
# (the requests), HTTPD_SENT_LOG (the bodies sent: "SENT PATH BYTES"),
# HTTPD_RULES.  Call from setup_file, setup or a test; fails when the
# server does not start.
httpd_start() {
	local root=$1 rules=${2:-$BATS_FILE_TMPDIR/httpd-rules.json}
	local pf="$BATS_FILE_TMPDIR/httpd.port.$$.$RANDOM"
	HTTPD_LOG="$BATS_FILE_TMPDIR/httpd.log"
	HTTPD_SENT_LOG="$BATS_FILE_TMPDIR/httpd.sent"
	HTTPD_RULES=$rules
	server_start httpd "$pf" python3 "$CDKIT_ROOT/tests/lib/httpd.py" --root "$root" --port-file "$pf" \
		--log "$HTTPD_LOG" --sent-log "$HTTPD_SENT_LOG" --rules "$rules" "${@:3}" || return 1
	HTTPD_PID=$SERVER_PID
	HTTPD_PORT=$SERVER_PORT
	HTTPD_URL="http://127.0.0.1:$HTTPD_PORT"
	export HTTPD_PORT HTTPD_URL HTTPD_PID HTTPD_LOG HTTPD_SENT_LOG HTTPD_RULES
}

httpd_stop() {
	server_stop "${HTTPD_PID:-}"
	HTTPD_PID=
}

# rules 'JSON': replace the server's fault rules.
rules() {
	printf '%s\n' "$1" > "$HTTPD_RULES.tmp" && mv "$HTTPD_RULES.tmp" "$HTTPD_RULES"
}

# help_and_version TOOL USAGE OPTION: TOOL --help prints "usage: USAGE" and
# OPTION, TOOL --version "TOOL (cdkit) ...", both on stdout with exit 0.
help_and_version() {
	run -0 "$1" --help
	[[ $output == *"usage: $2"* ]]
	[[ $output == *"$3"* ]]
	run -0 "$1" --version
	[[ $output == "$1 (cdkit) "* ]]
}

# Compare two NDJSON streams field-for-field (key order ignored).
assert_records() {
	local got=$1 want=$2
	diff -u <(jq -cS . < "$want") <(jq -cS . < "$got")
}
