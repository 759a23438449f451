#!/usr/bin/env bats
# pipelines/cdkit: its command line (help, usage errors, the commands not
# there yet) and `make install`.  (`cdkit sync --engine local`:
# cdkit-local.bats; Slurm: cdkit-slurm.bats; medius's images commands:
# cdkit-medius.bats.)

bats_require_minimum_version 1.5.0
load lib/cdkit

setup_file() {
	export MIRROR=$BATS_FILE_TMPDIR/mirror
	mkdir -p "$MIRROR"
	export REQUESTS=$BATS_FILE_TMPDIR/requests.ndjson
	# the mirror's server is Quay's API too (PUT and POST recorded in REQUESTS)
	httpd_start "$MIRROR" "$BATS_FILE_TMPDIR/httpd-rules.json" --requests "$REQUESTS"
	MIRRORS=$("$CDKIT_ROOT/pipelines/mkmirror" "$MIRROR" "$HTTPD_URL")
	export MIRRORS
}

teardown_file() { servers_stop; }

@test "cdkit --help lists the commands; every command has --help" {
	run -0 --separate-stderr cdkit --help
	local c
	for c in "images push" "images verify" "images promote" "docs publish" sync; do
		grep -qE "^  $c  " <<< "$output"
	done
	run -0 cdkit images push --help
	[[ $output == *"--dry-run[=BOOL]"*"--focus NAME:VERSION"*"--force"*"--no-fail"*"--source-registry R"*"(default quay.io/containerdisks)"*"--target-registry R"*"--insecure-skip-tls"*"--workers N"*"(default 1)"*"--results-file FILE"*"(default results.json)"* ]]
	run -0 cdkit images verify --help
	[[ $output == *"--registry R"*"(required)"*"--timeout SECONDS"*"(default 600)"*"--namespace, --kubeconfig, --master, --target-architecture"* ]]
	run -0 cdkit images promote --help
	[[ $output == *"--source-registry R"*"(required)"*"--target-registry R"*"(default quay.io/containerdisks)"* ]]
	run -0 cdkit sync --help
	[[ $output == *"--shards N"*"--engine local|slurm"*"--workdir DIR"* ]]
	run -0 cdkit docs publish --help
	[[ $output == *"--quay-token-file FILE"*"(required, as medius)"*"--registry quay.io/ORG"*"(default quay.io/containerdisks)"*"--dry-run[=BOOL]"* ]]
	# medius's global flags may come first
	run -0 cdkit --dry-run=false images push --help
	[ "${lines[0]}" = "usage: cdkit images push [flags]" ]
	run -0 cdkit images --help
	[ "$output" = "commands: 'cdkit images push' 'cdkit images verify' 'cdkit images promote'" ]
	run -0 cdkit --version
	[[ $output =~ ^cdkit\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "cdkit: an unknown flag or command, a bad value: one line, try --help, exit 2" {
	cd "$BATS_TEST_TMPDIR"
	run -2 --separate-stderr cdkit images push --bogus
	[ "$stderr" = "cdkit images push: unknown flag '--bogus' (try 'cdkit images push --help')" ]
	run -2 --separate-stderr cdkit images push -x
	[ "$stderr" = "cdkit images push: unknown flag '-x' (try 'cdkit images push --help')" ]
	run -2 --separate-stderr cdkit sync --dry-run=maybe
	[ "$stderr" = "cdkit sync: invalid argument 'maybe' for --dry-run: expected true or false (try 'cdkit sync --help')" ]
	run -2 --separate-stderr cdkit sync --engine k8s
	[ "$stderr" = "cdkit sync: invalid argument 'k8s' for --engine: expected local or slurm (try 'cdkit sync --help')" ]
	run -2 --separate-stderr cdkit sync --shards 0
	[ "$stderr" = "cdkit sync: invalid argument '0' for --shards: expected a whole number from 1 (try 'cdkit sync --help')" ]
	run -2 --separate-stderr cdkit images promote --workers
	[ "$stderr" = "cdkit images promote: flag needs an argument: --workers (try 'cdkit images promote --help')" ]
	run -2 --separate-stderr cdkit images push extra
	[ "$stderr" = "cdkit images push: unexpected argument 'extra' (try 'cdkit images push --help')" ]
	run -2 --separate-stderr cdkit imagez push
	[ "$stderr" = "cdkit: unknown command 'imagez push' (try 'cdkit --help')" ]
	run -2 --separate-stderr cdkit images
	[ "$stderr" = "cdkit images: a command is needed: 'cdkit images push' 'cdkit images verify' 'cdkit images promote' (try 'cdkit images --help')" ]
	run -2 --separate-stderr cdkit
	[[ $stderr == "usage: cdkit COMMAND [flags]"* ]]
	# Go's bool spellings are taken
	run -2 --separate-stderr cdkit images push --dry-run=F --focus=nosuch:1 --source-registry=127.0.0.1:1/x
	[[ $stderr == *"cd-discover: "*"nosuch:1"* ]]
	[[ $stderr == *"cdkit images push: cd-discover exited 2: stopped"* ]]
}

@test "cdkit docs publish: cd-discover | cd-docs with medius's flags, dry run unless --dry-run=false" {
	printf 'tok-%s\n' "$RANDOM" > "$BATS_TEST_TMPDIR/token"
	: > "$REQUESTS"
	run -2 --separate-stderr cdkit docs publish --dry-run=false
	[ "$stderr" = "cdkit docs publish: required flag \"quay-token-file\" not set (try 'cdkit docs publish --help')" ]
	run -0 --separate-stderr cdkit docs publish --quay-token-file="$BATS_TEST_TMPDIR/token" \
		--quay-api "$HTTPD_URL/api/v1" --focus='almalinux:*'
	[[ $stderr == *"cd-docs: almalinux: dry run: would PUT $HTTPD_URL/api/v1/repository/containerdisks/almalinux ("* ]]
	[ ! -s "$REQUESTS" ]
	run -0 --separate-stderr cdkit --dry-run=false docs publish --quay-token-file "$BATS_TEST_TMPDIR/token" \
		--registry=quay.io/myorg --quay-api "$HTTPD_URL/api/v1" --focus='almalinux:*' --focus='fedora:*'
	[ -z "$output" ]
	[ "$(jq -r '"\(.method) \(.path)"' "$REQUESTS" | tr '\n' ' ')" = "PUT /api/v1/repository/myorg/almalinux POST /api/v1/repository/myorg/almalinux/changevisibility PUT /api/v1/repository/myorg/fedora POST /api/v1/repository/myorg/fedora/changevisibility " ]
	# the newest stable almalinux (10), not the last listed (9) as medius
	jq -r 'select(.method == "PUT" and (.path | endswith("/almalinux"))) | .body | fromjson | .description' "$REQUESTS" |
		grep -qxF '            image: quay.io/myorg/almalinux:10'
	[ "$(jq -r .headers.authorization "$REQUESTS" | sort -u)" = "Bearer $(cat "$BATS_TEST_TMPDIR/token")" ]
}

@test "make install: cdkit in BINDIR beside the tools, its helpers in LIBEXECDIR" {
	local d=$BATS_TEST_TMPDIR/dest
	# the tools were built for PREFIX=/usr/local (make, in check): installed under /usr
	grep -q '/usr/local/share/cdkit' "$CDKIT_BIN/cd-discover"
	run -0 make -s -C "$CDKIT_ROOT" install DESTDIR="$d" PREFIX=/usr
	[ -x "$d/usr/bin/cdkit" ] && [ -x "$d/usr/bin/cd-report" ]
	[ -x "$d/usr/libexec/cdkit/shard-job" ] && [ -x "$d/usr/libexec/cdkit/plan-job" ]
	[ -x "$d/usr/libexec/cdkit/cdkit.sbatch" ]
	grep -q "^libexec='/usr/libexec/cdkit'" "$d/usr/bin/cdkit"
	# with DESTDIR the helpers are not where the script says: point it there
	sed -i "s|^libexec='/usr/libexec/cdkit'|libexec='$d/usr/libexec/cdkit'|" "$d/usr/bin/cdkit"
	run -2 --separate-stderr env -u CDKIT_BIN PATH=/usr/bin:/bin "$d/usr/bin/cdkit" sync --focus=nosuch:1 \
		--source-registry=127.0.0.1:1/x --workdir "$BATS_TEST_TMPDIR/w" --catalog "$d/usr/share/cdkit/catalog"
	# plan-job (libexec) ran cd-discover (bin)
	[[ $stderr == *"cd-discover: "*"nosuch:1"* ]]
	# the installed tools find the installed catalog (../share/cdkit beside
	# their real path), not the source tree's nor the compiled-in one's:
	# changed there, the installed cd-discover says so
	sed -i 's/"user": "debian"/"user": "installed-debian"/' "$d/usr/share/cdkit/catalog/debian.json"
	ln -s "$d/usr/bin/cd-discover" "$BATS_TEST_TMPDIR/cd-discover-link"
	run -0 --separate-stderr env CD_MIRRORS="$MIRRORS" "$BATS_TEST_TMPDIR/cd-discover-link" --focus debian:12
	[ "$(jq -r .user <<<"$output")" = installed-debian ]
	[ "$(jq -r '.artifacts[0].arch' <<<"$output")" = amd64 ]
	# and so does cd-docs, its templates
	[ -f "$d/usr/share/cdkit/catalog/docs/description.jq" ] && [ -f "$d/usr/share/cdkit/catalog/docs/fedora.md" ]
	printf '"installed \\(.name)\\n"\n' > "$d/usr/share/cdkit/catalog/docs/debian.jq"
	run -0 --separate-stderr "$d/usr/bin/cd-docs" --output "$BATS_TEST_TMPDIR/md" <<<"$(jq -c '.docs = true' <<<"$output")"
	[ "$(cat "$BATS_TEST_TMPDIR/md/debian.md")" = "installed debian" ]
	# every manual, rendered without a warning
	local page n=0
	for page in "$d"/usr/share/man/man1/*.1; do
		n=$((n + 1))
		run -0 --separate-stderr groff -ww -man -Tutf8 -z "$page"
		[ -z "$stderr" ]
	done
	[ "$n" -eq "$(ls "$CDKIT_ROOT"/man/*.1 | wc -l)" ] && [ "$n" -ge 11 ]
	run -0 make -s -C "$CDKIT_ROOT" uninstall DESTDIR="$d" PREFIX=/usr
	[ ! -e "$d/usr/bin/cdkit" ] && [ ! -e "$d/usr/libexec/cdkit" ] && [ ! -e "$d/usr/share/cdkit" ]
	[ -z "$(find "$d" -type f)" ]
}
