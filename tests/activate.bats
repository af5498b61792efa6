#!/usr/bin/env bats
# Inherited sockets and readiness: systemd-socket-activate starting ucat in
# each of its modes (a listener, --accept, --inetd, --datagram,
# --seqpacket, --fdname), fd:N and its bad inputs, LISTEN_* kept from
# programs, NOTIFY_SOCKET read by a ucat -luL listener, --ready-fd in a
# script with no sleep, and the contrib/ units checked by systemd-analyze.

load helpers

# activate NAME ARGS...: systemd-socket-activate ARGS as NAME, once it
# listens.  It runs ucat (and, without --accept, becomes it) at the first
# connection.
activate() {
	local name=$1 env=()
	shift
	# It passes its child no environment but what -E says: a ucat
	# wrapper (check-copy, check-valgrind) needs to know its ucat.
	[ -z "${UCAT_REAL:-}" ] || env+=(-E "UCAT_REAL=$UCAT_REAL")
	[ -z "${UCAT_VALGRIND_LOGS:-}" ] ||
		env+=(-E "UCAT_VALGRIND_LOGS=$UCAT_VALGRIND_LOGS")
	spawn "$name" systemd-socket-activate "${env[@]}" "$@"
	wait_for "$name" 'Listening on'
}

@test "activate: -l with no address takes fd 3 from systemd, and leaves its file" {
	need systemd-socket-activate
	activate act -l "$T/s" "$UCAT" -v -l
	run timeout 20 "$UCAT" "$T/s" <<<"hello"
	check_eq "client" 0 "$status"
	finish act
	check_eq "status" 0 "$STATUS"
	check_eq "received" hello "$(cat "$T/act.out")"
	grep -q "^ucat: listening on $T/s$" "$T/act.err"
	# The file is systemd's: ucat never removes it.
	[ -S "$T/s" ]
}

@test "activate: an activated -lk relay, type and -k from the socket" {
	need systemd-socket-activate
	listen back -k "$T/back" -c 'tr a-z A-Z'
	activate act -l "$T/front" "$UCAT" -v -lk fd:3 "$T/back"
	for word in one two three; do
		run timeout 20 "$UCAT" "$T/front" <<<"$word"
		check_eq "reply to $word" "${word^^}" "$output"
	done
	check_eq "clients" 3 "$(connections act)"
	kill "$act_PID"
	finish act
	[ -S "$T/front" ]
}

@test "activate: --accept passes each connection: ucat -l pumps it" {
	need systemd-socket-activate
	activate act --accept -l "$T/s" "$UCAT" -v -l -c 'tr a-z A-Z'
	for word in alpha beta; do
		run timeout 20 "$UCAT" "$T/s" <<<"$word"
		check_eq "reply to $word" "${word^^}" "$output"
	done
	check_eq "each a connection" 2 "$(grep -c '^ucat: connected to fd:3$' \
		"$T/act.err")"
}

@test "activate: --inetd: the connection is stdin and stdout, relayed with fd:0" {
	need systemd-socket-activate
	listen back -k "$T/back" -c 'tr a-z A-Z'
	activate act --inetd -l "$T/s" "$UCAT" fd:0 "$T/back"
	run timeout 20 "$UCAT" "$T/s" <<<"inetd"
	check_eq "reply" INETD "$output"
}

@test "activate: --datagram and --seqpacket: the type is the socket's" {
	need systemd-socket-activate
	activate dg --datagram -l "$T/d" "$UCAT" -v -l
	timeout 20 "$UCAT" -u "$T/d" <<<"a datagram"
	wait_out dg "a datagram"
	kill "$dg_PID"
	activate sp --seqpacket -l "$T/p" "$UCAT" -L -l
	printf 'one\ntwo\n' | timeout 20 "$UCAT" --seqpacket -L "$T/p"
	finish sp
	check_eq "messages" "one
two" "$(cat "$T/sp.out")"
	# A type flag that disagrees is a usage error naming the socket's.
	activate bad --datagram -l "$T/b" "$UCAT" --seqpacket -l
	timeout 20 "$UCAT" -u "$T/b" <<<"x"
	finish bad
	check_eq "status" 2 "$STATUS"
	check_eq "error" \
		"ucat: --seqpacket: address 'fd:3' is a datagram socket" \
		"$(grep '^ucat:' "$T/bad.err")"
}

@test "activate: --fdname: fdname:NAME picks one; -l alone with two is a usage error" {
	need systemd-socket-activate
	activate act -l "$T/a" -l "$T/b" --fdname=first:second \
		"$UCAT" -v -l fdname:second
	run timeout 20 "$UCAT" "$T/b" <<<"to the second"
	finish act
	check_eq "status" 0 "$STATUS"
	check_eq "received" "to the second" "$(cat "$T/act.out")"
	grep -q "^ucat: listening on $T/b$" "$T/act.err"
	activate two -l "$T/c" -l "$T/d" "$UCAT" -l
	timeout 20 "$UCAT" -z "$T/c" || true
	finish two
	check_eq "status" 2 "$STATUS"
	grep -q "^ucat: -l: 2 sockets were passed (LISTEN_FDS): name one" \
		"$T/two.err"
	# Without --fdname, systemd's name for each socket is "unknown".
	activate unk -l "$T/u" "$UCAT" -v -l fdname:unknown
	timeout 20 "$UCAT" -d "$T/u"
	finish unk
	check_eq "fdname:unknown" 0 "$STATUS"
	activate none -l "$T/e" --fdname=x "$UCAT" -l fdname:y
	timeout 20 "$UCAT" -z "$T/e" || true
	finish none
	check_eq "status" 2 "$STATUS"
	grep -q "^ucat: address 'fdname:y': no socket of that name was passed" \
		"$T/none.err"
}

@test "activate: LISTEN_* and the socket itself never reach a program" {
	need systemd-socket-activate
	# spawn closes fd 3: there, only the socket systemd passed could be.
	activate act -l "$T/s" "$UCAT" -lk -c \
		'env | grep -c "^LISTEN_"; ls /proc/$$/fd | grep -cx 3'
	run timeout 20 "$UCAT" -d "$T/s"
	check_eq "LISTEN_ variables, then fd 3s in the program" "0
0" "$output"
}

@test "activate: LISTEN_PID of another process is ignored, as sd_listen_fds does" {
	run env LISTEN_PID=1 LISTEN_FDS=1 timeout 20 "$UCAT" -l 3<"$BATS_TEST_FILENAME"
	check_eq "status" 2 "$status"
	check_eq "error" "ucat: no address given" "${lines[0]}"
}

@test "activate: fd:N that is closed, a file, UDP, or used wrongly: usage errors" {
	need python3
	run timeout 20 "$UCAT" fd:9
	check_eq "closed" 2 "$status"
	check_eq "closed error" "ucat: address 'fd:9': descriptor 9 is not open" \
		"${lines[0]}"
	run timeout 20 "$UCAT" fd:3 3<"$BATS_TEST_FILENAME"
	check_eq "a file" 2 "$status"
	check_eq "file error" \
		"ucat: address 'fd:3': descriptor 3 is not a socket" "${lines[0]}"
	run timeout 20 python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.execv(sys.argv[1], [sys.argv[1], "fd:3"])' "$UCAT"
	check_eq "UDP" 2 "$status"
	check_eq "UDP error" \
		"ucat: address 'fd:3': not a Unix socket, nor a TCP stream" \
		"${lines[0]}"
	run timeout 20 "$UCAT" fd:x
	check_eq "not a number" 2 "$status"
	[[ ${lines[0]} == "ucat: address 'fd:x': expected fd:N"* ]]
	listen srv -k "$T/s"
	run timeout 20 "$UCAT" "$T/s" fd:0
	check_eq "fd: target" 2 "$status"
	[[ ${lines[0]} == "ucat: target 'fd:0': a relay connects"* ]]
	# The pump's own stdin as its socket: read and written twice over.
	run timeout 20 python3 -c 'import os, socket, sys
a, b = socket.socketpair()
os.dup2(a.fileno(), 0)
os.execv(sys.argv[1], [sys.argv[1], "fd:0"])' "$UCAT"
	check_eq "stdin in a pump" 2 "$status"
	[[ ${lines[0]} == "ucat: address 'fd:0': standard input is an end"* ]]
}

# Runs argv[2:] with a listening Unix socket bound to argv[1], made
# non-blocking, on fd 3 (as a parent that passes its own socket would).
INHERIT='import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
s.setblocking(False)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.execv(sys.argv[2], sys.argv[2:])'

# inherited CMD...: CMD with such a socket on fd 3.
inherited() {
	python3 -c "$INHERIT" "$T/l.$RANDOM" "$@"
}

@test "activate: -m, -s, -z, --ready-fd on the socket itself: usage errors" {
	need python3
	run inherited "$UCAT" -m 600 fd:3
	check_eq "-m" "ucat: -m: 'fd:3' is a socket ucat did not create" \
		"${lines[0]}"
	run inherited "$UCAT" -s "$T/src" fd:3
	check_eq "-s" "ucat: -s: 'fd:3' is bound already" "${lines[0]}"
	run inherited "$UCAT" -z fd:3
	check_eq "-z" "ucat: -z: 'fd:3' is a socket ucat was given, not an address to connect to" \
		"${lines[0]}"
	run inherited "$UCAT" --ready-fd 3 fd:3
	check_eq "--ready-fd" "ucat: --ready-fd: 3 is the socket of 'fd:3'" \
		"${lines[0]}"
	run timeout 20 "$UCAT" -s fd:3 "$T/back"
	check_eq "-s fd:" 2 "$status"
	[[ ${lines[0]} == "ucat: -s: address 'fd:3': a source is bound"* ]]
	[ ! -e "$T/src" ]
}

@test "activate: a non-blocking inherited listener, and -s of its relay's target" {
	need python3
	listen back -k "$T/back" -c 'tr a-z A-Z'
	spawn rel python3 -c "$INHERIT" "$T/front" "$UCAT" -v -lk fd:3 "$T/back"
	wait_for rel 'listening on'
	# A second accept(2) would fail at once on a non-blocking socket.
	for word in one two; do
		run timeout 20 "$UCAT" "$T/front" <<<"$word"
		check_eq "reply to $word" "${word^^}" "$output"
	done
	check_eq "clients" 2 "$(connections rel)"
	# In a relay, -s is the source of the connection to TARGET.
	spawn one python3 -c "$INHERIT" "$T/front2" "$UCAT" -v -l -s "$T/src" \
		fd:3 "$T/back"
	wait_for one 'listening on'
	run timeout 20 "$UCAT" "$T/front2" <<<"three"
	check_eq "reply through -s" THREE "$output"
}

# --- readiness ------------------------------------------------------------

@test "notify: READY=1 and STATUS= once listening, STOPPING=1 at exit" {
	listen note -uL "$T/notify"
	NOTIFY_SOCKET=$T/notify listen srv "$T/s"
	wait_out note "^READY=1$"
	wait_out note "^STATUS=listening on $T/s$"
	echo hi | timeout 20 "$UCAT" "$T/s"
	finish srv
	check_eq "status" 0 "$STATUS"
	wait_out note "^STOPPING=1$"
	check_eq "all it said" "READY=1
STATUS=listening on $T/s

STOPPING=1" "$(cat "$T/note.out")"
}

@test "notify: an @abstract NOTIFY_SOCKET, a client, and SIGTERM: STOPPING=1" {
	need_feature abstract
	local name=@ucat-notify-$$-$RANDOM
	listen note -uL "$name"
	NOTIFY_SOCKET=$name listen srv -k "$T/s"
	wait_out note "^READY=1$"
	kill "$srv_PID"
	finish srv
	wait_out note "^STOPPING=1$"
	# A client: ready once connected.
	listen back "$T/back" </dev/null
	NOTIFY_SOCKET=$name timeout 20 "$UCAT" -d "$T/back"
	wait_out note "^STATUS=connected to $T/back$"
}

@test "notify: programs do not see NOTIFY_SOCKET; a dead one is a warning" {
	listen note -uL "$T/notify"
	NOTIFY_SOCKET=$T/notify listen srv -k "$T/s" \
		-c 'echo "[${NOTIFY_SOCKET-unset}]"'
	run timeout 20 "$UCAT" -d "$T/s"
	check_eq "what the program saw" "[unset]" "$output"
	# Nobody at NOTIFY_SOCKET: one warning, and ucat goes on.
	listen back "$T/back" </dev/null
	run env NOTIFY_SOCKET="$T/nobody" timeout 20 "$UCAT" -d "$T/back"
	check_eq "status" 0 "$status"
	check_eq "warning" \
		"ucat: NOTIFY_SOCKET $T/nobody: No such file or directory" \
		"$output"
}

@test "ready-fd: a script waits on it, then connects at once, no sleep" {
	local line
	# The newline comes once ucat listens: the client that follows
	# never races the listener.
	exec 6< <(exec timeout 60 "$UCAT" -l --ready-fd 5 "$T/s" 5>&1 \
		>"$T/srv.out" 2>"$T/srv.err" </dev/null)
	PIDS+=("$!")
	read -r -t 60 line <&6
	check_eq "the line" "" "$line"
	[ -S "$T/s" ]
	echo "no race" | timeout 20 "$UCAT" "$T/s"
	# And then it is closed: the reader sees the end.
	! read -r -t 60 line <&6
	exec 6<&-
	check_eq "received" "no race" "$(cat "$T/srv.out")"
}

@test "ready-fd: a descriptor that is not open, or stdio, is a usage error" {
	run timeout 20 "$UCAT" -l --ready-fd 7 "$T/s"
	check_eq "status" 2 "$status"
	check_eq "error" "ucat: --ready-fd: descriptor 7 is not open" \
		"${lines[0]}"
	run timeout 20 "$UCAT" -l --ready-fd 1 "$T/s"
	check_eq "status" 2 "$status"
	[[ ${lines[0]} == "ucat: --ready-fd: 1 is standard output"* ]]
	[ ! -e "$T/s" ]
}

@test "contrib: the unit files pass systemd-analyze verify" {
	need systemd-analyze
	local f units=()
	for f in "$BATS_TEST_DIRNAME"/../contrib/*.socket \
	    "$BATS_TEST_DIRNAME"/../contrib/*.service; do
		# The units name the installed binary; the built one stands in.
		sed "s|/usr/bin/ucat|${UCAT_REAL:-$UCAT}|" "$f" \
			>"$T/${f##*/}"
		units+=("$T/${f##*/}")
	done
	check_eq "units" 3 "${#units[@]}"
	run timeout 120 systemd-analyze verify --man=no "${units[@]}"
	check_eq "verify status" 0 "$status"
	check_eq "verify output" "" "$output"
}
