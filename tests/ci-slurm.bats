#!/usr/bin/env bats
# ci/slurm/cdkit.sbatch on a real Slurm cluster of one machine
# (tests/lib/slurm.bash): the plan, a real `sbatch --array` of shard jobs and
# a report job after them (--dependency=afterany), against a local registry
# and mirror.  One image's disk is missing from the mirror: its shard task
# fails, the others do not, the report still runs, names that image and
# fails; every other image is in the registry exactly once.

bats_require_minimum_version 1.5.0
load lib/registry
load lib/slurm
load lib/upstream

setup_file() {
	slurm_start || skip "$SLURM_SKIP"
	upstream_start mkmirror
	registry_start plain
}

teardown_file() { servers_stop; }

@test "slurm: sbatch --array of shard jobs, then the report job (afterany); one image fails alone" {
	local run=$BATS_TEST_TMPDIR/run jobid rep broken
	mkdir -p "$run"
	export CD_MIRRORS=$MIRRORS CD_RUN_DIR=$run CDKIT_HOME=$CDKIT_ROOT CD_SHARDS=4
	export CD_PRODUCTION=$REGISTRY/slurm-prod CD_STAGING=$REGISTRY/slurm-staging CD_DRY_RUN=false
	run -0 bash "$CDKIT_ROOT/ci/slurm/cdkit.sbatch" plan
	[ "$(wc -l < "$run/plan.ndjson")" -ge 12 ]
	# the disk of one image goes missing upstream (its download fails)
	broken=$(jq -r 'select(.name == "debian" and .version == "12") | .artifacts[0].url' "$run/plan.ndjson")
	rm "$MIRROR/${broken#https://}"

	run -0 cd-shard matrix --shards 4 --format slurm --script "$CDKIT_ROOT/ci/slurm/cdkit.sbatch"
	[[ ${lines[0]} == *"--array=0-3 "* ]]
	cd "$run"
	jobid=$(sbatch --parsable --array=0-3 -o "$run/shard-%a.out" "$CDKIT_ROOT/ci/slurm/cdkit.sbatch" shard)
	rep=$(sbatch --parsable --dependency=afterany:"$jobid" -o "$run/report.out" \
		"$CDKIT_ROOT/ci/slurm/cdkit.sbatch" report)
	slurm_wait_job "$rep" 300 || { slurm_job_states "$jobid" >&2; cat "$run"/*.out >&2; return 1; }
	slurm_job_states "$jobid" | sort > "$run/states"
	cat "$run/states" >&3
	# four tasks; the one with debian:12 failed (exit 1), the others completed
	[ "$(wc -l < "$run/states")" = 4 ]
	local task
	task=$(jq -r 'select(.name == "debian" and .version == "12") | .shard.index' "$run/plan.ndjson")
	grep -qx "$task FAILED 1:0" "$run/states"
	[ "$(grep -c ' COMPLETED 0:0$' "$run/states")" = 3 ]
	# each task took its shard from Slurm's variables
	grep -q "index from SLURM_ARRAY_TASK_ID=3 (Slurm), total from SLURM_ARRAY_TASK_COUNT=4" "$run/shard-3.out"
	# the report ran after all of them, failed (exit 1), and names the image
	[ "$(slurm_job_states "$rep")" = "- FAILED 1:0" ]
	grep -q "1 failed" "$run/report.out"
	grep -E '^debian:12 +build +failed .*cd-build' "$run/report.out"
	[ "$(jq -r '."debian:12".Stage' "$run/results.json")" = push ]
	[[ "$(jq -r '."debian:12".Err' "$run/results.json")" == cd-build:* ]]
	[ "$(stat -c %a "$run/results.json")" = 600 ]
	# every other image: published once, with its tags, in the results
	local name version tags n=0
	while read -r name version; do
		tags=$(curl -fsS "http://$REGISTRY/v2/slurm-prod/$name/tags/list" | jq -r '.tags[]')
		grep -qx -- "$version" <<< "$tags"
		[ "$(grep -cE -- "^$(sed 's/\./\\./g' <<< "$version")-[0-9]{10}$" <<< "$tags")" = 1 ]
		[ "$(jq -r --arg k "$name:$version" '.[$k].Stage' "$run/results.json")" = promote ]
		n=$((n + 1))
	done < <(jq -r 'select(.name + ":" + .version != "debian:12") | "\(.name) \(.version)"' "$run/plan.ndjson")
	[ "$n" -ge 11 ]
	[ "$(jq 'length' "$run/timings.json")" = "$n" ]
}
