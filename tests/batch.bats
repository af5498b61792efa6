#!/usr/bin/env bats
# Messages in batches (recvmmsg, sendmmsg, one writev per batch): floods
# of datagrams and seqpacket messages into a slow or non-blocking pipe,
# whole and in order, -L's framing, truncation warnings, the reply rule
# with two senders in one batch, -q and -w under a flood, a closed stdout,
# and the relay.  Every byte is compared (sha256).

load helpers

# A sender: $2 messages to $1 (a datagram socket path; with a 4th
# argument, seqpacket), message i being i % 251 repeated (i * 37) % $3
# times; prints the sha256 of all of them in order, that with -L framing
# (each followed by a newline), and their size in bytes.
SENDER='
import hashlib, socket, sys
path, n, most = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kind = socket.SOCK_SEQPACKET if len(sys.argv) > 4 else socket.SOCK_DGRAM
s = socket.socket(socket.AF_UNIX, kind)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
s.connect(path)
plain, framed = hashlib.sha256(), hashlib.sha256()
for i in range(n):
    m = bytes([i % 251]) * ((i * 37) % most)
    s.send(m)
    plain.update(m)
    framed.update(m + b"\n")
print(plain.hexdigest(), framed.hexdigest(),
      sum((i * 37) % most for i in range(n)))
'

# A reader that takes its time: $1 bytes at a time, a millisecond apart,
# into $2.
SLOW='
import os, sys, time
n = int(sys.argv[1])
with open(sys.argv[2], "wb", buffering=0) as out:
    while True:
        b = os.read(0, n)
        if not b:
            break
        out.write(b)
        time.sleep(0.001)
'

# Runs argv with its stdout (a pipe) non-blocking and 4 KiB small, so
# that a batch's writev stops part way and EAGAIN comes.
NONBLOCK='
import fcntl, os, sys
fcntl.fcntl(1, 1031, 4096)   # F_SETPIPE_SZ
fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execvp(sys.argv[1], sys.argv[1:])
'

# grown FILE SIZE: wait (bounded) until FILE holds SIZE bytes.
grown() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.01
	done
	echo "$1: $(stat -c %s "$1") bytes, not $2" >&2
	return 1
}

@test "batch: 20,000 datagrams into a slow non-blocking pipe: whole, in order" {
	need python3 strace
	local BG_LIMIT=300
	export NONBLOCK SLOW
	spawn srv sh -c 'python3 -c "$NONBLOCK" strace -f -e trace=writev \
		-o "$0" "$1" -lu "$2" </dev/null | python3 -c "$SLOW" 4096 "$3"' \
		"$T/strace" "${UCAT_REAL:-$UCAT}" "$T/s" "$T/got"
	wait_sock "$T/s"
	run timeout 120 python3 -c "$SENDER" "$T/s" 20000 1500
	check_eq "sender" 0 "$status"
	set -- $output
	grown "$T/got" "$3"
	check_eq "what arrived" "$1" "$(sha "$T/got")"
	# The pipe was full: a writev was turned away, and the batch went
	# out later.
	grep -q 'writev(1, .* = -1 EAGAIN' "$T/strace"
}

@test "batch: -L frames each message of a flood with a newline" {
	need python3
	listen srv -uL "$T/s" </dev/null
	run timeout 120 python3 -c "$SENDER" "$T/s" 5000 300
	set -- $output
	# Each message and its newline.
	grown "$T/srv.out" $(($3 + 5000))
	check_eq "framed" "$2" "$(sha "$T/srv.out")"
}

@test "batch: a message over 256 KiB in a batch is cut and said so, the rest whole" {
	need python3
	listen srv -u "$T/s" </dev/null
	kill -STOP "$(ucat_of srv)"
	timeout 60 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
s.connect(sys.argv[1])
for m in (b"first\n", b"x" * 300000, b"last\n"):
    s.send(m)' "$T/s"
	kill -CONT "$(ucat_of srv)"
	wait_out srv "last$"
	kill "$srv_PID"
	finish srv
	check_eq "bytes" $((6 + 262144 + 5)) "$(stat -c %s "$T/srv.out")"
	check_eq "warning" \
		"ucat: $T/s: message of 300000 bytes truncated to 262144" \
		"$(grep truncated "$T/srv.err")"
}

@test "batch: two senders in one batch: stdin answers the last" {
	need python3
	mkfifo "$T/in"
	spawn srv "$UCAT" -v -lu "$T/s" <>"$T/in"
	wait_for srv 'listening on'
	kill -STOP "$(ucat_of srv)"
	# Both wait in the socket while ucat is stopped: one batch takes
	# them.
	spawn a python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.sendto(b"from a\n", sys.argv[1])
print("sent", file=sys.stderr, flush=True)
s.settimeout(30)
try:
    print(s.recv(100).decode(), end="")
except socket.timeout:
    pass' "$T/s" "$T/a"
	wait_for a sent
	spawn b python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.sendto(b"from b\n", sys.argv[1])
print("sent", file=sys.stderr, flush=True)
print(s.recv(100).decode(), end="")' "$T/s" "$T/b"
	wait_for b sent
	kill -CONT "$(ucat_of srv)"
	wait_out srv "^from b$"
	echo "answer" >"$T/in"
	finish b
	check_eq "b got the answer" answer "$(cat "$T/b.out")"
	check_eq "a got nothing" "" "$(cat "$T/a.out")"
	check_eq "stdout" "from a
from b" "$(cat "$T/srv.out")"
}

@test "batch: -q under a flood still ends it, and -w after one" {
	need python3
	local BG_LIMIT=120
	listen srv -u -q 1 "$T/s" </dev/null >/dev/null
	# A flood for as long as the listener lives, from a sender with an
	# address: the listener reads stdin (and sees its end) once it has
	# someone to answer.
	spawn flood python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("")
s.connect(sys.argv[1])
try:
    while True:
        s.send(b"x" * 64)
except OSError:
    pass' "$T/s"
	finish srv
	check_eq "-q status" 0 "$STATUS"
	# The flood's sender is up first and starts as soon as the socket
	# is there, so -w runs from then however slow python starts; what
	# it sends after the listener gave up is refused, and that is fine.
	spawn flood2 python3 -c 'import os, socket, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
try:
    for i in range(20000):
        s.send(b"z" * (i % 100))
except OSError:
    pass' "$T/t"
	listen idle -u -w 1 "$T/t" >/dev/null
	finish flood2
	finish idle
	check_eq "-w status" 1 "$STATUS"
	grep -q "idle for 1 second, giving up" "$T/idle.err"
}

@test "batch: stdout closed by its reader mid-flood: no SIGPIPE, status 0" {
	need python3
	spawn srv sh -c '"$0" -lu -d "$1" | head -c 1000 >/dev/null' \
		"$UCAT" "$T/s"
	wait_sock "$T/s"
	timeout 60 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("")
s.connect(sys.argv[1])
for i in range(20000):
    try:
        s.send(b"y" * 100)
    except (ConnectionRefusedError, FileNotFoundError):
        break' "$T/s"
	finish srv
	check_eq "status of the pipeline's ucat" 0 "$STATUS"
	check_eq "stderr" "" "$(cat "$T/srv.err")"
}

@test "batch: seqpacket floods both ways and through the relay, whole and in order" {
	need_feature passcred
	need python3
	local BG_LIMIT=300 want
	listen back --seqpacket "$T/back" </dev/null
	relay rel -l --seqpacket "$T/front" "$T/back"
	run timeout 120 python3 -c "$SENDER" "$T/front" 20000 2000 seq
	check_eq "sender" 0 "$status"
	want=${output%% *}
	# The sender closed: the relay passes the end on, and back ends.
	finish back
	check_eq "through the relay" "$want" "$(sha "$T/back.out")"
	# -L lines out as messages, in batches, to a seqpacket listener.
	listen sp --seqpacket -L "$T/sp" </dev/null
	seq 1 20000 | timeout 60 "$UCAT" --seqpacket -L "$T/sp"
	finish sp
	check_eq "lines" "$(seq 1 20000 | sha256sum)" \
		"$(sha256sum <"$T/sp.out")"
	# A datagram relay: every message on to TARGET.
	listen dback -u "$T/dback" </dev/null
	relay drel -lu "$T/dfront" "$T/dback"
	run timeout 120 python3 -c "$SENDER" "$T/dfront" 20000 1000
	set -- $output
	grown "$T/dback.out" "$3"
	check_eq "through the datagram relay" "$1" "$(sha "$T/dback.out")"
}
