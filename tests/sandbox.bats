#!/usr/bin/env bats
# The sandbox: once its sockets and files are set up, ucat confines itself
# (seccomp, Landlock) unless it runs programs (-e, -c) or is told
# --no-sandbox.  Every other file of the suite runs with it on; here, that
# it is on where it should be, off where it should be, and that it bites.

load helpers
bats_require_minimum_version 1.5.0

U=${UCAT_REAL:-$UCAT}
FORBID_LIB=${FORBID_LIB:-$(dirname "$U")/../tests/forbid.so}

# seccomp_of PID: the Seccomp: field of PID's status (0 none, 2 a filter).
seccomp_of() {
	sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$1/status"
}

# held NAME: a FIFO, which a ucat opens both ways (<>) for a stdin
# that stays open (no EOF) while a test looks at a running ucat.
held() {
	mkfifo "$T/$1"
}

@test "sandbox: a listener, its client, a -k listener and a relay are confined" {
	need_feature seccomp
	held in
	listen srv "$T/s" <>"$T/in"
	spawn cli "$U" -v "$T/s" <>"$T/in"
	wait_for cli 'connected to'
	check_eq "listener" 2 "$(seccomp_of "$(ucat_of srv)")"
	check_eq "client" 2 "$(seccomp_of "$(ucat_of cli)")"
	grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$(ucat_of cli)/status"

	listen k -k "$T/k" </dev/null
	check_eq "-k listener" 2 "$(seccomp_of "$(ucat_of k)")"

	listen back -k -e cat "$T/back"
	relay rel -lk "$T/front" "$T/back"
	spawn rcli "$U" -v "$T/front" <>"$T/in"
	wait_for rel 'connected to'
	check_eq "relay" 2 "$(seccomp_of "$(ucat_of rel)")"
	local child
	child=$(pgrep -P "$(ucat_of rel)")
	check_eq "relay's child" 2 "$(seccomp_of "$child")"
	# And a second filter, since it has connected to TARGET.
	! grep -q '^Seccomp_filters:' "/proc/$child/status" ||
		grep -q '^Seccomp_filters:[[:space:]]*2$' "/proc/$child/status"
	check_eq "-e listener" 0 "$(seccomp_of "$(ucat_of back)")"
}

@test "sandbox: --no-sandbox leaves ucat unconfined" {
	need_feature seccomp
	held in
	listen srv --no-sandbox "$T/s" <>"$T/in"
	spawn cli "$U" --no-sandbox -v "$T/s" <>"$T/in"
	wait_for cli 'connected to'
	check_eq "listener" 0 "$(seccomp_of "$(ucat_of srv)")"
	check_eq "client" 0 "$(seccomp_of "$(ucat_of cli)")"
}

@test "sandbox: a -k -e program sees no filter of ucat's" {
	listen srv -k -e "grep -h ^Seccomp: /proc/self/status" "$T/s"
	run timeout 20 "$UCAT" "$T/s" </dev/null
	check_eq status 0 "$status"
	[[ $output =~ ^Seccomp:[[:space:]]+0$ ]]
	# -c on a client: the program's stderr is ucat's.
	run timeout 20 "$UCAT" "$T/s" -c 'grep -h ^Seccomp: /proc/self/status >&2'
	check_eq "-c status" 0 "$status"
	[[ $output =~ ^Seccomp:[[:space:]]+0$ ]]
}

@test "sandbox: a forbidden call kills ucat with SIGSYS; without it, it runs" {
	need_feature seccomp
	[ -f "$FORBID_LIB" ] || skip "no $FORBID_LIB (make check builds it)"
	readelf -l "$U" | grep -q INTERP ||
		skip "a static ucat takes no LD_PRELOAD"
	spawn srv env LD_PRELOAD="$FORBID_LIB" UCAT_FORBID=open "$U" -v \
		-l "$T/s" </dev/null
	wait_for srv 'listening on'
	run timeout 20 "$UCAT" "$T/s" <<<hello
	finish srv
	check_eq "status (128 + SIGSYS)" $((128 + $(kill -l SYS))) "$STATUS"
	run ! grep -q 'forbid: open' "$T/srv.err"
	# Not a handled signal: the file stays, stale, for the next listener.
	listen again "$T/s" </dev/null

	spawn free env LD_PRELOAD="$FORBID_LIB" UCAT_FORBID=open "$U" -v \
		--no-sandbox -l "$T/t" </dev/null
	wait_for free 'listening on'
	run timeout 20 "$UCAT" "$T/t" <<<hello
	finish free
	check_eq "unconfined status" 0 "$STATUS"
	check_eq "unconfined output" hello "$(cat "$T/free.out")"
	grep -q 'forbid: open: ok' "$T/free.err"
}

# forbidden WHAT ARGS...: ucat ARGS (a listener on $T/s, or a relay on it)
# made to try WHAT once its pump runs, with a client; STATUS is ucat's.
forbidden() {
	local what=$1
	shift
	rm -f "$T/s"
	spawn fb env LD_PRELOAD="$FORBID_LIB" UCAT_FORBID="$what" "$U" -v "$@" \
		</dev/null
	wait_for fb 'listening on'
	run timeout 20 "$UCAT" "$T/s" <<<hello
	finish fb
}

@test "sandbox: no new socket and no signal to others, in a pump or a relay" {
	need_feature seccomp
	[ -f "$FORBID_LIB" ] || skip "no $FORBID_LIB (make check builds it)"
	readelf -l "$U" | grep -q INTERP ||
		skip "a static ucat takes no LD_PRELOAD"
	local sys=$((128 + $(kill -l SYS))) what
	for what in socket kill; do
		forbidden "$what" -l "$T/s"
		check_eq "$what in a pump" "$sys" "$STATUS"
	done
	# A relay has made its one socket to TARGET (of that very family and
	# type) before it pumps; another is then death too.
	listen back -k -e cat "$T/back"
	forbidden socket -l "$T/s" "$T/back"
	check_eq "socket in a relay" "$sys" "$STATUS"
	forbidden socket --no-sandbox -l "$T/s" "$T/back"
	check_eq "socket in an unconfined relay" 0 "$STATUS"
	grep -q 'forbid: socket: ok' "$T/fb.err"
}

@test "sandbox: Landlock: a file outside the socket's directory cannot be removed" {
	need_feature landlock
	[ -f "$FORBID_LIB" ] || skip "no $FORBID_LIB (make check builds it)"
	readelf -l "$U" | grep -q INTERP ||
		skip "a static ucat takes no LD_PRELOAD"
	mkdir "$T/sock" "$T/other"
	echo keep >"$T/other/victim"
	spawn srv env LD_PRELOAD="$FORBID_LIB" \
		UCAT_FORBID="unlink:$T/other/victim" "$U" -v -l "$T/sock/s" \
		</dev/null
	wait_for srv 'listening on'
	run timeout 20 "$UCAT" "$T/sock/s" <<<hello
	finish srv
	check_eq status 0 "$STATUS"
	grep -q 'forbid: unlink: Permission denied' "$T/srv.err"
	check_eq victim keep "$(cat "$T/other/victim")"
	# Its own file it still removes.
	[ ! -e "$T/sock/s" ]

	spawn free env LD_PRELOAD="$FORBID_LIB" \
		UCAT_FORBID="unlink:$T/other/victim" "$U" -v --no-sandbox \
		-l "$T/sock/s" </dev/null
	wait_for free 'listening on'
	run timeout 20 "$UCAT" "$T/sock/s" <<<hello
	finish free
	grep -q 'forbid: unlink: ok' "$T/free.err"
	[ ! -e "$T/other/victim" ]
}

@test "sandbox: strace shows the filter installed after the last setup call" {
	need_feature seccomp
	need strace
	spawn srv strace -f -o "$T/trace" "$U" -v -x "$T/dump" -l "$T/s" \
		</dev/null
	wait_for srv 'listening on'
	run timeout 20 "$UCAT" "$T/s" <<<hello
	finish srv
	check_eq status 0 "$STATUS"
	# Line numbers in the trace: the filter, the last setup call, the
	# first accept.
	local filter setup accept lock
	filter=$(grep -n 'PR_SET_SECCOMP\|seccomp(SECCOMP_SET_MODE_FILTER' \
		"$T/trace" | head -n 1 | cut -d: -f1)
	setup=$(grep -nE ' (socket|bind|listen|openat|open)\(' "$T/trace" |
		tail -n 1 | cut -d: -f1)
	accept=$(grep -nE ' accept4?\(' "$T/trace" | head -n 1 | cut -d: -f1)
	[ -n "$filter" ] && [ -n "$setup" ] && [ -n "$accept" ]
	[ "$setup" -lt "$filter" ] || {
		echo "setup call at $setup after the filter at $filter" >&2
		return 1
	}
	[ "$filter" -lt "$accept" ]
	if has_feature landlock; then
		lock=$(grep -n 'landlock_restrict_self(' "$T/trace" |
			cut -d: -f1)
		[ -n "$lock" ] && [ "$lock" -lt "$filter" ]
	fi
}

@test "sandbox: a confined relay still connects to TARGET, bound with -s" {
	need_feature seccomp
	listen back -k -e cat "$T/back"
	relay rel -lk "$T/front" "$T/back"
	local i
	for i in 1 2 3; do
		run timeout 20 "$UCAT" "$T/front" <<<"hello $i"
		check_eq "answer $i" "hello $i" "$output"
	done
	check_eq relay 2 "$(seccomp_of "$(ucat_of rel)")"
	kill "$rel_PID"
	finish rel
	[ ! -e "$T/front" ]
	# One-shot, its TARGET connection bound to -s in another directory.
	mkdir "$T/src"
	relay one -l -s "$T/src/c" "$T/front" "$T/back"
	run timeout 20 "$UCAT" "$T/front" <<<"bound"
	check_eq answer bound "$output"
	finish one
	check_eq "relay status" 0 "$STATUS"
	[ ! -e "$T/front" ] && [ ! -e "$T/src/c" ]
}

# relay_once STATUS-NAME ARGS...: a one-shot relay "ucat -l ARGS $T/front
# $T/back" serves one client, whose answer must be its own line.
relay_once() {
	rm -f "$T/front"
	relay one -l "$@" "$T/front" "$T/back"
	run timeout 20 "$UCAT" "$T/front" <<<"through"
	finish one
}

@test "sandbox: a confined relay's -s replaces a stale socket and refuses a live one" {
	need_feature seccomp
	listen back -k -e cat "$T/back"
	# The first run leaves its -s socket behind; the second finds it
	# stale, after confinement, and replaces it.
	local i
	for i in 1 2; do
		relay_once --keep-file -s "$T/src"
		check_eq "run $i: status" 0 "$STATUS"
		check_eq "run $i: answer" through "$output"
		[ -S "$T/src" ]
	done
	check_eq "confined" "" "$(grep -i 'not confined' "$T/one.err")"
	# Without -l: connected to both at once, the same.  Two cats have
	# nothing to say to each other: once both connections stand, the relay
	# is ended by its pid.
	spawn one "$UCAT" -v -s "$T/src" "$T/back" "$T/back"
	local n
	for ((n = 0; n < 1000; n++)); do
		[ "$(grep -c 'connected to' "$T/one.err")" = 2 ] && break
		kill -0 "$one_PID" 2>/dev/null || break
		sleep 0.01
	done
	check_eq "connecting relay over a stale -s" 2 \
	    "$(grep -c 'connected to' "$T/one.err")"
	kill "$(ucat_of one)"
	finish one
	check_eq "ended by SIGTERM" 143 "$STATUS"
	# Someone listens there: "address in use", and the client is closed.
	spawn live "$UCAT" -v -l -k "$T/src" </dev/null
	wait_for live 'listening on'
	relay_once -s "$T/src"
	check_eq "status with a live -s" 1 "$STATUS"
	grep -q "ucat: $T/src: address in use" "$T/one.err"
	check_eq "live listener untouched" 0 "$(connections live)"
	[ -S "$T/src" ]
}

@test "sandbox: a relay about to connect makes no datagram socket, but for -s's probe" {
	need_feature seccomp
	[ -f "$FORBID_LIB" ] || skip "no $FORBID_LIB (make check builds it)"
	readelf -l "$U" | grep -q INTERP ||
		skip "a static ucat takes no LD_PRELOAD"
	listen back -k -e cat "$T/back"
	forbidden dgram -l "$T/s" "$T/back"
	check_eq "without -s" $((128 + $(kill -l SYS))) "$STATUS"
	forbidden dgram -l -s "$T/c" "$T/s" "$T/back"
	check_eq "with -s" 0 "$STATUS"
	grep -q 'forbid: dgram: ok' "$T/fb.err"
}

@test "sandbox: a confined relay binds -s from inside a directory others can change" {
	need_feature seccomp
	need_nobody
	listen back -k -e cat "$T/back"
	# Their directory holds the one -s is in: the way to it is theirs
	# to change.
	mkdir "$T/theirs"
	chown "$NOBODY_UID:$NOBODY_GID" "$T/theirs"
	as_nobody mkdir "$T/theirs/d"
	relay_once -s "$T/theirs/d/c"
	check_eq status 0 "$STATUS"
	check_eq answer through "$output"
	[ ! -e "$T/theirs/d/c" ]
}
