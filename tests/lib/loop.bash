# Helpers for the record-loop tests:  load lib/loop  (it loads lib/registry
# and lib/upstream)
#
# Every tool's record loop must give as many records out as went in, in
# the input order, each record the tool failed with its error and one
# stderr line "cd-X: name:version[ arch]: message", whatever -j says.

load lib/registry
load lib/upstream

# loop_servers_start: the servers every stage needs to run, for the files
# that run them all: the tiny upstream (upstream_start tiny) and a plain
# registry.
loop_servers_start() {
	upstream_start tiny || return 1
	registry_start plain
}

LOOP_N=160

# loop_version I: the version of the I-th record (1-based), "v001".
loop_version() { printf 'v%03d' "$1"; }

# loop_ids FILE: name:version of every record, one a line.
loop_ids() { jq -r '"\(.name):\(.version)"' "$1"; }

# loop_check TOOL IN WANT_FAILED: after `run --separate-stderr TOOL ... < IN`:
# the records of $output are those of IN, in order; those TOOL failed are
# exactly WANT_FAILED (line numbers, space-separated); stderr says each of
# them once, in order, as the record loop prints it.
loop_check() {
	local tool=$1 in=$2 want=$3 got
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/loop.out"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/loop.out")" -eq "$(wc -l < "$in")" ]
	diff -u <(loop_ids "$in") <(loop_ids "$BATS_TEST_TMPDIR/loop.out")
	got=$(jq -rs --arg t "$tool" 'to_entries[] | select(.value.error.tool == $t) | .key + 1' "$BATS_TEST_TMPDIR/loop.out" | xargs)
	[ "$got" = "$want" ] || { echo "failed records: got '$got', want '$want'"; sed -n 2p "$BATS_TEST_TMPDIR/loop.out"; return 1; }
	jq -r --arg t "$tool" 'select(.error.tool == $t) |
		"\($t): \(.name):\(.version)\(if .error.arch then " " + .error.arch else "" end): \(.error.message)"' \
		"$BATS_TEST_TMPDIR/loop.out" > "$BATS_TEST_TMPDIR/loop.want-stderr"
	diff -u "$BATS_TEST_TMPDIR/loop.want-stderr" <(grep -F -x -f "$BATS_TEST_TMPDIR/loop.want-stderr" <<< "$stderr")
}

# loop_message LINE: the error message of the LINE-th output record.
loop_message() { sed -n "$1p" "$BATS_TEST_TMPDIR/loop.out" | jq -r .error.message; }
