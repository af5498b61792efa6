#!/usr/bin/env bats
# Faults: a peer killed or stopped mid-transfer, stdio that is closed, full,
# empty or the wrong kind of file, and a -k -e child killed.  Each case ends
# with the right status and message, leaves no socket file and never hangs.

load helpers

# until_size FILE BYTES: wait (at most 10 s) until FILE holds BYTES or more.
until_size() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] &&
			return 0
		sleep 0.01
	done
	echo "$1 never reached $2 bytes" >&2
	return 1
}

# until_stopped PID: wait (bounded) until PID is in the stopped state.
until_stopped() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(cut -d' ' -f3 "/proc/$1/stat")" = T ] && return 0
		sleep 0.01
	done
	echo "$1 did not stop" >&2
	return 1
}

# until_queued PID BYTES: wait (at most 10 s) until a connected socket of
# PID holds BYTES or more that PID has not read (the Recv-Q of ss -x).
until_queued() {
	local i q
	for ((i = 0; i < 1000; i++)); do
		q=$(ss -x -p | awk -v p="pid=$1," '
			$2 == "ESTAB" && index($0, p) { print $3; exit }')
		[ "${q:-0}" -ge "$2" ] && return 0
		sleep 0.01
	done
	echo "pid $1 never had $2 bytes waiting" >&2
	return 1
}

# until_piped FIFO BYTES: wait (at most 10 s) until FIFO holds BYTES or more.
until_piped() {
	timeout 10 python3 - "$1" "$2" <<-'EOF'
		import fcntl, os, struct, sys, termios, time
		fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
		def held():
		    n = fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4)
		    return struct.unpack("i", n)[0]
		while held() < int(sys.argv[2]):
		    time.sleep(0.01)
	EOF
}

# quiet NAME: NAME's stderr holds only -v reports, no error or warning.
quiet() {
	local v='listening on|connected to|connection from|sent [0-9]+ bytes'
	v+='|program [0-9]+ (exited with|killed by signal) [0-9]+$'
	check_eq "$1 stderr beyond -v" "" \
		"$(grep -v -E "^ucat: ($v)" "$T/$1.err")"
}

@test "faults: a client killed mid-transfer ends the listener with 0" {
	# Both ways at once, without end, until the kill.
	listen srv "$T/s" </dev/zero
	spawn cli "$UCAT" -v "$T/s" </dev/zero
	wait_for cli 'connected to'
	until_size "$T/srv.out" 1048576
	until_size "$T/cli.out" 1048576
	kill -KILL "$(ucat_of cli)"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	quiet srv
	grep -q 'sent [1-9][0-9]* bytes, received [1-9][0-9]* bytes' \
		"$T/srv.err"
	[ ! -e "$T/s" ]
	finish cli
	check_eq "client status (killed under timeout)" 137 "$STATUS"
}

@test "faults: a listener killed mid-transfer ends the client with 0" {
	listen srv "$T/s" </dev/zero
	spawn cli "$UCAT" -v -s "$T/c" "$T/s" </dev/zero
	wait_for cli 'connected to'
	until_size "$T/srv.out" 1048576
	until_size "$T/cli.out" 1048576
	kill -KILL "$(ucat_of srv)"
	finish cli
	check_eq "client status" 0 "$STATUS"
	quiet cli
	# The client's own -s file goes with it.
	[ ! -e "$T/c" ]
	# SIGKILL leaves the listener no chance to remove its file; what is
	# left is stale, and the next listener there takes it over.
	[ -S "$T/s" ]
	listen again "$T/s" </dev/null
	echo after | timeout 20 "$UCAT" "$T/s"
	finish again
	check_eq "next listener status" 0 "$STATUS"
	check_eq "next listener got" after "$(cat "$T/again.out")"
	[ ! -e "$T/s" ]
}

# stdout_closed_early FLAGS...: the listener's stdout pipe is read for 1000
# bytes and then closed while the client still sends 8 MiB.  The listener
# stops receiving but still sends all of its stdin, and both end with 0.
stdout_closed_early() {
	rm -f "$T/srv.err" "$T/srv.out" "$T/cli.out" "$T/head.out"
	spawn srv bash -c '"$0" -v -l "$@" <"$IN" | head -c 1000 >"$HEAD"
		exit "${PIPESTATUS[0]}"' "$UCAT" "$@" "$T/s"
	wait_for srv 'listening on'
	STATUS=0
	timeout 20 "$UCAT" "$T/s" <"$T/big" >"$T/cli.out" 2>"$T/cli.err" ||
		STATUS=$?
	check_eq "client status $*" 0 "$STATUS"
	check_eq "client stderr $*" "" "$(cat "$T/cli.err")"
	check_eq "listener's stdin at the client $*" \
		"$(sha "$IN")" "$(sha "$T/cli.out")"
	check_eq "what head read $*" 1000 "$(stat -c %s "$HEAD")"
	finish srv
	check_eq "listener status $*" 0 "$STATUS"
	quiet srv
	[ ! -e "$T/s" ]
}

@test "faults: a listener whose stdout closes early still sends, ends 0" {
	head -c 1048576 /dev/urandom >"$T/in"
	head -c 8388608 /dev/urandom >"$T/big"
	export IN="$T/in" HEAD="$T/head.out"
	stdout_closed_early
	stdout_closed_early --no-splice
}

@test "faults: stdin /dev/null on both ends sends nothing and ends 0" {
	listen srv "$T/s" </dev/null
	STATUS=0
	timeout 20 "$UCAT" -v "$T/s" </dev/null >"$T/cli.out" 2>"$T/cli.err" ||
		STATUS=$?
	check_eq "client status" 0 "$STATUS"
	grep -q 'sent 0 bytes, received 0 bytes' "$T/cli.err"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	grep -q 'sent 0 bytes, received 0 bytes' "$T/srv.err"
	check_eq "client got" "" "$(cat "$T/cli.out")"
	check_eq "listener got" "" "$(cat "$T/srv.out")"
	[ ! -e "$T/s" ]
}

@test "faults: a listener whose stdin is a directory fails naming stdin" {
	listen srv "$T/s" <"$T"
	STATUS=0
	timeout 20 "$UCAT" "$T/s" <<<"hello" >"$T/cli.out" 2>"$T/cli.err" ||
		STATUS=$?
	check_eq "client status (its peer went away)" 0 "$STATUS"
	finish srv
	check_eq "listener status" 1 "$STATUS"
	check_eq "listener error" "ucat: stdin: Is a directory" \
		"$(grep -v 'listening on\|connection from\|bytes' "$T/srv.err")"
	[ ! -e "$T/s" ]
}

# wrong_way WHAT HOW FLAGS...: a client whose stdin is open for writing
# only, or whose stdout is open for reading only (HOW: file-w, fifo-w,
# file-r, fifo-r), must fail at once: exit 1 and one line naming WHAT
# (stdin or stdout).  A mismatch is added to WRONG.
wrong_way() {
	local what=$1 how=$2 got
	shift 2
	rm -f "$T/s"
	listen srv "$T/s" <<<"from listener"
	STATUS=0
	case $how in
	file-w) timeout 20 "$UCAT" "$@" "$T/s" 0>>"$T/file" ;;
	fifo-w) timeout 20 "$UCAT" "$@" "$T/s" 0>"$T/fifo" ;;
	file-r) timeout 20 "$UCAT" "$@" "$T/s" 1<"$T/file" </dev/zero ;;
	fifo-r) timeout 20 "$UCAT" "$@" "$T/s" 1<"$T/fifo" </dev/zero ;;
	esac >"$T/out" 2>"$T/err" || STATUS=$?
	got="$STATUS $(cat "$T/err")"
	[ "$got" = "1 ucat: $what: Bad file descriptor" ] ||
		WRONG+=("$what as $how ${*:-(splice)}: [$got]")
	# The refused client never connected: take the listener's one
	# connection so that it ends now rather than at its time limit.
	"$UCAT" -z "$T/s" || true
	finish srv
	[ ! -e "$T/s" ] || WRONG+=("$what as $how $*: socket file left")
}

@test "faults: stdin open for writing, stdout for reading: an error naming it" {
	printf 'kept\n' >"$T/file"
	mkfifo "$T/fifo"
	# Holding both ends keeps the fifo open without a partner.
	exec 4<>"$T/fifo"
	WRONG=()
	local flags
	for flags in --no-splice ""; do
		wrong_way stdin file-w $flags 4>&-
		wrong_way stdin fifo-w $flags 4>&-
		wrong_way stdout file-r $flags 4>&-
		wrong_way stdout fifo-r $flags 4>&-
	done
	exec 4>&-
	check_eq "the file" kept "$(cat "$T/file")"
	# 124 is timeout's status: ucat was still waiting after 20 s.
	if [ "${#WRONG[@]}" -gt 0 ]; then
		printf 'expected [1 ucat: stdin|stdout: %s], %s\n' \
			'Bad file descriptor' "${WRONG[@]}" >&2
		return 1
	fi
}

@test "faults: a listener with fds 0, 1 and 2 closed serves and cleans up" {
	# ucat gives 0, 1 and 2 /dev/null: the socket must not land there,
	# or the listener would send what it receives back to the client.
	spawn srv bash -c 'exec "$@" <&- >&- 2>&-' _ "$UCAT" -l "$T/s"
	STATUS=0
	timeout 20 "$UCAT" --wait 10 "$T/s" <<<"from-client" \
		>"$T/cli.out" 2>"$T/cli.err" || STATUS=$?
	check_eq "client status" 0 "$STATUS"
	check_eq "client got" "" "$(cat "$T/cli.out")"
	check_eq "client stderr" "" "$(cat "$T/cli.err")"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	[ ! -e "$T/s" ]

	# The same for a -k -e server: its programs still get the socket.
	spawn srv2 bash -c 'exec "$@" <&- >&- 2>&-' _ "$UCAT" -lk "$T/s2" -e cat
	run timeout 20 "$UCAT" --wait 10 "$T/s2" <<<"echoed"
	check_eq "reply through -k -e" echoed "$output"
	run timeout 20 "$UCAT" "$T/s2" <<<"again"
	check_eq "second reply through -k -e" again "$output"
	kill "$(ucat_of srv2)"
	finish srv2
	check_eq "server killed by SIGTERM" 143 "$STATUS"
	[ ! -e "$T/s2" ]
}

# stop_peer WHO: while 1 MiB and then 4 MiB more go from the client to the
# listener, WHO is stopped: srv, the receiver, until the client has filled
# the socket; or cli, the sender, until data waits in its stdin.  Then it
# is continued, and every byte still arrives, in order.
stop_peer() {
	local who=$1 pid
	head -c 1048576 /dev/urandom >"$T/part1"
	head -c 4194304 /dev/urandom >"$T/part2"
	cat "$T/part1" "$T/part2" >"$T/all"
	mkfifo "$T/in"
	exec 4<>"$T/in"
	listen srv "$T/s" </dev/null 4>&-
	spawn cli "$UCAT" -v "$T/s" <"$T/in" 4>&-
	wait_for cli 'connected to'
	cat "$T/part1" >&4
	until_size "$T/srv.out" 1048576
	pid=$(ucat_of "$who")
	kill -STOP "$pid"
	until_stopped "$pid"
	spawn feed bash -c 'cat "$1" >"$2"' _ "$T/part2" "$T/in" 4>&-
	if [ "$who" = srv ]; then
		# The client sends into a full socket while its peer sleeps.
		until_queued "$pid" 131072
	else
		# Data waits in the stopped client's stdin.
		until_piped "$T/in" 65536
	fi
	kill -CONT "$pid"
	finish feed
	exec 4>&-
	finish cli
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	quiet cli
	quiet srv
	check_eq "sha256 of 5 MiB" "$(sha "$T/all")" "$(sha "$T/srv.out")"
	[ ! -e "$T/s" ]
}

@test "faults: SIGSTOP and SIGCONT of the receiving listener lose no byte" {
	need ss
	stop_peer srv
}

@test "faults: SIGSTOP and SIGCONT of the sending client lose no byte" {
	stop_peer cli
}

@test "faults: a -k -e child killed ends its client, the server goes on" {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	listen srv -k "$T/s" -e cat </dev/null 4>&-
	local server child i
	server=$(ucat_of srv)
	spawn cli "$UCAT" "$T/s" <"$T/in" 4>&-
	echo first >&4
	until_size "$T/cli.out" 6
	child=$(pgrep -P "$server" -x cat)
	kill -KILL "$child"
	# The client's stdin is still open: only the peer's going ends it.
	finish cli
	check_eq "client status" 0 "$STATUS"
	check_eq "client got" first "$(cat "$T/cli.out")"
	exec 4>&-
	kill -0 "$server"
	run timeout 20 "$UCAT" "$T/s" <<<"next"
	check_eq "next client's reply" next "$output"
	for ((i = 0; i < 500; i++)); do
		[ "$(zombies "$server")" = 0 ] && break
		sleep 0.01
	done
	check_eq zombies 0 "$(zombies "$server")"
	quiet srv

	# Without -k ucat ends with the killed program's status, 128 + 9.
	mkfifo "$T/in2"
	exec 4<>"$T/in2"
	listen one "$T/one" -e cat </dev/null 4>&-
	spawn cli2 "$UCAT" "$T/one" <"$T/in2" 4>&-
	echo first >&4
	until_size "$T/cli2.out" 6
	kill -KILL "$(pgrep -P "$(ucat_of one)" -x cat)"
	finish one
	check_eq "one-shot server status" 137 "$STATUS"
	[ ! -e "$T/one" ]
	finish cli2
	check_eq "its client status" 0 "$STATUS"
	exec 4>&-
}

@test "faults: a non-blocking stdout pipe is waited on, not spun on" {
	need python3
	# The reader starts late, on a pipe someone made non-blocking: ucat
	# must wait in poll(2), not retry, and its CPU time shows which.
	cat >"$T/late.py" <<'EOF'
import fcntl, os, resource, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=w)
os.close(w)
time.sleep(1)
n = 0
while True:
    b = os.read(r, 1 << 16)
    if not b:
        break
    n += len(b)
_, status, ru = os.wait4(p.pid, 0)
print(n, os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime)
EOF
	# More than a pipe holds (1 MiB at most, unprivileged).
	head -c 8388608 /dev/urandom >"$T/data"
	listen srv "$T/s" <"$T/data"
	run timeout 20 python3 "$T/late.py" - "$UCAT" "$T/s"
	finish srv
	read -r bytes rc cpu <<<"$output"
	check_eq bytes 8388608 "$bytes"
	check_eq "ucat status" 0 "$rc"
	# Spinning for the reader's second costs most of a second of CPU.
	if ! awk -v c="$cpu" 'BEGIN { exit !(c < 0.3) }'; then
		echo "ucat used $cpu s of CPU waiting for its reader" >&2
		return 1
	fi
}

@test "faults: stdout on /dev/full is exit 1 naming stdout, no file left" {
	# The listener's stdout is full.
	spawn srv bash -c 'exec "$@" >/dev/full' _ "$UCAT" -v -l "$T/s" \
		</dev/null
	wait_for srv 'listening on'
	STATUS=0
	timeout 20 "$UCAT" -s "$T/c" "$T/s" <<<"hello" 2>"$T/cli.err" ||
		STATUS=$?
	check_eq "client status" 0 "$STATUS"
	check_eq "client stderr" "" "$(cat "$T/cli.err")"
	finish srv
	check_eq "listener status" 1 "$STATUS"
	check_eq "listener error" "ucat: stdout: No space left on device" \
		"$(grep -v 'listening on\|connection from\|bytes' "$T/srv.err")"
	[ ! -e "$T/s" ]
	[ ! -e "$T/c" ]

	# The client's stdout is full; its -s file goes too.
	listen srv2 "$T/s2" </dev/zero
	STATUS=0
	timeout 20 "$UCAT" -s "$T/c2" "$T/s2" </dev/null >/dev/full \
		2>"$T/cli2.err" || STATUS=$?
	check_eq "client status" 1 "$STATUS"
	check_eq "client error" "ucat: stdout: No space left on device" \
		"$(cat "$T/cli2.err")"
	finish srv2
	check_eq "listener status" 0 "$STATUS"
	quiet srv2
	[ ! -e "$T/s2" ]
	[ ! -e "$T/c2" ]
}

@test "faults: stdout on a full tmpfs is exit 1 naming stdout" {
	[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
	unshare -m true 2>/dev/null || skip "no mount namespace"
	head -c 1048576 /dev/urandom >"$T/data"
	mkdir "$T/mnt"
	# A private mount namespace: the 64 KiB tmpfs is nobody else's.
	spawn srv unshare -m bash -c 'mount -t tmpfs -o size=64k tmpfs "$1" &&
		exec "$2" -v -l "$3" >"$1/out"' _ "$T/mnt" "$UCAT" "$T/s"
	wait_for srv 'listening on'
	STATUS=0
	timeout 20 "$UCAT" "$T/s" <"$T/data" 2>"$T/cli.err" || STATUS=$?
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq "listener status" 1 "$STATUS"
	check_eq "listener error" "ucat: stdout: No space left on device" \
		"$(grep -v 'listening on\|connection from\|bytes' "$T/srv.err")"
	[ ! -e "$T/s" ]
}
