#!/usr/bin/env bats
# Datagrams (-u): client to listener, replies to the latest sender, -s,
# message boundaries, -L, -q, EMSGSIZE, truncation and unbound senders.

load helpers
bats_require_minimum_version 1.5.0

# A Python receiver that shares no code with ucat: bind a datagram socket at
# argv[1], then print each message received as a Python bytes literal, one
# per line, until the message b"END" (not printed).
PY_RECV='
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    m = s.recv(1 << 20)
    if m == b"END":
        break
    print(repr(m), flush=True)
'

# A Python sender: argv[1] is the address, argv[2] the socket to bind or
# "-" for none, then each further argument is sent as one message; "#N"
# sends N bytes of "x".  As root the send buffer is forced to 2 MiB
# (SO_SNDBUFFORCE) so that a message larger than ucat reads can be sent.
PY_SEND='
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.geteuid() == 0:
    s.setsockopt(socket.SOL_SOCKET, 32, 1 << 21)  # SO_SNDBUFFORCE
if sys.argv[2] != "-":
    s.bind(sys.argv[2])
for a in sys.argv[3:]:
    m = b"x" * int(a[1:]) if a.startswith("#") else a.encode()
    s.sendto(m, sys.argv[1])
'

# wait_size FILE BYTES: until FILE holds BYTES bytes.
wait_size() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ "$(stat -c %s "$1")" -ge "$2" ] && return 0
		sleep 0.01
	done
	echo "$1: $(stat -c %s "$1") bytes, expected $2" >&2
	return 1
}

@test "datagram: a client's message reaches the listener" {
	need_feature abstract
	listen srv -u -d "$T/d"
	run timeout 20 "$UCAT" -u "$T/d" <<<hello
	check_eq status 0 "$status"
	wait_out srv hello
	check_eq output hello "$(cat "$T/srv.out")"
	# The client had autobound an abstract name, so it can be answered.
	grep -q '^ucat: message from @' "$T/srv.err"
	run ! grep -q 'has no address' "$T/srv.err"
}

@test "datagram: an autobound client gets the listener's reply" {
	need_feature abstract
	echo pong >"$T/reply"
	listen srv -u "$T/d" <"$T/reply"
	spawn cli "$UCAT" -u -q 20 "$T/d" <<<ping
	wait_out cli pong
	check_eq "client output" pong "$(cat "$T/cli.out")"
	check_eq "listener output" ping "$(cat "$T/srv.out")"
}

@test "datagram: the listener answers the latest sender" {
	mkfifo "$T/in"
	# The fifo is opened by the background shell, so that this one can
	# open its write end without blocking the test.
	spawn srv sh -c 'exec "$0" -v -u -l "$1" <"$2"' "$UCAT" "$T/d" "$T/in"
	exec 5>"$T/in"
	wait_for srv 'listening on'
	spawn a "$UCAT" -u -s "$T/a" -q 20 "$T/d" <<<from-a
	wait_out srv from-a
	spawn b "$UCAT" -u -s "$T/b" -q 20 "$T/d" <<<from-b
	wait_out srv from-b
	echo reply >&5
	exec 5>&-
	wait_out b reply
	check_eq "second sender got" reply "$(cat "$T/b.out")"
	check_eq "first sender got" "" "$(cat "$T/a.out")"
	check_eq "senders seen" "ucat: message from $T/a
ucat: message from $T/b" "$(grep 'message from' "$T/srv.err")"
}

@test "datagram: stdin goes to a sender whose message came at the same time" {
	# Stopped, the listener is given B's message and a line of stdin at
	# once: the line is B's, not that of A, who sent before.
	mkfifo "$T/in"
	spawn srv sh -c 'echo $$ >"$0"; exec "$1" -v -u -l "$2" <"$3"' \
	    "$T/srv.pid" "$UCAT" "$T/d" "$T/in"
	exec 5>"$T/in"
	wait_for srv 'listening on'
	spawn a "$UCAT" -u -s "$T/a" -q 20 "$T/d" <<<from-a
	wait_out srv from-a
	kill -STOP "$(cat "$T/srv.pid")"
	spawn b python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.sendto(b"from-b\n", sys.argv[1])
print("sent", flush=True)
s.settimeout(30)
print(s.recv(100).decode(), end="", flush=True)' "$T/d" "$T/b"
	wait_out b sent
	echo reply >&5
	kill -CONT "$(cat "$T/srv.pid")"
	wait_out b reply
	exec 5>&-
	check_eq "second sender got" "sent
reply" "$(cat "$T/b.out")"
	check_eq "first sender got" "" "$(cat "$T/a.out")"
}

@test "datagram: -s binds the client there, it gets replies, the file goes at exit" {
	echo pong >"$T/reply"
	listen srv -u "$T/d" <"$T/reply"
	# -q 3: after stdin EOF the client waits 3 seconds for replies.
	spawn cli "$UCAT" -u -s "$T/c" -q 3 "$T/d" <<<ping
	wait_out cli pong
	[ -S "$T/c" ]
	grep -q "^ucat: message from $T/c\$" "$T/srv.err"
	finish cli
	check_eq "client status" 0 "$STATUS"
	check_eq "client output" pong "$(cat "$T/cli.out")"
	[ ! -e "$T/c" ]
}

@test "datagram: the client quits at stdin EOF without -q" {
	# The listener never answers: a client that waited would hang.
	listen srv -u -d "$T/d"
	run timeout 10 "$UCAT" -u -s "$T/c" "$T/d" <<<bye
	check_eq status 0 "$status"
	wait_out srv bye
	[ ! -e "$T/c" ]
}

@test "datagram: without -L one read of stdin is one message" {
	printf 'a\nb\nc\n' >"$T/msg"
	spawn py python3 -c "$PY_RECV" "$T/py"
	wait_sock "$T/py"
	run timeout 20 "$UCAT" -u "$T/py" <"$T/msg"
	check_eq status 0 "$status"
	printf END | timeout 20 "$UCAT" -u "$T/py"
	finish py
	check_eq "receiver status" 0 "$STATUS"
	check_eq "messages" "b'a\\nb\\nc\\n'" "$(cat "$T/py.out")"
}

@test "datagram: -L on the client sends each line as one message" {
	printf 'one\ntwo\n\nthree' >"$T/msg"
	spawn py python3 -c "$PY_RECV" "$T/py"
	wait_sock "$T/py"
	run timeout 20 "$UCAT" -u -L "$T/py" <"$T/msg"
	check_eq status 0 "$status"
	printf END | timeout 20 "$UCAT" -u "$T/py"
	finish py
	check_eq "receiver status" 0 "$STATUS"
	check_eq "messages" "b'one'
b'two'
b''
b'three'" "$(cat "$T/py.out")"
}

@test "datagram: messages waiting at the listener arrive one per line with -L" {
	# The listener is stopped while three messages queue up, so it finds
	# them all at once when it runs again: none may be merged or lost.
	spawn srv sh -c 'echo $$ >"$0"; exec "$1" -v -u -l -L -d "$2"' \
	    "$T/srv.pid" "$UCAT" "$T/d"
	wait_for srv 'listening on'
	kill -STOP "$(cat "$T/srv.pid")"
	python3 -c "$PY_SEND" "$T/d" "$T/py" first second third
	kill -CONT "$(cat "$T/srv.pid")"
	wait_out srv third
	check_eq output "first
second
third" "$(cat "$T/srv.out")"
}

@test "datagram: EMSGSIZE on send is an error naming the size" {
	# ucat raises its send buffer so that the kernel takes any message it
	# reads; the refusal is injected with strace to see how it is told.
	need strace
	strace -o /dev/null -e inject=sendto:error=EMSGSIZE true ||
	    skip "strace cannot inject faults here"
	listen srv -u -d "$T/d"
	printf 'hello' >"$T/msg"
	# LeakSanitizer cannot work under ptrace (--enable-sanitizers builds).
	run timeout 20 env ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null \
	    -e inject=sendto,sendmsg:error=EMSGSIZE "$UCAT" -u "$T/d" <"$T/msg"
	check_eq status 1 "$status"
	check_eq output "ucat: send to $T/d: message of 5 bytes is too long" \
	    "$output"
}

@test "datagram: a 1 MiB file goes from ucat to ucat whole" {
	listen srv -u -d "$T/d"
	head -c 1048576 /dev/urandom >"$T/big"
	run timeout 20 "$UCAT" -u "$T/d" <"$T/big"
	check_eq status 0 "$status"
	# A later message from another sender is received only once all
	# before it are written out.
	timeout 20 "$UCAT" -u -s "$T/m" "$T/d" <<<END
	wait_for srv "message from $T/m"
	check_eq "bytes received" "$(sha "$T/big")" \
	    "$(head -c 1048576 "$T/srv.out" | sha256sum | cut -d' ' -f1)"
	run ! grep truncated "$T/srv.err"
}

@test "datagram: a message over 256 KiB is truncated with a warning" {
	[ "$(id -u)" = 0 ] || skip "SO_SNDBUFFORCE needs root"
	local kept

	listen srv -u -d "$T/d"
	python3 -c "$PY_SEND" "$T/d" "$T/py" '#300000'
	wait_for srv 'truncated'
	kept=$(sed -n "s|^ucat: $T/d: message of 300000 bytes truncated to \([0-9]*\)\$|\1|p" \
	    "$T/srv.err")
	[ -n "$kept" ] || {
		cat "$T/srv.err" >&2
		return 1
	}
	[ "$kept" -lt 300000 ]
	wait_size "$T/srv.out" "$kept"
	check_eq "bytes written" "$kept" "$(stat -c %s "$T/srv.out")"
}

@test "datagram: a message of exactly 256 KiB arrives whole" {
	[ "$(id -u)" = 0 ] || skip "SO_SNDBUFFORCE needs root"
	listen srv -u -d "$T/d"
	python3 -c "$PY_SEND" "$T/d" "$T/py" '#262144'
	# Whole or cut short by a byte, it is written in one write(2), after
	# any warning.
	wait_size "$T/srv.out" 262143
	check_eq "bytes written" 262144 "$(stat -c %s "$T/srv.out")"
	run ! grep 'truncated' "$T/srv.err"
}

@test "datagram: an unbound sender is warned about once" {
	listen srv -u -L -d "$T/d"
	python3 -c "$PY_SEND" "$T/d" - u1 u2 u3
	wait_out srv u3
	check_eq "warnings" "ucat: $T/d: a sender has no address; it cannot be answered" \
	    "$(grep 'has no address' "$T/srv.err")"
}

@test "datagram: sending where nobody listens is an error naming the address" {
	run timeout 20 "$UCAT" -u "$T/none" <<<lost
	check_eq status 1 "$status"
	check_eq lines 1 "${#lines[@]}"
	[[ $output == "ucat: "*"$T/none"* ]]

	# A stale socket file: bound once, nobody behind it now.
	python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' "$T/stale"
	run timeout 20 "$UCAT" -u -s "$T/c" "$T/stale" <<<lost
	check_eq "stale status" 1 "$status"
	check_eq "stale lines" 1 "${#lines[@]}"
	[[ $output == "ucat: "*"$T/stale"*"refused"* ]]
	# The target is not ucat's to remove; its own -s file is gone.
	[ -S "$T/stale" ]
	[ ! -e "$T/c" ]
}

@test "datagram: a reply to a sender that left is dropped, later ones go on" {
	mkfifo "$T/in"
	# Read-write: opening neither end waits for the other.
	exec 7<>"$T/in"
	listen srv -u -L "$T/d" <"$T/in"
	python3 -c "$PY_SEND" "$T/d" "$T/gone" hi
	wait_out srv hi
	rm "$T/gone"
	printf 'a\nb\nc\n' >&7
	wait_for srv "reply to $T/gone"
	# A new sender gets what stdin still holds.
	run timeout 10 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2]); s.settimeout(5)
s.sendto(b"again", sys.argv[1])
print(s.recv(100).decode())' "$T/d" "$T/new"
	exec 7>&-
	check_eq status 0 "$status"
	check_eq "first reply to the new sender" b "$output"
	kill -0 "$srv_PID"
}

@test "datagram: a sender's full queue does not stall the listener" {
	# yes fills the reply queue of a sender that never reads; -w must
	# still end the listener on time, so it is not blocked in sendto.
	# The sender is up first, and sends as soon as the listener's file
	# is there: -w runs from then on, however slow python starts.
	spawn snd python3 -c 'import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
print("bound", file=sys.stderr, flush=True)
for i in range(3000):
    if os.path.exists(sys.argv[1]):
        s.sendto(b"hi", sys.argv[1])
        break
    time.sleep(0.01)
time.sleep(60)' "$T/d" "$T/full"
	wait_for snd bound
	spawn srv "$UCAT" -v -l -u -L -w 1 "$T/d" < <(yes)
	finish srv
	check_eq status 1 "$STATUS"
	grep -q "idle for 1 second," "$T/srv.err"
}

@test "datagram: descriptors passed by a sender are not kept" {
	listen srv -u -d "$T/d"
	local pid before after
	pid=$(pgrep -P "$srv_PID" || echo "$srv_PID")
	before=$(ls "/proc/$pid/fd" | wc -l)
	python3 -c 'import array, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
f = open("/dev/null")
for i in range(5):
    s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
        array.array("i", [f.fileno()]))], 0, sys.argv[1])' "$T/d"
	wait_for srv 'no address'
	after=$(ls "/proc/$pid/fd" | wc -l)
	check_eq "open fds" "$before" "$after"
}

@test "datagram: a sender's name is printed with its control bytes escaped" {
	need python3
	listen srv -u -x "$T/dump" "$T/d" </dev/null
	# A name that would forge a line of ucat's and clear the terminal.
	python3 - "$T/d" "$T/evil" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		s.bind(sys.argv[2] + "\nucat: connection from pid 1 uid 0 gid 0\x1b[2J\\")
		s.sendto(b"hi", sys.argv[1])
	EOF
	wait_for srv 'message from'
	kill "$srv_PID"
	finish srv
	check_eq "the line" \
		"ucat: message from $T/evil\\x0aucat: connection from pid 1 uid 0 gid 0\\x1b[2J\\x5c" \
		"$(grep 'message from' "$T/srv.err")"
	check_eq "lines in all" 2 "$(wc -l <"$T/srv.err")"
	check_eq "escape bytes" 0 \
		"$(cat "$T/srv.err" "$T/dump" | tr -cd '\033' | wc -c)"
}

@test "datagram: -W N quits once N messages came, answers to a request included" {
	listen srv -u "$T/d" -c 'tr a-z A-Z'
	# No -q: the client waits for its one answer, then quits at once.  It
	# binds with -s, where there is no autobind to be answered at.
	run timeout 20 "$UCAT" -u -W 1 -s "$T/c" "$T/d" <<<query
	check_eq status 0 "$status"
	check_eq answer QUERY "$output"
	run timeout 20 "$UCAT" -u -L -W 2 -s "$T/c" "$T/d" \
	    <<<"$(printf 'one\ntwo')"
	check_eq "two answers" "$(printf 'ONE\nTWO')" "$output"
	# A listener: the count, then done, stdin or not.
	mkfifo "$T/in"
	exec 4<>"$T/in"
	listen lis -u -L -W 2 "$T/e" <&4
	# The third may find the listener gone already (ENOTCONN): the
	# sender's status is a race, the listener's count is not.
	printf 'a\nb\nc\n' | timeout 20 "$UCAT" -u -L "$T/e" 2>/dev/null || true
	finish lis
	exec 4>&-
	check_eq "listener status" 0 "$STATUS"
	check_eq "listener got" "$(printf 'a\nb')" "$(cat "$T/lis.out")"
	run timeout 20 "$UCAT" -W 1 "$T/d"
	check_eq "stream status" 2 "$status"
	[[ $output == "ucat: -W: needs -u or --seqpacket"* ]]
}
