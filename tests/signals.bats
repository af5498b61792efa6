#!/usr/bin/env bats
# Signals and stdio: fatal signals clean up and re-raise, SIGPIPE never
# kills, and closed fds 0/1/2 never get mixed up with the socket.

load helpers

# watch_py: write $T/watch.py, which runs CMD... and writes CMD's own PID
# to PIDFILE and, when it ends, "signal N" or "exit N" to RCFILE, so that a
# death by signal is told apart from an exit.  Then it ends the same way, so
# a shell sees ucat's status.  The child starts with SIGPIPE at its default,
# whatever the caller had.
watch_py() {
	cat >"$T/watch.py" <<'EOF'
import os, signal, subprocess, sys

def put(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)

p = subprocess.Popen(sys.argv[3:], restore_signals=True)
put(sys.argv[1], str(p.pid))
rc = p.wait()
put(sys.argv[2], "signal %d" % -rc if rc < 0 else "exit %d" % rc)
if rc < 0:
    signal.signal(-rc, signal.SIG_DFL)
    os.kill(os.getpid(), -rc)
sys.exit(rc)
EOF
}

# watched NAME ARGS...: spawn "ucat ARGS" as NAME under watch.py; ucat's
# PID in $T/NAME.pid, how it ended in $T/NAME.rc.
watched() {
	local name=$1
	shift
	watched_cmd "$name" "$UCAT" "$@"
}

# watched_cmd NAME CMD...: the same for any CMD that execs ucat.
watched_cmd() {
	local name=$1
	shift
	watch_py
	spawn "$name" python3 "$T/watch.py" "$T/$name.pid" "$T/$name.rc" "$@"
	until_there "$T/$name.pid"
}

# until_there PATH: wait (bounded) for PATH to appear.
until_there() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.01
	done
	echo "$1 did not appear" >&2
	return 1
}

# ended NAME: wait (at most 5 s) for NAME's ucat to end; how in ENDED.
ended() {
	local i
	for ((i = 0; i < 500; i++)); do
		if [ -e "$T/$1.rc" ]; then
			ENDED=$(cat "$T/$1.rc")
			return 0
		fi
		sleep 0.01
	done
	echo "$1 still running 5 s after the signal" >&2
	return 1
}

# signal_listener SIG N [connected]: a listener gets SIG while it waits for
# a client (or, with "connected", while it serves one): it dies of SIG,
# 128+N to a shell, and its socket file is gone.
signal_listener() {
	local sig=$1 num=$2
	watched srv -v -l "$T/s" </dev/null
	wait_for srv 'listening on'
	if [ "${3-}" = connected ]; then
		mkfifo "$T/in"
		exec 4<>"$T/in"
		spawn cli "$UCAT" "$T/s" <"$T/in" 4>&-
		wait_for srv 'connection from'
	fi
	[ -S "$T/s" ]
	kill -s "$sig" "$(cat "$T/srv.pid")"
	ended srv
	check_eq "how the listener ended" "signal $num" "$ENDED"
	[ ! -e "$T/s" ]
	finish srv
	check_eq "status seen by the shell" $((128 + num)) "$STATUS"
	if [ "${3-}" = connected ]; then
		# The client sees its peer go and ends by itself.
		exec 4>&-
		finish cli
		check_eq "client status" 0 "$STATUS"
	fi
}

@test "signals: SIGINT to a waiting listener removes the file and kills" {
	signal_listener INT 2
}

@test "signals: SIGTERM to a waiting listener removes the file and kills" {
	signal_listener TERM 15
}

@test "signals: SIGHUP to a waiting listener removes the file and kills" {
	signal_listener HUP 1
}

@test "signals: SIGINT mid-connection removes the file and kills" {
	signal_listener INT 2 connected
}

@test "signals: SIGTERM mid-connection removes the file and kills" {
	signal_listener TERM 15 connected
}

@test "signals: SIGHUP mid-connection removes the file and kills" {
	signal_listener HUP 1 connected
}

# blocking_socket PID: the first socket of PID without O_NONBLOCK, once
# PID has begun to read its stdin (a socket is made non-blocking before
# that, so blocking then is the wait inside sendfile).
blocking_socket() {
	local pid=$1 fd flags
	(($(awk '/^pos:/ { print $2 }' "/proc/$pid/fdinfo/0") > 0)) || return 1
	for fd in "/proc/$pid/fd/"*; do
		[[ $(readlink "$fd") == socket:* ]] || continue
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$pid/fdinfo/${fd##*/}")
		# Octal: 04000 is O_NONBLOCK.
		((8#$flags & 8#4000)) || return 0
	done
	return 1
}

@test "signals: SIGTERM to a listener waiting inside sendfile cleans up" {
	[ -r /proc/self/fdinfo/0 ] || skip "no /proc/PID/fdinfo"
	[ -z "${UCAT_NO_SPLICE:-}" ] || skip "the read/write path has no sendfile"
	# 64 MiB that the client stops reading: the listener, with nothing
	# to receive, waits for room in the socket inside sendfile(2).
	truncate -s 64M "$T/data"
	watched srv -v -l "$T/s" <"$T/data"
	wait_for srv 'listening on'
	spawn cli bash -c '"$0" "$1" </dev/null | sleep 60' "$UCAT" "$T/s"
	wait_for srv 'connection from'
	local pid i
	pid=$(cat "$T/srv.pid")
	for ((i = 0; i < 1000; i++)); do
		blocking_socket "$pid" && break
		sleep 0.01
	done
	if ! blocking_socket "$pid"; then
		echo "the listener never waited inside sendfile" >&2
		return 1
	fi
	kill -s TERM "$pid"
	ended srv
	check_eq "how the listener ended" "signal 15" "$ENDED"
	[ ! -e "$T/s" ]
	finish srv
	check_eq "status seen by the shell" 143 "$STATUS"
}

@test "signals: SIGTERM leaves a stdin file's offset just past what was sent" {
	need_feature sendfile
	[ -r /proc/self/fdinfo/0 ] || skip "no /proc/PID/fdinfo"
	[ -z "${UCAT_NO_SPLICE:-}" ] || skip "read(2) leaves what it read unsent"
	need python3
	truncate -s 64M "$T/data"
	# A peer that sends nothing and reads only once told to: until then
	# ucat waits for room in the socket, inside sendfile(2).
	cat >"$T/peer.py" <<'EOF'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
c.shutdown(socket.SHUT_WR)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
n = 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    n += len(b)
print(n)
EOF
	spawn peer python3 "$T/peer.py" "$T/s" "$T/go"
	wait_sock "$T/s"
	local pid i
	{
		"$UCAT" --wait 5 "$T/s" &
		pid=$!
		PIDS+=("$pid")
		for ((i = 0; i < 1000; i++)); do
			blocking_socket "$pid" && break
			sleep 0.01
		done
		blocking_socket "$pid"
		kill -s TERM "$pid"
		wait "$pid" || true
		python3 -c 'import os; print(os.lseek(0, 0, os.SEEK_CUR))' \
			>"$T/offset"
	} <"$T/data"
	touch "$T/go"
	finish peer
	check_eq "peer status" 0 "$STATUS"
	check_eq "offset left, against bytes the peer got" \
		"$(cat "$T/peer.out")" "$(cat "$T/offset")"
}

@test "signals: a signal leaves a file moved over the path alone" {
	watched srv -v -l "$T/s" </dev/null
	wait_for srv 'listening on'
	printf 'replacement\n' >"$T/new"
	mv "$T/new" "$T/s"
	kill -s TERM "$(cat "$T/srv.pid")"
	ended srv
	check_eq "how the listener ended" "signal 15" "$ENDED"
	check_eq content replacement "$(cat "$T/s")"
}

@test "signals: --keep-file leaves the file after SIGTERM" {
	watched srv -v -l --keep-file "$T/s" </dev/null
	wait_for srv 'listening on'
	kill -s TERM "$(cat "$T/srv.pid")"
	ended srv
	check_eq "how the listener ended" "signal 15" "$ENDED"
	[ -S "$T/s" ]
}

@test "signals: SIGHUP ignored at start (nohup) stays ignored" {
	# nohup ucat ... &: a hangup must not end it (nor remove its file).
	watched_cmd srv nohup "$UCAT" -v -l "$T/s" </dev/null
	wait_for srv 'listening on'
	kill -s HUP "$(cat "$T/srv.pid")"
	echo after-hangup | timeout 20 "$UCAT" "$T/s"
	ended srv
	check_eq "how the listener ended" "exit 0" "$ENDED"
	check_eq received after-hangup "$(cat "$T/srv.out")"
}

# sigpipe_client FLAGS...: a client whose stdout pipe's reader stops early,
# while the server sends without end, ends by itself with 0 and no message.
sigpipe_client() {
	rm -f "$T/s" "$T/cli.rc"
	listen srv "$T/s" </dev/zero
	watch_py
	timeout 20 python3 "$T/watch.py" "$T/cli.pid" "$T/cli.rc" \
		"$UCAT" "$@" "$T/s" </dev/null 2>"$T/cli.err" |
		head -c 100000 >/dev/null
	check_eq "how the client $* ended" "exit 0" "$(cat "$T/cli.rc")"
	check_eq "client stderr" "" "$(cat "$T/cli.err")"
	finish srv
	check_eq "listener status" 0 "$STATUS"
}

@test "signals: SIGPIPE from a closed stdout pipe never kills ucat" {
	sigpipe_client
	# The plain read/write path as well as the zero-copy one.
	sigpipe_client --no-splice
}

@test "signals: with fd 0 closed the socket is not read as stdin" {
	printf 'from-server\n' >"$T/srv.in"
	listen srv "$T/s" <"$T/srv.in"
	STATUS=0
	timeout 20 "$UCAT" "$T/s" <&- >"$T/cli.out" || STATUS=$?
	check_eq "client status" 0 "$STATUS"
	check_eq "client printed" from-server "$(cat "$T/cli.out")"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener received bytes" 0 "$(wc -c <"$T/srv.out")"
}

@test "signals: with fd 1 closed the socket is not written as stdout" {
	printf 'from-server\n' >"$T/srv.in"
	printf 'from-client\n' >"$T/cli.in"
	listen srv "$T/s" <"$T/srv.in"
	# No half-close: the socket stays writable while the server's data
	# comes, so a socket at fd 1 would send it back.
	STATUS=0
	timeout 20 "$UCAT" --no-shutdown "$T/s" <"$T/cli.in" >&- || STATUS=$?
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener received" from-client "$(cat "$T/srv.out")"
}

@test "signals: with fd 2 closed messages do not go into the socket" {
	printf 'from-client\n' >"$T/cli.in"
	listen srv "$T/s" </dev/null
	STATUS=0
	timeout 20 "$UCAT" -v "$T/s" <"$T/cli.in" >"$T/cli.out" 2>&- ||
		STATUS=$?
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener received" from-client "$(cat "$T/srv.out")"
}

@test "signals: with fds 0, 1 and 2 closed a client still works" {
	printf 'from-server\n' >"$T/srv.in"
	listen srv "$T/s" <"$T/srv.in"
	STATUS=0
	timeout 20 "$UCAT" -v "$T/s" <&- >&- 2>&- || STATUS=$?
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener received bytes" 0 "$(wc -c <"$T/srv.out")"
	grep -q 'sent 12 bytes, received 0 bytes' "$T/srv.err"
}

@test "signals: SIGUSR1 prints the counts at once and ucat goes on" {
	mkfifo "$T/in" "$T/cin"
	exec 4<>"$T/in" 5<>"$T/cin"
	listen srv "$T/s" <&4
	spawn cli "$UCAT" "$T/s" <&5
	wait_for srv 'connection from'
	echo hello >&4
	wait_out cli hello
	# Without -v too, and again.
	kill -USR1 "$(ucat_of cli)"
	wait_for cli 'sent 0 bytes, received 6 bytes in [0-9.]* s$'
	kill -USR1 "$(ucat_of cli)"
	for ((i = 0; i < 500; i++)); do
		[ "$(grep -c 'received 6 bytes' "$T/cli.err")" = 2 ] && break
		sleep 0.01
	done
	check_eq "count lines" 2 "$(grep -c 'received 6 bytes' "$T/cli.err")"
	kill -0 "$cli_PID"
	# A listener with no connection yet is not ended by it either.
	listen idle "$T/t" </dev/null
	kill -USR1 "$(ucat_of idle)"
	run timeout 20 "$UCAT" "$T/t" <<<still
	finish idle
	check_eq "idle listener" still "$(cat "$T/idle.out")"
	exec 4>&- 5>&-
}
