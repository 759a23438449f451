#!/usr/bin/env bats
# The manuals (man/*.1): one per tool and for cdkit, each agreeing with
# --help (every option in --help is in the page's OPTIONS and the other way
# round; cdkit and cd-shard per command), each rendered by groff with every
# warning on and none given.  `make install` puts them in MANDIR/man1
# (tests/cdkit.bats renders the installed ones).

bats_require_minimum_version 1.5.0
load lib/common

TOOLS=(cd-discover cd-current cd-diff cd-build cd-push cd-verify cd-promote cd-shard cd-report cd-docs)

# agree NAME SECTION CMD...: CMD --help and the page's SECTION list the same options
agree() {
	local name=$1 section=$2
	shift 2
	run -0 "$@" --help
	printf '%s\n' "$output" | "$CDKIT_ROOT/tests/lib/man-options" help > help.txt
	"$CDKIT_ROOT/tests/lib/man-options" man "$CDKIT_ROOT/man/$name.1" "$section" > man.txt
	[ -s help.txt ] # the parser found options: the comparison is not empty on both sides
	diff -u --label "$* --help" --label "man/$name.1 ${section:-OPTIONS}" help.txt man.txt
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "a page for every tool and for cdkit, and no other" {
	local t want=()
	for t in "$CDKIT_ROOT"/tools/cd-*.c "$CDKIT_ROOT"/shard/cd-*.c; do
		want+=("$(basename "$t" .c).1")
	done
	want+=(cdkit.1)
	[ "$(ls "$CDKIT_ROOT/man" | sort | tr '\n' ' ')" = "$(printf '%s\n' "${want[@]}" | sort | tr '\n' ' ')" ]
	[ "${#want[@]}" -eq 11 ]
}

@test "every tool's --help and its page list the same options" {
	local t
	for t in "${TOOLS[@]}"; do
		[ "$t" = cd-shard ] && continue
		agree "$t" "" "$t"
		grep -qx -- --help help.txt
	done
}

@test "cd-shard: each command's --help and its section of the page list the same options" {
	local c
	for c in plan pick index matrix; do
		agree cd-shard "cd-shard $c" cd-shard "$c"
	done
}

@test "cdkit: each command's --help and its section of the page list the same options" {
	local c
	for c in "images push" "images verify" "images promote" "docs publish" sync; do
		# shellcheck disable=SC2086
		CDKIT_BIN=$CDKIT_BIN agree cdkit "cdkit $c" "$CDKIT_ROOT/pipelines/cdkit" $c
	done
}

@test "each page has its sections and renders with no groff warning" {
	local page s
	for page in "$CDKIT_ROOT"/man/*.1; do
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS RECORDS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
			grep -qx "\.SH \"\?$s\"\?" "$page"
		done
		run -0 --separate-stderr groff -ww -man -Tutf8 -z "$page"
		[ -z "$stderr" ]
		run -0 --separate-stderr env MANROFFOPT=-ww MANWIDTH=80 man -l "$page"
		[ -z "$stderr" ]
		[[ $output == *"EXIT STATUS"* ]]
	done
}
