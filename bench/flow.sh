# shellcheck shell=bash
# bench/flow.sh: the flow section of make bench (issue 13, part 3), sourced
# by bench/run, which provides need, ratio, target, $WORK, $ROOT.
#
# The whole nightly flow on the demo's scale: pipelines/mkmirror's local
# upstream (every catalog image, served by tests/lib/httpd.py, which logs
# each request) and the real registry (docker-registry, its access log on),
# as pipelines/local sets them up.  Measured, for pipelines/nightly:
#   the first run  (builds, pushes, verifies and promotes every image)
#   the no-op run  (nothing changed upstream: everything is up to date)
# each with wall time, CPU time (user+sys of every tool: /usr/bin/time on
# the pipeline counts every process it waited for; the two servers' own
# CPU is shown apart), registry requests (access-log lines), of which
# writes, and upstream requests (the mirror's log; distinct paths too).
# Then the same for `cdkit sync --shards 1` and `--shards 4 --engine local`
# (into organisations of their own), when pipelines/cdkit exists.
# Targets: no-op registry requests per image <= 1.0; total CPU of 4 shards
# against 1 within 10% (<= 1.10), on the first run and on the no-op run.

FLOW_DIR=
FLOW_PIDS=()
FLOW_REG=
declare -A F # figures, by "LABEL/what"

flow_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

flow_stop() {
	local p
	for p in "${FLOW_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${FLOW_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	FLOW_PIDS=()
}

# The mirror and the registry, as pipelines/local starts them, logs on.
flow_start() {
	local port
	FLOW_DIR=$WORK/flow
	rm -rf "$FLOW_DIR" && mkdir -p "$FLOW_DIR/upstream" "$FLOW_DIR/registry"
	python3 "$ROOT/tests/lib/httpd.py" --root "$FLOW_DIR/upstream" --port-file "$FLOW_DIR/httpd.port" \
		--log "$FLOW_DIR/httpd.log" &
	FLOW_PIDS+=($!)
	for _ in $(seq 200); do [ -s "$FLOW_DIR/httpd.port" ] && break; sleep 0.05; done
	[ -s "$FLOW_DIR/httpd.port" ] || { echo "bench: the mirror's httpd did not start" >&2; return 1; }
	CD_MIRRORS=$("$ROOT/pipelines/mkmirror" "$FLOW_DIR/upstream" "http://127.0.0.1:$(cat "$FLOW_DIR/httpd.port")")
	export CD_MIRRORS
	: >"$FLOW_DIR/httpd.log"
	port=$(flow_port)
	cat >"$FLOW_DIR/registry.yml" <<-YML
	version: 0.1
	log: {level: error, accesslog: {disabled: false}}
	storage: {filesystem: {rootdirectory: $FLOW_DIR/registry}, delete: {enabled: true}}
	http: {addr: 127.0.0.1:$port, secret: cdkit-bench}
	YML
	docker-registry serve "$FLOW_DIR/registry.yml" >"$FLOW_DIR/registry.log" 2>&1 &
	FLOW_PIDS+=($!)
	FLOW_REG=127.0.0.1:$port
	for _ in $(seq 200); do curl -sf "http://$FLOW_REG/v2/" >/dev/null && break; sleep 0.05; done
	curl -sf "http://$FLOW_REG/v2/" >/dev/null || { echo "bench: the registry did not start" >&2; return 1; }
}

# CPU seconds (user+sys) the two servers have used so far.
flow_server_cpu() {
	local p t=0 f
	for p in "${FLOW_PIDS[@]}"; do
		# fields 14 and 15 of /proc/PID/stat, after the ")" that ends the name
		f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || f=0
		t=$((t + ${f:-0}))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# flow_measure LABEL RESULTS CMD...: run CMD (its output in $FLOW_DIR/LABEL.out),
# then F[LABEL/...] gets wall, cpu, the registry and upstream requests made
# meanwhile, and the images in RESULTS (an NDJSON file CMD writes).
flow_measure() {
	local label=$1 results=$2 r0 u0 s0 t0 t1 st=0
	shift 2
	r0=$(wc -l <"$FLOW_DIR/registry.log")
	u0=$(wc -l <"$FLOW_DIR/httpd.log")
	s0=$(flow_server_cpu)
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%U %S' -o "$FLOW_DIR/$label.time" "$@" >"$FLOW_DIR/$label.out" 2>"$FLOW_DIR/$label.err" || st=$?
	t1=$EPOCHREALTIME
	F[$label/status]=$st
	F[$label/wall]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	F[$label/cpu]=$(tail -n 1 "$FLOW_DIR/$label.time" | awk '{ printf "%.2f", $1 + $2 }')
	F[$label/srvcpu]=$(awk -v a="$s0" -v b="$(flow_server_cpu)" 'BEGIN { printf "%.2f", b - a }')
	tail -n "+$((r0 + 1))" "$FLOW_DIR/registry.log" | grep -E '"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2/' >"$FLOW_DIR/$label.reg" || true
	tail -n "+$((u0 + 1))" "$FLOW_DIR/httpd.log" >"$FLOW_DIR/$label.up"
	F[$label/reg]=$(wc -l <"$FLOW_DIR/$label.reg")
	F[$label/writes]=$(grep -cE '"(PUT|POST|PATCH|DELETE) /v2/' "$FLOW_DIR/$label.reg" || true)
	# cdkit's User-Agent names the tool: "cdkit/0.1.0 (cd-current)"
	F[$label/bytool]=$(sed -nE 's/.*"[^"]*\((cd-[a-z]+)\)"$/\1/p' "$FLOW_DIR/$label.reg" | sort | uniq -c |
		awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')
	F[$label/up]=$(wc -l <"$FLOW_DIR/$label.up")
	F[$label/updistinct]=$(awk '{ print $2 }' "$FLOW_DIR/$label.up" | sort -u | wc -l)
	F[$label/images]=$(jq -s 'length' "$results" 2>/dev/null || echo 0)
	F[$label/built]=$(jq -s 'map(select(.action == "build")) | length' "$results" 2>/dev/null || echo 0)
	F[$label/failed]=$(jq -s 'map(select(.error)) | length' "$results" 2>/dev/null || echo 0)
	if [ "$st" -ne 0 ]; then
		echo "bench: $label exited $st: $(tail -n 3 "$FLOW_DIR/$label.err")" >&2
	fi
}

flow_nightly() { # LABEL WORKDIR
	CD_PRODUCTION="$FLOW_REG/containerdisks" CD_STAGING="$FLOW_REG/staging" CD_DRY_RUN=false \
		CD_WORKERS=2 CD_WORKDIR="$2" flow_measure "$1" "$2/results.ndjson" "$ROOT/pipelines/nightly"
}

# cdkit sync into organisations of its own: sync-N (production), sync-N-staging.
flow_sync() { # LABEL SHARDS WORKDIR
	local d=$3
	mkdir -p "$d"
	flow_measure "$1" "$d/records.ndjson" bash -c '
		"$1/pipelines/cdkit" sync --shards "$2" --engine local --dry-run=false --workers 2 \
			--source-registry "$3/sync-$2" --target-registry "$3/sync-$2-staging" \
			--workdir "$4/work" --results-file "$4/results.json" || st=$?
		cat "$4"/work/records/*.ndjson > "$4/records.ndjson" 2>/dev/null
		exit "${st:-0}"' _ "$ROOT" "$2" "$FLOW_REG" "$d"
}

# The CPU of one shard job that has no records: start-up only (bash, cd-shard
# index and pick, the six stages, their tees).  The median of three runs.
flow_empty_shard() {
	local d=$FLOW_DIR/empty i c=()
	mkdir -p "$d" && : >"$d/plan.ndjson"
	for i in 1 2 3; do
		CD_PRODUCTION="$FLOW_REG/empty" CD_WORKDIR="$d/work" /usr/bin/time -f '%U %S' -o "$d/time" \
			"$ROOT/pipelines/shard-job" --plan "$d/plan.ndjson" --out-dir "$d/records" \
			--index 0 --total 4 >/dev/null 2>&1 || return 1
		c+=("$(awk '{ printf "%.3f", $1 + $2 }' "$d/time")")
	done
	printf '%s\n' "${c[@]}" | sort -n | sed -n 2p
}

# RATIO of (4 shards less 3 empty shard jobs) to 1 shard, for LABEL
flow_less_fixed() { # SYNC4-LABEL SYNC1-LABEL FIXED
	awk -v a="${F[$1/cpu]}" -v b="${F[$2/cpu]}" -v f="$3" \
		'BEGIN { if (b > 0) printf "%.2f s against %.2f s (%.2f)", a - 3 * f, b, (a - 3 * f) / b; else print "n/a" }'
}

flow_row() { # LABEL NAME
	local l=$1
	printf '  %-28s %7s %7s %7s %8s %7s %9s %8s %6s\n' "$2" "${F[$l/wall]}" "${F[$l/cpu]}" \
		"${F[$l/srvcpu]}" "${F[$l/reg]}" "${F[$l/writes]}" "${F[$l/up]}/${F[$l/updistinct]}" \
		"${F[$l/images]}/${F[$l/built]}" "${F[$l/failed]}"
}

flow_header() {
	printf '  %-28s %7s %7s %7s %8s %7s %9s %8s %6s\n' "" "wall s" "CPU s" "servers" \
		"registry" "writes" "upstream" "images" "failed"
	printf '  %-28s %7s %7s %7s %8s %7s %9s %8s %6s\n' "" "" "tools" "CPU s" "requests" "" \
		"req/paths" "/built" ""
}

bench_flow() {
	need docker-registry python3 jq curl
	local t
	for t in cd-discover cd-current cd-diff cd-build cd-push cd-verify cd-promote; do
		[ -x "$ROOT/bin/$t" ] || { echo "bench: flow needs bin/$t (make)" >&2; return 1; }
	done
	export PATH="$ROOT/bin:$PATH"
	trap 'flow_stop; rm -rf "$WORK"' EXIT
	flow_start || { flow_stop; return 1; }

	flow_nightly first "$FLOW_DIR/run1"
	flow_nightly noop "$FLOW_DIR/run2"

	echo
	echo "flow: pipelines/nightly on the demo's mirror and registry ($(nproc) CPUs, CD_WORKERS=2)"
	flow_header
	flow_row first "first run (builds all)"
	flow_row noop "no-op run"
	local per sharded=0
	per=$(awk -v r="${F[noop/reg]}" -v n="${F[noop/images]}" 'BEGIN { if (n > 0) printf "%.2f", r / n; else print "n/a" }')
	echo "  no-op run: ${F[noop/reg]} registry requests for ${F[noop/images]} images ($per per image)," \
		"${F[noop/writes]} writes (by tool: ${F[noop/bytool]:-none});" \
		"${F[noop/up]} upstream requests for ${F[noop/updistinct]} distinct paths"

	if [ -x "$ROOT/pipelines/cdkit" ]; then
		sharded=1
		flow_sync sync1-first 1 "$FLOW_DIR/sync1-first"
		flow_sync sync1-noop 1 "$FLOW_DIR/sync1-noop"
		flow_sync sync4-first 4 "$FLOW_DIR/sync4-first"
		flow_sync sync4-noop 4 "$FLOW_DIR/sync4-noop"
		echo
		echo "flow: cdkit sync --engine local --workers 2, one process against 4 shards"
		flow_header
		flow_row sync1-first "--shards 1, first run"
		flow_row sync1-noop "--shards 1, no-op run"
		flow_row sync4-first "--shards 4, first run"
		flow_row sync4-noop "--shards 4, no-op run"
		local fixed
		if fixed=$(flow_empty_shard); then
			echo "  a shard job with no records uses $fixed s of CPU (start-up only: bash, cd-shard, six stages" \
				"and their tees), so each shard past the first adds that much whatever the work;"
			echo "  4 shards less 3 such start-ups: first run $(flow_less_fixed sync4-first sync1-first "$fixed")," \
				"no-op run $(flow_less_fixed sync4-noop sync1-noop "$fixed")"
		fi
	else
		echo
		echo "flow: cdkit sync --shards 4 against --shards 1: skipped: no cdkit (pipelines/cdkit)"
	fi
	flow_stop
	trap 'rm -rf "$WORK"' EXIT

	echo
	echo "targets (issue 13, items 1 and 3):"
	target "no-op run: registry requests per image" "$per" 1.0
	if [ "$sharded" = 1 ]; then
		target "first run: CPU of --shards 4 vs --shards 1" \
			"$(ratio "${F[sync4-first/cpu]}" "${F[sync1-first/cpu]}")" 1.10
		target "no-op run: CPU of --shards 4 vs --shards 1" \
			"$(ratio "${F[sync4-noop/cpu]}" "${F[sync1-noop/cpu]}")" 1.10
	fi
}
