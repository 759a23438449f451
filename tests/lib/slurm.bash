# A real Slurm cluster of one machine for cdkit's bats files (notes: Debian's
# slurm-wlm 22.05 and munge); it loads lib/common:
#
#   load lib/slurm
#   setup_file()    { slurm_start || skip "$SLURM_SKIP"; }
#   teardown_file() { servers_stop; }
#
# slurm_start starts munged on a private socket and key, then slurmctld and
# slurmd with a private slurm.conf, all under $SLURM_DIR (a temp folder of
# the test file), on free loopback ports; it waits until the partition is
# up and idle.  It sets and exports SLURM_CONF (every client command reads
# it), SLURM_DIR, SLURM_LOGS.  It returns 1 with the reason in SLURM_SKIP
# when Slurm is not installed or cannot start here.  The three daemons are
# listed for servers_stop (lib/common); slurm_stop stops them by the PIDs
# in their pid files, never by name.
#
# slurm_wait_job JOBID [SECONDS]: wait until every task of the job (an
# array too) has ended; 1 on timeout.  slurm_job_states JOBID: one
# "TASK STATE EXITCODE" line per task, from scontrol.

load lib/common

_slurm_conf() {
	local d=$SLURM_DIR host=$1 ctl=$2 slurmd_port=$3
	cat <<-EOF
	ClusterName=cdkit
	SlurmctldHost=$host
	SlurmctldPort=$ctl
	SlurmdPort=$slurmd_port
	AuthType=auth/munge
	AuthInfo=socket=$d/munge/munge.socket
	CredType=cred/munge
	SlurmUser=root
	SlurmdUser=root
	StateSaveLocation=$d/state
	SlurmdSpoolDir=$d/spool
	SlurmctldPidFile=$d/run/slurmctld.pid
	SlurmdPidFile=$d/run/slurmd.pid
	SlurmctldLogFile=$d/log/slurmctld.log
	SlurmdLogFile=$d/log/slurmd.log
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core
	MpiDefault=none
	ReturnToService=2
	SchedulerParameters=sched_interval=1
	MessageTimeout=20
	NodeName=$host CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
	PartitionName=batch Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
	EOF
}

_slurm_fail() {
	SLURM_SKIP=$1
	export SLURM_SKIP
	echo "slurm_start: $1" >&2
	local f
	for f in "$SLURM_DIR"/log/*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
	done
	slurm_stop
	return 1
}

slurm_start() {
	local host i ctl sd f
	SLURM_SKIP=
	for i in munged slurmctld slurmd sbatch scontrol sinfo; do
		command -v "$i" > /dev/null || [ -x "/usr/sbin/$i" ] || {
			SLURM_SKIP="slurm is not installed ($i missing): run bash ci/deps"
			export SLURM_SKIP
			return 1
		}
	done
	SLURM_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/slurm.XXXXXX")
	SLURM_LOGS=$SLURM_DIR/log
	mkdir -p "$SLURM_DIR"/{state,spool,run,log,munge}
	chmod 0700 "$SLURM_DIR/munge"
	export SLURM_DIR SLURM_LOGS

	# munge: a private key and socket, so nothing of the machine's is used
	/usr/sbin/mungekey --create --keyfile="$SLURM_DIR/munge/munge.key" 2>> "$SLURM_LOGS/munged.log" ||
		dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 2> /dev/null
	chmod 0400 "$SLURM_DIR/munge/munge.key"
	/usr/sbin/munged --force --socket="$SLURM_DIR/munge/munge.socket" \
		--key-file="$SLURM_DIR/munge/munge.key" --pid-file="$SLURM_DIR/run/munged.pid" \
		--log-file="$SLURM_LOGS/munged.log" --seed-file="$SLURM_DIR/munge/munged.seed" \
		2>> "$SLURM_LOGS/munged.log" || { _slurm_fail "munged did not start"; return 1; }

	host=$(hostname -s)
	getent hosts "$host" > /dev/null || { _slurm_fail "the host name '$host' does not resolve"; return 1; }
	ctl=$(free_port)
	sd=$(free_port)
	while [ "$sd" = "$ctl" ]; do sd=$(free_port); done
	_slurm_conf "$host" "$ctl" "$sd" > "$SLURM_DIR/slurm.conf"
	SLURM_CONF=$SLURM_DIR/slurm.conf
	export SLURM_CONF
	/usr/sbin/slurmctld -f "$SLURM_CONF" 2>> "$SLURM_LOGS/start.log" ||
		{ _slurm_fail "slurmctld did not start"; return 1; }
	/usr/sbin/slurmd -f "$SLURM_CONF" 2>> "$SLURM_LOGS/start.log" ||
		{ _slurm_fail "slurmd did not start"; return 1; }
	if wait_until 30 _slurm_idle; then
		# up: every daemon has written its pid file
		for f in munged slurmctld slurmd; do
			server_track "$f" "$(cat "$SLURM_DIR/run/$f.pid")"
		done
		return 0
	fi
	_slurm_fail "the partition did not come up idle in 30 s ($(sinfo -h -o '%a %t' 2>&1))"
}

_slurm_idle() { sinfo -h -o '%a %t' 2> /dev/null | grep -q '^up idle'; }

slurm_stop() {
	local f
	[ -n "${SLURM_DIR:-}" ] || return 0
	for f in slurmd slurmctld munged; do
		[ -s "$SLURM_DIR/run/$f.pid" ] || continue
		pid_stop "$(cat "$SLURM_DIR/run/$f.pid")"
	done
	return 0
}

slurm_job_states() {
	scontrol -o show job "$1" 2> /dev/null |
		sed -n 's/.*ArrayTaskId=\([^ ]*\).*JobState=\([^ ]*\).*ExitCode=\([^ ]*\).*/\1 \2 \3/p;
		        t; s/.*JobState=\([^ ]*\).*ExitCode=\([^ ]*\).*/- \1 \2/p'
}

slurm_wait_job() {
	local job=$1 limit=${2:-300} i
	for ((i = 0; i < limit * 5; i++)); do
		if ! slurm_job_states "$job" | grep -qE ' (PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED) '; then
			[ -n "$(slurm_job_states "$job")" ] && return 0
		fi
		sleep 0.2
	done
	return 1
}
