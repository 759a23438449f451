#!/usr/bin/env bats
# cd-shard: plan, pick, index and matrix through the real binary: the shards
# of a run together are its input, each record exactly once, with the
# variables every engine sets; usage errors; the fan-out of each engine.
# (tests/unit/test-shard.c sweeps every N from 1 to 256 through the library.)

bats_require_minimum_version 1.5.0
load lib/common

setup_file() {
	# a seeded, reproducible record set: 150 images, 0-3 artifacts, some sizes missing
	python3 - "$BATS_FILE_TMPDIR/records.ndjson" <<-'EOF'
	import json, random, sys
	rnd = random.Random(20260901)
	with open(sys.argv[1], "w") as f:
	    for i in range(150):
	        arts = []
	        for a in ["amd64", "arm64", "s390x"][:rnd.randrange(4)]:
	            art = {"arch": a, "url": "https://example.org/%d/%s.qcow2" % (i, a)}
	            if rnd.random() < 0.75:
	                art["size"] = rnd.randrange(100 << 20, 1 << 30)
	            arts.append(art)
	        f.write(json.dumps({"name": "img%03d" % rnd.randrange(1000), "version": "%d.%d" % (i, rnd.randrange(9)),
	                            "artifacts": arts}) + "\n")
	EOF
	jq -r '.name + ":" + .version' "$BATS_FILE_TMPDIR/records.ndjson" | sort > "$BATS_FILE_TMPDIR/keys"
}

# shard_env VARIANT I N: set vars to the variables an engine sets for job I
# of N (0-based I), exactly as the engine names them.
shard_env() {
	local v=$1 i=$2 n=$3
	case $v in
	slurm) vars=(SLURM_ARRAY_JOB_ID=77 "SLURM_ARRAY_TASK_ID=$i" "SLURM_ARRAY_TASK_COUNT=$n"
		SLURM_ARRAY_TASK_MIN=0 "SLURM_ARRAY_TASK_MAX=$((n - 1))") ;;
	gitlab) vars=("CI_NODE_TOTAL=$n"); [ "$n" -gt 1 ] && vars+=("CI_NODE_INDEX=$((i + 1))") ;;
	k8s) vars=("JOB_COMPLETION_INDEX=$i" "CD_SHARD_TOTAL=$n") ;;
	circleci) vars=("CIRCLE_NODE_INDEX=$i" "CIRCLE_NODE_TOTAL=$n") ;;
	buildkite) vars=("BUILDKITE_PARALLEL_JOB=$i" "BUILDKITE_PARALLEL_JOB_COUNT=$n") ;;
	cdkit|github) vars=("CD_SHARD_INDEX=$i" "CD_SHARD_TOTAL=$n") ;;
	esac
	return 0
}

# cover VARIANT N INPUT: run N pick jobs, each with only its engine's
# variables; fail unless their records together are INPUT, each once.
cover() {
	local v=$1 n=$2 in=$3 i out=$BATS_TEST_TMPDIR/cover.$1.$2 vars
	: > "$out"
	for ((i = 0; i < n; i++)); do
		if [ "$v" = flags ]; then
			env -i PATH="$PATH" cd-shard pick --index "$i" --total "$n" < "$in" >> "$out" || return 1
		else
			shard_env "$v" "$i" "$n"
			env -i PATH="$PATH" "${vars[@]}" cd-shard pick < "$in" >> "$out" || return 1
		fi
	done
	jq -r '.name + ":" + .version' "$out" | sort | cmp -s - "$BATS_FILE_TMPDIR/keys" || {
		echo "$v, $n shards: the shards are not the input once" >&2
		jq -r '.name + ":" + .version' "$out" | sort | diff "$BATS_FILE_TMPDIR/keys" - | head >&2
		return 1
	}
	# every kept record names the total
	[ "$(jq -c "select(.shard.total != $n)" "$out" | wc -l)" = 0 ]
}

@test "pick: the shards together are the input, each record once, for every engine's variables" {
	local v n
	for v in flags cdkit github slurm gitlab k8s circleci buildkite; do
		for n in 1 2 3 5 8 13; do
			cover "$v" "$n" "$BATS_FILE_TMPDIR/records.ndjson"
		done
	done
	# many jobs: GitLab's 1-based index and plain flags
	cover gitlab 100 "$BATS_FILE_TMPDIR/records.ndjson"
	cover flags 100 "$BATS_FILE_TMPDIR/records.ndjson"
}

@test "pick: a planned input (plan, then pick) and an unplanned one give the same shards" {
	local i
	cd-shard plan --shards 5 < "$BATS_FILE_TMPDIR/records.ndjson" > "$BATS_TEST_TMPDIR/planned"
	for i in 0 1 2 3 4; do
		cd-shard pick --index "$i" --total 5 < "$BATS_TEST_TMPDIR/planned" > "$BATS_TEST_TMPDIR/a.$i"
		cd-shard pick --index "$i" --total 5 < "$BATS_FILE_TMPDIR/records.ndjson" > "$BATS_TEST_TMPDIR/b.$i"
		cmp "$BATS_TEST_TMPDIR/a.$i" "$BATS_TEST_TMPDIR/b.$i"
	done
	# a plan for another total is planned again: still every record once
	cover gitlab 3 "$BATS_TEST_TMPDIR/planned"
}

@test "pick: a hand-edited plan is followed, not replanned" {
	cd-shard plan --shards 2 < "$BATS_FILE_TMPDIR/records.ndjson" |
		jq -c '.shard.index = (if .name == "img000" or (.version | startswith("1.")) then 1 else 0 end)' \
		> "$BATS_TEST_TMPDIR/edited"
	run -0 cd-shard pick --index 1 --total 2 < "$BATS_TEST_TMPDIR/edited"
	[ "$(printf '%s\n' "$output" | jq -s 'map(select(.version | startswith("1."))) | length')" = \
		"$(jq -s 'map(select(.version | startswith("1."))) | length' "$BATS_FILE_TMPDIR/records.ndjson")" ]
}

@test "plan: every record gets a shard, in input order, the same plan every time" {
	run -0 --separate-stderr cd-shard plan --shards 4 < "$BATS_FILE_TMPDIR/records.ndjson"
	[ -z "$stderr" ]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/p1"
	diff <(jq -c 'del(.shard)' "$BATS_TEST_TMPDIR/p1") <(jq -c . "$BATS_FILE_TMPDIR/records.ndjson")
	[ "$(jq -c '.shard | select(.total != 4 or .index < 0 or .index > 3)' "$BATS_TEST_TMPDIR/p1" | wc -l)" = 0 ]
	cd-shard plan --shards 4 < "$BATS_FILE_TMPDIR/records.ndjson" | cmp - "$BATS_TEST_TMPDIR/p1"
	# independent of input order
	tac "$BATS_FILE_TMPDIR/records.ndjson" | cd-shard plan --shards 4 | tac | cmp - "$BATS_TEST_TMPDIR/p1"
	for s in balanced stable; do
		cd-shard plan --shards 4 --strategy $s < "$BATS_FILE_TMPDIR/records.ndjson" | jq -e -s 'length == 150' >/dev/null
	done
}

@test "plan --weights: seconds from a timings file, the file's median for images it does not name" {
	local in=$BATS_TEST_TMPDIR/in
	printf '%s\n' '{"name":"a","version":"1"}' '{"name":"b","version":"1"}' '{"name":"c","version":"1"}' \
		'{"name":"d","version":"1"}' > "$in"
	echo '{"a:1": 100, "b:1": 60, "c:1": 40}' > "$BATS_TEST_TMPDIR/t.json"
	run -0 cd-shard plan --shards 2 --weights "$BATS_TEST_TMPDIR/t.json" < "$in"
	# d weighs the median, 60: the best split of 100 60 60 40 is 140 | 120
	printf '%s\n' "$output" | jq -s -e '
		{"a:1":100,"b:1":60,"c:1":40,"d:1":60} as $w
		| group_by(.shard.index) | map(map($w[.name + ":" + .version]) | add) | max == 140' >/dev/null
	run -0 cd-shard plan --shards 2 --weights "$BATS_TEST_TMPDIR/t.json" --default-weight 0 < "$in"
	printf '%s\n' "$output" | jq -s -e '
		{"a:1":100,"b:1":60,"c:1":40,"d:1":0} as $w
		| group_by(.shard.index) | map(map($w[.name + ":" + .version]) | add) | max == 100' >/dev/null
}

@test "plan: artifact sizes weigh, an artifact without one counts --default-weight bytes" {
	local in=$BATS_TEST_TMPDIR/in
	printf '%s\n' '{"name":"big","version":"1","artifacts":[{"size":900},{"size":900}]}' \
		'{"name":"s1","version":"1","artifacts":[{"size":600}]}' \
		'{"name":"s2","version":"1","artifacts":[{"size":600}]}' \
		'{"name":"s3","version":"1","artifacts":[{"arch":"amd64"}]}' > "$in"
	run -0 cd-shard plan --shards 2 --default-weight 600 < "$in"
	# 1800 | 1800 is the only perfect split
	[ "$(printf '%s\n' "$output" | jq -s -c 'map(select(.name == "big")) | .[0].shard.index as $b | map(select(.shard.index == $b) | .name)')" = '["big"]' ]
	run -0 cd-shard plan --shards 2 --default-weight 2K < "$in"
	[ "$(printf '%s\n' "$output" | jq -s -c 'map(select(.name == "s3")) | .[0].shard.index as $b | map(select(.shard.index == $b) | .name)')" = '["s3"]' ]
}

@test "pick -v: says which variables gave the index and the total" {
	run -0 --separate-stderr env CI_NODE_INDEX=2 CI_NODE_TOTAL=3 cd-shard pick -v < "$BATS_FILE_TMPDIR/records.ndjson"
	[[ $stderr == *"index from CI_NODE_INDEX=2 (1-based) (GitLab CI), total from CI_NODE_TOTAL=3"* ]]
	[[ $stderr == *"shard 1 of 3"* ]]
	run -0 --separate-stderr env JOB_COMPLETION_INDEX=1 cd-shard pick -v --total 2 < "$BATS_FILE_TMPDIR/records.ndjson"
	[[ $stderr == *"index from JOB_COMPLETION_INDEX=1 (Kubernetes), total from --total 2"* ]]
	run -0 --separate-stderr env SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=5 \
		cd-shard index -v
	[ "$output" = "2 4" ]
	[[ $stderr == *"SLURM_ARRAY_TASK_ID=7 - SLURM_ARRAY_TASK_MIN=5"* ]]
	run -0 env CD_SHARD_INDEX=3 CD_SHARD_TOTAL=5 cd-shard index
	[ "$output" = "3 5" ]
	run -0 env CI_NODE_TOTAL=1 cd-shard index
	[ "$output" = "0 1" ]
}

@test "pick: missing, contradictory and out-of-range values are usage errors (exit 2)" {
	local r=$BATS_FILE_TMPDIR/records.ndjson
	run -2 --separate-stderr env -i PATH="$PATH" cd-shard pick < "$r"
	[ -z "$output" ]
	[[ $stderr == *"no shard index: give --index and --total"* ]]
	run -2 --separate-stderr env -i PATH="$PATH" JOB_COMPLETION_INDEX=0 cd-shard pick < "$r"
	[[ $stderr == *"JOB_COMPLETION_INDEX gives the index only; give --total or CD_SHARD_TOTAL"* ]]
	run -2 --separate-stderr env -i PATH="$PATH" CI_NODE_INDEX=0 CI_NODE_TOTAL=4 cd-shard pick < "$r"
	[[ $stderr == *"CI_NODE_INDEX=0: GitLab CI numbers its jobs from 1"* ]]
	run -2 --separate-stderr env -i PATH="$PATH" CI_NODE_INDEX=5 CI_NODE_TOTAL=4 cd-shard pick < "$r"
	[[ $stderr == *"shard index 4 (from CI_NODE_INDEX=5 (1-based) (GitLab CI)) out of range for 4 shards"* ]]
	run -2 --separate-stderr env -i PATH="$PATH" SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=4 \
		BUILDKITE_PARALLEL_JOB=2 BUILDKITE_PARALLEL_JOB_COUNT=4 cd-shard pick < "$r"
	[[ $stderr == *"contradictory shard variables"*"choose with --engine"* ]]
	run -0 env -i PATH="$PATH" SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=4 \
		BUILDKITE_PARALLEL_JOB=2 BUILDKITE_PARALLEL_JOB_COUNT=4 CD_SHARD_ENGINE=slurm cd-shard index
	[ "$output" = "1 4" ]
	run -2 --separate-stderr env -i PATH="$PATH" CI_NODE_INDEX=1 CI_NODE_TOTAL=3 cd-shard pick --total 4 < "$r"
	[[ $stderr == *"contradictory shard total: --total 4, but CI_NODE_TOTAL=3 says GitLab CI runs 3 jobs"* ]]
	run -2 --separate-stderr env -i PATH="$PATH" cd-shard pick --index 4 --total 4 < "$r"
	[[ $stderr == *"out of range for 4 shards"* ]]
	run -2 --separate-stderr env -i PATH="$PATH" CD_SHARD_INDEX=x CD_SHARD_TOTAL=2 cd-shard pick < "$r"
	[[ $stderr == *"CD_SHARD_INDEX='x' is not a number"* ]]
	run -2 --separate-stderr cd-shard pick --index 0 --total 0 < "$r"
	[[ $stderr == *"invalid value '0' for --total"* ]]
	run -2 --separate-stderr cd-shard pick --index 0 --total 2 --engine jenkins < "$r"
	[[ $stderr == *"unknown engine 'jenkins'"* ]]
}

@test "plan, pick, matrix: usage errors, --help for each command" {
	run -2 --separate-stderr cd-shard
	[[ $stderr == *"a command is required"* ]]
	run -2 --separate-stderr cd-shard split
	[[ $stderr == *"unknown command 'split'"* ]]
	run -2 --separate-stderr cd-shard plan < /dev/null
	[[ $stderr == *"--shards N is required"* ]]
	run -2 --separate-stderr cd-shard plan --shards 4097 < /dev/null
	run -2 --separate-stderr cd-shard plan --shards 2 --strategy random < /dev/null
	[[ $stderr == *"unknown strategy 'random'"* ]]
	run -2 --separate-stderr cd-shard plan --shards 2 --weights /nonexistent < /dev/null
	[[ $stderr == *"--weights: cannot open '/nonexistent'"* ]]
	echo '{"a:1": "fast"}' > "$BATS_TEST_TMPDIR/bad.json"
	run -2 --separate-stderr cd-shard plan --shards 2 --weights "$BATS_TEST_TMPDIR/bad.json" < /dev/null
	[[ $stderr == *"'a:1': expected a number of seconds"* ]]
	run -2 --separate-stderr cd-shard plan --shards 2 --default-weight 12Q < /dev/null
	run -2 --separate-stderr cd-shard matrix --shards 2
	[[ $stderr == *"--format github|gitlab|k8s|slurm is required"* ]]
	run -2 --separate-stderr cd-shard matrix --shards 2 --format jenkins
	local c
	for c in plan pick index matrix; do
		run -0 cd-shard "$c" --help
		[[ $output == "usage: cd-shard $c"* ]]
	done
	run -0 cd-shard --help
	[[ $output == *"cd-shard COMMAND --help"* ]]
}

@test "plan, pick: a malformed line is named and skipped in every job, exit 3" {
	{ head -3 "$BATS_FILE_TMPDIR/records.ndjson"; echo '{not json'; tail -2 "$BATS_FILE_TMPDIR/records.ndjson"; } \
		> "$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr cd-shard plan --shards 2 < "$BATS_TEST_TMPDIR/in"
	[[ $stderr == *"stdin:4: malformed record, skipped"* ]]
	[ "$(printf '%s\n' "$output" | wc -l)" = 5 ]
	run -3 --separate-stderr cd-shard pick --index 0 --total 1 < "$BATS_TEST_TMPDIR/in"
	[ "$(printf '%s\n' "$output" | wc -l)" = 5 ]
}

@test "matrix: each engine's fan-out" {
	run -0 cd-shard matrix --shards 3 --format github
	[ "$output" = '{"include":[{"index":0,"total":3},{"index":1,"total":3},{"index":2,"total":3}]}' ]
	run -0 cd-shard matrix --shards 4 --format gitlab
	[ "$output" = "$(printf 'cdkit-shard:\n  extends: .cdkit-shard\n  parallel: 4')" ]
	run -0 cd-shard matrix --shards 4 --format slurm --script job.sbatch
	[ "${lines[0]}" = 'jobid=$(sbatch --parsable --array=0-3 job.sbatch shard)' ]
	[ "${lines[1]}" = 'sbatch --parsable --dependency=afterany:"$jobid" job.sbatch report' ]
	run -0 cd-shard matrix --shards 6 --format k8s --image registry.example/cdkit:1
	[[ $output == *"completionMode: Indexed"*"completions: 6"*"parallelism: 6"*"image: registry.example/cdkit:1"* ]]
	run -1 --separate-stderr cd-shard matrix --shards 257 --format github
	[[ $stderr == *"at most 256 jobs a matrix"* ]]
	run -1 --separate-stderr cd-shard matrix --shards 201 --format gitlab
	[[ $stderr == *"at most 200 jobs"* ]]
}
