#!/usr/bin/env bats
# Sequenced packets (--seqpacket): a connection like a stream, with
# half-close, whose messages keep their boundaries.

load helpers
bats_require_minimum_version 1.5.0

# A Python seqpacket listener that shares no code with ucat: bind argv[1],
# accept one connection, print each message received as a Python bytes
# literal, one per line, until the message argv[2]; then wait for EOF
# (print "eof"), send each of argv[3:] as one message and close.
PY_SERVER='
import socket, sys
l = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
l.bind(sys.argv[1])
l.listen(1)
c, _ = l.accept()
while True:
    m = c.recv(1 << 20)
    print(repr(m), flush=True)
    if m == sys.argv[2].encode():
        break
if c.recv(1 << 20) == b"":
    print("eof", flush=True)
for a in sys.argv[3:]:
    c.send(a.encode())
c.close()
'

# A Python seqpacket client: connect to argv[1], send each of argv[2:] as
# one message, half-close and print "shut", then print what arrives until
# EOF and close.
PY_CLIENT='
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
for a in sys.argv[2:]:
    s.send(a.encode())
s.shutdown(socket.SHUT_WR)
print("shut", flush=True)
while True:
    m = s.recv(1 << 20)
    if not m:
        break
    print(repr(m), flush=True)
s.close()
'

# A Python seqpacket client that connects to argv[1], sends each of
# argv[2:] as one message and closes at once.
PY_BURST='
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
for a in sys.argv[2:]:
    s.send(a.encode())
s.close()
'

# listen_fifo NAME ARGS...: like listen, with stdin from the fifo $T/NAME.in
# whose write end is fd 5 of the test; the background shell opens the
# fifo, so opening its write end here does not block.
listen_fifo() {
	local name=$1
	shift
	mkfifo "$T/$name.in"
	spawn "$name" sh -c 'in=$1; shift; exec "$@" <"$in"' sh \
	    "$T/$name.in" "$UCAT" -v -l "$@"
	exec 5>"$T/$name.in"
	wait_for "$name" 'listening on'
}

# listen_stopped NAME ARGS...: start "ucat -v -l ARGS" as NAME, wait until
# it listens, then stop it (SIGSTOP); its PID is in $T/NAME.pid.
listen_stopped() {
	local name=$1
	shift
	spawn "$name" sh -c 'echo $$ >"$0"; exec "$@"' "$T/$name.pid" \
	    "$UCAT" -v -l "$@"
	wait_for "$name" 'listening on'
	kill -STOP "$(cat "$T/$name.pid")"
}

@test "seqpacket: data goes both ways between listener and client" {
	echo from-server >"$T/server.in"
	listen srv --seqpacket "$T/s" <"$T/server.in"
	run timeout 20 "$UCAT" -v --seqpacket "$T/s" <<<from-client
	check_eq "client status" 0 "$status"
	check_eq "client output" "ucat: connected to $T/s
from-server" "$(sed '$d' <<<"$output")"
	[[ ${lines[2]} =~ ^ucat:\ sent\ 12\ bytes,\ received\ 12\ bytes\ in\ [0-9.]+\ s$ ]]
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener output" from-client "$(cat "$T/srv.out")"
	if has_feature peercred; then
		grep -q '^ucat: connection from pid [0-9]* uid [0-9]* gid [0-9]*$' \
		    "$T/srv.err"
	else
		grep -q "^ucat: connection from an unknown peer on $T/s$" \
		    "$T/srv.err"
	fi
	[ ! -e "$T/s" ]
}

@test "seqpacket: abstract names work" {
	need_feature abstract
	local name="@ucat-$BATS_TEST_NUMBER-$$-$RANDOM"

	echo from-server >"$T/server.in"
	listen srv --seqpacket "$name" <"$T/server.in"
	run timeout 20 "$UCAT" --seqpacket "$name" <<<from-client
	check_eq "client status" 0 "$status"
	check_eq "client output" from-server "$output"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener output" from-client "$(cat "$T/srv.out")"
}

@test "seqpacket: -L sends each line as a message, an empty line as an empty one" {
	spawn py python3 -c "$PY_SERVER" "$T/s" ccc answer
	wait_sock "$T/s"
	printf 'a\nbb\n\nccc\n' >"$T/msg"
	run timeout 20 "$UCAT" --seqpacket -L "$T/s" <"$T/msg"
	check_eq "client status" 0 "$status"
	# The client half-closed at stdin EOF and still got the answer.
	check_eq "client output" answer "$output"
	finish py
	check_eq "peer status" 0 "$STATUS"
	check_eq "messages" "b'a'
b'bb'
b''
b'ccc'
eof" "$(cat "$T/py.out")"
}

@test "seqpacket: without -L one read of stdin is one message" {
	spawn py python3 -c "$PY_SERVER" "$T/s" $'a\nb\n'
	wait_sock "$T/s"
	printf 'a\nb\n' >"$T/msg"
	run timeout 20 "$UCAT" --seqpacket "$T/s" <"$T/msg"
	check_eq "client status" 0 "$status"
	finish py
	check_eq "messages" "b'a\\nb\\n'
eof" "$(cat "$T/py.out")"
}

@test "seqpacket: messages waiting at the listener arrive one per line with -L" {
	# Everything is queued while the listener is stopped, so it finds the
	# messages and the peer's close all at once.
	listen_stopped srv --seqpacket -L -d "$T/s"
	timeout 20 python3 -c "$PY_BURST" "$T/s" first second third
	kill -CONT "$(cat "$T/srv.pid")"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener output" "first
second
third" "$(cat "$T/srv.out")"
}

@test "seqpacket: an empty message before the peer's close is not its EOF" {
	need_feature passcred
	listen_stopped srv --seqpacket -L -d "$T/s"
	timeout 20 python3 -c "$PY_BURST" "$T/s" one "" two
	kill -CONT "$(cat "$T/srv.pid")"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener output" "one

two" "$(cat "$T/srv.out")"
}

@test "seqpacket: the listener sees the client's half-close and still answers" {
	listen_fifo srv --seqpacket "$T/s"
	# Without fd 5, so that closing it is the listener's stdin EOF.
	spawn py python3 -c "$PY_CLIENT" "$T/s" question 5>&-
	wait_out py shut
	wait_out srv question
	echo answer >&5
	exec 5>&-
	finish py
	check_eq "peer status" 0 "$STATUS"
	check_eq "peer output" "shut
b'answer\\n'" "$(cat "$T/py.out")"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener output" question "$(cat "$T/srv.out")"
}

@test "seqpacket: the listener exits 0 once the client has closed" {
	# The listener's stdin stays open: only the client's close ends it.
	listen_fifo srv --seqpacket "$T/s"
	run timeout 20 "$UCAT" --seqpacket -q 0 "$T/s" <<<bye 5>&-
	check_eq "client status" 0 "$status"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener output" bye "$(cat "$T/srv.out")"
	exec 5>&-
	[ ! -e "$T/s" ]
}

@test "seqpacket: a 1 MiB file goes from ucat to ucat whole" {
	head -c 1048576 /dev/urandom >"$T/big"
	listen srv --seqpacket "$T/s" </dev/null
	run timeout 20 "$UCAT" --seqpacket "$T/s" <"$T/big"
	check_eq "client status" 0 "$status"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "bytes received" "$(sha "$T/big")" "$(sha "$T/srv.out")"
	run ! grep truncated "$T/srv.err"
}
