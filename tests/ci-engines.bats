#!/usr/bin/env bats
# The engine files of ci/, checked by each engine's own tools where they run
# here, and their shard jobs run as the engine runs them:
#   - GitHub Actions: action-validator checks the workflow; the shard job's
#     step (its run: and env: read from the workflow) runs once per entry of
#     cd-shard matrix --format github, with exactly the matrix values;
#   - GitLab CI: gitlab-ci-local runs the real file in a scratch clone: plan,
#     parallel: 4 shard jobs, report, against a local registry and mirror;
#   - Kubernetes: kubernetes-models validates every document; the Indexed
#     Job's container (command, args, env, the ConfigMap's data) runs once
#     per completion index with JOB_COMPLETION_INDEX, as the Job controller
#     starts its pods.
# Each run publishes into its own orgs of the registry; afterwards every
# image of the mirror is there exactly once, with its tags.
# The npm tools are installed by ci/deps into $CDKIT_NPM.

bats_require_minimum_version 1.5.0
load lib/registry
load lib/upstream

CDKIT_NPM=${CDKIT_NPM:-/var/cache/cdkit/npm}

setup_file() {
	local t
	for t in gitlab-ci-local action-validator; do
		[ -x "$CDKIT_NPM/node_modules/.bin/$t" ] || {
			echo "$t is not installed in $CDKIT_NPM: run bash ci/deps" >&2
			return 1
		}
	done
	# (lib/common unsets CD_MIRRORS in every test: the map is MIRRORS)
	upstream_start mkmirror
	registry_start plain
	CD_MIRRORS=$MIRRORS cd-discover > "$BATS_FILE_TMPDIR/discovered.ndjson"
	[ "$(wc -l < "$BATS_FILE_TMPDIR/discovered.ndjson")" -ge 12 ]
}

teardown_file() { servers_stop; }

# assert_published ORG: every discovered image is in $REGISTRY/ORG exactly
# once: its <version> tag, and one <version>-<YYMMDDhhmm> tag.
assert_published() {
	local org=$1 name version tags n=0
	while read -r name version; do
		tags=$(curl -fsS "http://$REGISTRY/v2/$org/$name/tags/list" | jq -r '.tags[]')
		grep -qx -- "$version" <<< "$tags" || { echo "$org/$name: no tag $version" >&2; return 1; }
		[ "$(grep -cE -- "^$(sed 's/\./\\./g' <<< "$version")-[0-9]{10}$" <<< "$tags")" = 1 ] || {
			echo "$org/$name:$version: not exactly one timestamp tag: $tags" >&2
			return 1
		}
		n=$((n + 1))
	done < <(jq -r '"\(.name) \(.version)"' "$BATS_FILE_TMPDIR/discovered.ndjson")
	[ "$n" -ge 12 ]
}

# the environment every emulated job gets: the registry orgs, the mirror, the tools
job_env() {
	printf '%s\n' "PATH=$CDKIT_BIN:$CDKIT_ROOT/pipelines:/usr/local/bin:/usr/bin:/bin" "HOME=$BATS_TEST_TMPDIR" \
		"CD_PRODUCTION=$REGISTRY/$1-prod" "CD_STAGING=$REGISTRY/$1-staging" "CD_MIRRORS=$MIRRORS" \
		"CD_DRY_RUN=false" "CD_WORKERS=2" "CD_RETRY_BASE_MS=$CD_RETRY_BASE_MS"
}

@test "github: the workflow passes action-validator, a misspelt key does not" {
	run -0 "$CDKIT_NPM/node_modules/.bin/action-validator" "$CDKIT_ROOT/ci/github/cdkit.yml"
	sed 's/runs-on:/runz-on:/' "$CDKIT_ROOT/ci/github/cdkit.yml" > "$BATS_TEST_TMPDIR/bad.yml"
	run -1 "$CDKIT_NPM/node_modules/.bin/action-validator" "$BATS_TEST_TMPDIR/bad.yml"
	[[ $output == *"runz-on"* ]]
}

@test "kubernetes: every document passes kubernetes-models, the shard Job is cd-shard matrix's" {
	run -0 node "$CDKIT_ROOT/tests/lib/k8s-validate.js" "$CDKIT_NPM" "$CDKIT_ROOT/ci/k8s/cdkit.yaml"
	[ "$(grep -c '^valid: ' <<< "$output")" = 5 ]
	sed 's/completions: 4/completions: "four"/' "$CDKIT_ROOT/ci/k8s/cdkit.yaml" > "$BATS_TEST_TMPDIR/bad.yaml"
	run -1 --separate-stderr node "$CDKIT_ROOT/tests/lib/k8s-validate.js" "$CDKIT_NPM" "$BATS_TEST_TMPDIR/bad.yaml"
	[[ $stderr == *"data/spec/completions must be integer"* ]]
	# the Indexed Job in the file is exactly what cd-shard prints for 4 shards
	cd-shard matrix --shards 4 --format k8s > "$BATS_TEST_TMPDIR/want"
	awk '/^---$/ { n++; next } n == 3' "$CDKIT_ROOT/ci/k8s/cdkit.yaml" | diff "$BATS_TEST_TMPDIR/want" -
}

@test "gitlab: gitlab-ci-local runs plan, parallel: 4 shard jobs and report; every image once" {
	local clone=$BATS_TEST_TMPDIR/clone
	mkdir -p "$clone"
	(cd "$CDKIT_ROOT" && git ls-files -z --cached --others --exclude-standard |
		rsync -a --from0 --files-from=- . "$clone/")
	cp "$CDKIT_ROOT/ci/gitlab/cdkit.gitlab-ci.yml" "$clone/.gitlab-ci.yml"
	(cd "$clone" && git init -q && git add -A && git -c user.email=ci@cdkit -c user.name=ci commit -qm scratch)
	cd "$clone"
	run -0 timeout 600 "$CDKIT_NPM/node_modules/.bin/gitlab-ci-local" --shell-isolation --force-shell-executor \
		--home "$BATS_TEST_TMPDIR/glci-home" \
		--variable "CDKIT_BIN=$CDKIT_BIN" --variable "CD_MIRRORS=$MIRRORS" \
		--variable "CD_PRODUCTION=$REGISTRY/gl-prod" --variable "CD_STAGING=$REGISTRY/gl-staging" \
		--variable "CD_RETRY_BASE_MS=$CD_RETRY_BASE_MS"
	printf '%s\n' "$output" | grep -E '^ *(PASS|FAIL) ' >&3
	[[ $output == *"json schema validated"* ]]
	local job
	for job in "plan" "cdkit-shard: \[1/4\]" "cdkit-shard: \[2/4\]" "cdkit-shard: \[3/4\]" "cdkit-shard: \[4/4\]" "report"; do
		grep -qE "PASS +$job" <<< "$output" || { echo "job $job did not pass" >&2; return 1; }
	done
	# each shard job said which of GitLab's variables it used (1-based index)
	grep -q 'index from CI_NODE_INDEX=4 (1-based) (GitLab CI), total from CI_NODE_TOTAL=4' <<< "$output"
	assert_published gl-prod
	[[ $output == *"$(jq -s length "$BATS_FILE_TMPDIR/discovered.ndjson") images: $(jq -s length "$BATS_FILE_TMPDIR/discovered.ndjson") rebuilt, 0 up to date, 0 failed"* ]]
}

@test "github: the shard step runs once per matrix entry with exactly its values; every image once" {
	local w=$BATS_TEST_TMPDIR/gh i n env run
	mkdir -p "$w"
	ln -s "$CDKIT_ROOT/pipelines" "$w/pipelines" # the job runs in the checkout
	cd "$w"
	local base
	mapfile -t base < <(job_env gh)
	env -i "${base[@]}" pipelines/plan-job --shards 3 --out plan.ndjson
	run -0 cd-shard matrix --shards 3 --format github
	local matrix=$output
	# the step as the workflow has it: its env (with ${{ matrix.* }}) and run
	node -e '
		const yaml = require(process.argv[1] + "/node_modules/js-yaml");
		const wf = yaml.load(require("fs").readFileSync(process.argv[2], "utf8"));
		const step = wf.jobs.shard.steps.find((s) => s.name === "shard job");
		const m = JSON.parse(process.argv[3]);
		if (wf.jobs.shard.strategy.matrix !== "${{ fromJSON(needs.plan.outputs.matrix) }}") process.exit(3);
		m.include.forEach((entry, k) => {
			const sub = (v) => String(v).replace(/\$\{\{ *matrix\.(\w+) *\}\}/g, (_, x) => entry[x]);
			const env = Object.entries(step.env).map(([key, v]) => key + "=" + sub(v));
			require("fs").writeFileSync(`job.${k}.env`, env.join("\n") + "\n");
			require("fs").writeFileSync(`job.${k}.sh`, sub(step.run) + "\n");
		});' "$CDKIT_NPM" "$CDKIT_ROOT/ci/github/cdkit.yml" "$matrix"
	[ "$(cat job.0.env)" = "$(printf 'CD_SHARD_INDEX=0\nCD_SHARD_TOTAL=3')" ]
	# three processes at once, as three runners would (GitHub's shell: bash -e -o pipefail)
	local pids=()
	for i in 0 1 2; do
		mapfile -t vars < "job.$i.env"
		(cd "$w" && env -i "${base[@]}" "${vars[@]}" bash --noprofile --norc -eo pipefail "job.$i.sh" \
			> "job.$i.log" 2>&1) &
		pids+=($!)
	done
	for i in 0 1 2; do wait "${pids[$i]}" || { cat "job.$i.log" >&2; return 1; }; done
	grep -q 'index from CD_SHARD_INDEX=2, total from CD_SHARD_TOTAL=3' job.2.log
	run -0 cd-report --plan plan.ndjson records/records-0-of-3.ndjson records/records-1-of-3.ndjson \
		records/records-2-of-3.ndjson
	assert_published gh-prod
}

@test "kubernetes: the Indexed Job's pods, one per completion index; every image once" {
	local w=$BATS_TEST_TMPDIR/k8s i
	mkdir -p "$w/work"
	# each container of the manifest as a shell command line with its env:
	# the ConfigMap's data (envFrom), then its own env, /work -> the test's folder
	node -e '
		const yaml = require(process.argv[1] + "/node_modules/js-yaml");
		const fs = require("fs");
		const docs = yaml.loadAll(fs.readFileSync(process.argv[2], "utf8"));
		const cm = docs.find((d) => d.kind === "ConfigMap").data;
		for (const d of docs.filter((x) => x.kind === "Job")) {
			const c = d.spec.template.spec.containers[0];
			const env = Object.assign({}, cm);
			for (const e of c.env || []) env[e.name] = e.value;
			const fix = (s) => s.split("/work").join(process.argv[3]);
			const q = (s) => "'"'"'" + s.replace(/'"'"'/g, "'"'"'\\'"'"''"'"'") + "'"'"'";
			fs.writeFileSync(`${process.argv[3]}/../${d.metadata.name}.env`,
				Object.entries(env).map(([k, v]) => k + "=" + fix(String(v))).join("\n") + "\n");
			fs.writeFileSync(`${process.argv[3]}/../${d.metadata.name}.sh`,
				"exec " + [...c.command, ...(c.args || [])].map((a) => q(fix(a))).join(" ") + "\n");
			fs.writeFileSync(`${process.argv[3]}/../${d.metadata.name}.completions`,
				String(d.spec.completions || 1) + " " + (d.spec.completionMode || "NonIndexed") + "\n");
		}' "$CDKIT_NPM" "$CDKIT_ROOT/ci/k8s/cdkit.yaml" "$w/work"
	[ "$(cat "$w/cdkit-shards.completions")" = "4 Indexed" ]
	local base
	mapfile -t base < <(job_env k8s)
	pod() { # pod JOB [VAR=VALUE...]: run one pod's container
		local job=$1 vars
		shift
		mapfile -t vars < "$w/$job.env"
		env -i "${base[@]}" "${vars[@]}" CD_PRODUCTION="$REGISTRY/k8s-prod" CD_STAGING="$REGISTRY/k8s-staging" \
			"$@" bash "$w/$job.sh"
	}
	(cd "$w" && pod cdkit-plan) 2> "$w/plan.log" || { cat "$w/plan.log" >&2; return 1; }
	local pids=()
	for i in 0 1 2 3; do
		(cd "$w" && pod cdkit-shards JOB_COMPLETION_INDEX=$i > "$w/pod.$i.log" 2>&1) &
		pids+=($!)
	done
	for i in 0 1 2 3; do wait "${pids[$i]}" || { cat "$w/pod.$i.log" >&2; return 1; }; done
	grep -q 'index from JOB_COMPLETION_INDEX=3 (Kubernetes), total from CD_SHARD_TOTAL=4' "$w/pod.3.log"
	cd "$w"
	run -0 --separate-stderr pod cdkit-report
	[[ $output == *"images: "*" rebuilt, 0 up to date, 0 failed"* ]]
	[ -s "$w/work/results.json" ] && [ -s "$w/work/timings.json" ]
	assert_published k8s-prod
}

@test "circleci, buildkite: shard-job as parallel processes with only their engine's variables" {
	local w=$BATS_TEST_TMPDIR/vars base i pids=()
	mkdir -p "$w"
	cd "$w"
	mapfile -t base < <(job_env cb)
	env -i "${base[@]}" CD_FOCUS="debian:* ubuntu:24.04 fedora:43" \
		"$CDKIT_ROOT/pipelines/plan-job" --shards 2 --out plan.ndjson
	[ "$(wc -l < plan.ndjson)" = 5 ]
	for i in 0 1; do
		(env -i "${base[@]}" CIRCLE_NODE_INDEX=$i CIRCLE_NODE_TOTAL=2 \
			"$CDKIT_ROOT/pipelines/shard-job" --out-dir circle > "circle.$i.log" 2>&1) &
		pids+=($!)
		(env -i "${base[@]}" BUILDKITE_PARALLEL_JOB=$i BUILDKITE_PARALLEL_JOB_COUNT=2 \
			CD_PRODUCTION="$REGISTRY/bk-prod" CD_STAGING="$REGISTRY/bk-staging" \
			"$CDKIT_ROOT/pipelines/shard-job" --out-dir buildkite > "buildkite.$i.log" 2>&1) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || { cat ./*.log >&2; return 1; }; done
	grep -q 'index from CIRCLE_NODE_INDEX=1 (CircleCI), total from CIRCLE_NODE_TOTAL=2' circle.1.log
	grep -q 'index from BUILDKITE_PARALLEL_JOB=1 (Buildkite), total from BUILDKITE_PARALLEL_JOB_COUNT=2' buildkite.1.log
	run -0 cd-report --plan plan.ndjson circle/*.ndjson
	[ "${lines[0]}" = "5 images: 5 rebuilt, 0 up to date, 0 failed" ]
	run -0 cd-report --plan plan.ndjson buildkite/*.ndjson
	[ "${lines[0]}" = "5 images: 5 rebuilt, 0 up to date, 0 failed" ]
}

@test "plan-job --strategy stable --previous: images keep the shards of the previous plan; ignored for balanced and when missing" {
	local w=$BATS_TEST_TMPDIR/prev base
	mkdir -p "$w"
	cd "$w"
	mapfile -t base < <(job_env prev)
	env -i "${base[@]}" "$CDKIT_ROOT/pipelines/plan-job" --shards 4 --strategy balanced --out balanced.ndjson
	env -i "${base[@]}" "$CDKIT_ROOT/pipelines/plan-job" --shards 4 --strategy stable --out fresh.ndjson
	plan_of() { jq -r '"\(.name):\(.version) \(.shard.index)"' "$1"; }
	# the two strategies differ here, so keeping the previous plan shows
	! diff -q <(plan_of balanced.ndjson) <(plan_of fresh.ndjson)
	# a balanced plan is within the stable bound: kept as it is
	env -i "${base[@]}" "$CDKIT_ROOT/pipelines/plan-job" --shards 4 --strategy stable \
		--previous balanced.ndjson --out kept.ndjson
	diff -u <(plan_of balanced.ndjson) <(plan_of kept.ndjson)
	# CD_PREVIOUS as the flag; a missing file, or the balanced strategy: no history
	env -i "${base[@]}" CD_PREVIOUS=balanced.ndjson "$CDKIT_ROOT/pipelines/plan-job" --shards 4 \
		--strategy stable --out env.ndjson
	diff -u <(plan_of balanced.ndjson) <(plan_of env.ndjson)
	env -i "${base[@]}" "$CDKIT_ROOT/pipelines/plan-job" --shards 4 --strategy stable \
		--previous missing.ndjson --out none.ndjson
	diff -u <(plan_of fresh.ndjson) <(plan_of none.ndjson)
	env -i "${base[@]}" "$CDKIT_ROOT/pipelines/plan-job" --shards 4 --strategy balanced \
		--previous fresh.ndjson --out bal2.ndjson
	diff -u <(plan_of balanced.ndjson) <(plan_of bal2.ndjson)
}
