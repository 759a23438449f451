#!/usr/bin/env bats
# The test library's servers (tests/lib/common.bash server_start and the
# helpers built on it): a server that cannot start fails its helper at
# once, saying why, instead of leaving a test to run against nothing; one
# that never says its port is stopped after SERVER_START_SECONDS; every
# server a file starts is stopped by servers_stop.

bats_require_minimum_version 1.5.0
load lib/push

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p root
}

teardown() { servers_stop; }

@test "httpd_start: a server that cannot start (its port is taken) fails the helper, saying why" {
	httpd_start "$PWD/root"
	local taken=$HTTPD_PORT
	run -1 --separate-stderr httpd_start "$PWD/root" "" --port "$taken"
	[[ ${stderr_lines[0]} == "httpd did not start: it exited with status 1 before it wrote its port to '$BATS_FILE_TMPDIR/httpd.port."*"'; its output ('$BATS_FILE_TMPDIR/httpd.port."*".out') ends:" ]]
	[[ $stderr == *"OSError: [Errno 98] Address already in use"* ]]
	[ -z "$output" ]
	# the first server still serves, and is the only one listed
	echo hello > root/f
	[ "$(curl -fsS "http://127.0.0.1:$taken/f")" = hello ]
	[ "$(wc -l < "$BATS_FILE_TMPDIR/servers")" -eq 1 ]
	# a folder that is not there: the server says so, the helper fails
	run -1 --separate-stderr httpd_start "$PWD/none"
	[[ ${stderr_lines[0]} == "httpd did not start: it exited with status 2 before it wrote its port to "* ]]
	[[ $stderr == *"httpd.py: error: --root $PWD/none: not a folder"* ]]
}

@test "server_start: a server that never writes its port is stopped after SERVER_START_SECONDS, and the helper fails" {
	SERVER_START_SECONDS=1 run -1 --separate-stderr \
		server_start mute "$PWD/mute.port" bash -c 'echo $$ > mute.pid; exec sleep 300'
	[ "${stderr_lines[0]}" = "mute did not start: no port in '$PWD/mute.port' after 1 s; its output ('$PWD/mute.port.out') ends:" ]
	[ -s mute.pid ]
	pid_gone "$(cat mute.pid)"
	[ ! -s "$BATS_FILE_TMPDIR/servers" ]
}

@test "every helper that waits for a port file fails when its server cannot start" {
	# PYTHONSAFEPATH: the servers cannot import their base module (tests/lib/testserver.py)
	export PYTHONSAFEPATH=1
	run -1 --separate-stderr httpd_start "$PWD/root"
	[[ ${stderr_lines[0]} == "httpd did not start: it exited with status 1 before it wrote its port to "* ]]
	[[ $stderr == *"ModuleNotFoundError: No module named 'testserver'"* ]]
	run -1 --separate-stderr slowproxy_start 127.0.0.1:9 1000
	[[ ${stderr_lines[0]} == "slowproxy did not start: it exited with status 1 before it wrote its port to "* ]]
	REGISTRY=127.0.0.1:9 REGISTRY_DIR=$PWD run -1 --separate-stderr regproxy_start
	[[ ${stderr_lines[0]} == "regproxy PROXY did not start: it exited with status 1 before it wrote its port to "* ]]
	run -1 --separate-stderr registry_start token
	[[ ${stderr_lines[0]} == "token-issuer did not start: it exited with status 1 before it wrote its port to "* ]]
	# none of them is left running, and no registry was started without its issuer
	[ ! -s "$BATS_FILE_TMPDIR/servers" ]
}

@test "servers_stop stops every server of the file, also one a test started and one restarted" {
	unset PYTHONSAFEPATH
	registry_start plain
	regproxy_start
	httpd_start "$PWD/root"
	registry_kill
	registry_restart
	local pid list=$BATS_FILE_TMPDIR/servers
	# the killed registry is off the list, the restarted one on it
	[ "$(cut -d' ' -f3- "$list" | xargs)" = "regproxy PROXY httpd registry" ]
	mapfile -t pids < <(cut -d' ' -f1 "$list")
	servers_stop
	for pid in "${pids[@]}"; do
		pid_gone "$pid"
	done
	[ ! -e "$list" ]
	run -7 curl -sS "http://$REGISTRY/v2/"
}
