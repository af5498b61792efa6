#!/usr/bin/env bats
# Relay (two addresses): each client of ADDRESS joined to a new connection
# to TARGET, or one connection to each; half-close passed on, late replies
# kept, -k clients independent, an unreachable or dying TARGET, access
# lists in front of TARGET, seqpacket boundaries, and the usage rules.

load helpers

# A hang guard for the cases with many clients (each a fork here).
MANY_LIMIT=300

@test "relay: a client's bytes reach TARGET and the answer comes back" {
	listen back -k "$T/back" -c 'tr a-z A-Z'
	relay rel -l "$T/front" "$T/back"
	run timeout 20 "$UCAT" "$T/front" <<<"hello relay"
	check_eq status 0 "$status"
	check_eq output "HELLO RELAY" "$output"
	finish rel
	check_eq "relay status" 0 "$STATUS"
	! has_feature peercred ||
		grep -q "connection from pid [0-9]* uid $(id -u)" "$T/rel.err"
	grep -q "connected to $T/back" "$T/rel.err"
	grep -q "sent 12 bytes, received 12 bytes" "$T/rel.err"
	[ ! -e "$T/front" ]
}

@test "relay: TARGET answering after the client's EOF still reaches it" {
	# No linger: the half-close goes on to TARGET, whose late answer (a
	# second after the end of the request) comes back whole.
	listen back -k "$T/back" -c 'cat >/dev/null; sleep 1; echo late answer'
	relay rel -l "$T/front" "$T/back"
	run timeout 20 "$UCAT" "$T/front" <<<"request"
	check_eq status 0 "$status"
	check_eq output "late answer" "$output"
}

@test "relay: the client's half-close is passed on, and TARGET's too" {
	# TARGET counts what it got before its EOF, then says so; then it
	# half-closes, and the client sees its EOF.
	listen back -k "$T/back" -c 'wc -c'
	relay rel -l "$T/front" "$T/back"
	head -c 100000 /dev/urandom >"$T/in"
	run timeout 20 "$UCAT" "$T/front" <"$T/in"
	check_eq status 0 "$status"
	check_eq "TARGET counted" 100000 "$(tr -d ' ' <<<"$output")"
}

@test "relay: without -l both addresses are connected, once" {
	echo from-a >"$T/a.in"
	echo from-b >"$T/b.in"
	listen a "$T/a" <"$T/a.in"
	listen b "$T/b" <"$T/b.in"
	run timeout 20 "$UCAT" "$T/a" "$T/b"
	check_eq status 0 "$status"
	finish a
	finish b
	check_eq "a got" from-b "$(cat "$T/a.out")"
	check_eq "b got" from-a "$(cat "$T/b.out")"
}

@test "relay: -k serves clients at once, 1 MiB each, sha256 each way" {
	local BG_LIMIT=$MANY_LIMIT i
	listen back -k "$T/back" -c cat
	relay rel -lk "$T/front" "$T/back"
	for ((i = 0; i < 20; i++)); do
		head -c 1048576 /dev/urandom >"$T/in.$i"
		spawn "c$i" "$UCAT" "$T/front" <"$T/in.$i"
	done
	for ((i = 0; i < 20; i++)); do
		finish "c$i"
		check_eq "client $i status" 0 "$STATUS"
		check_eq "client $i" "$(sha "$T/in.$i")" "$(sha "$T/c$i.out")"
	done
	check_eq "clients relayed" 20 "$(connections rel)"
}

@test "relay: a client that never reads does not hold up another" {
	listen back -k "$T/back" -c cat
	relay rel -lk "$T/front" "$T/back"
	# The first client sends 64 MiB and reads nothing back: its relay
	# and its cat fill up and stop.
	spawn stuck python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
sent = 0
try:
    while sent < 64 << 20:
        sent += s.send(b"x" * 65536)
except BlockingIOError:
    pass
print("stuck after", sent, flush=True)
time.sleep(60)' "$T/front"
	wait_out stuck 'stuck after'
	run timeout 20 "$UCAT" "$T/front" <<<"still served"
	check_eq status 0 "$status"
	check_eq output "still served" "$output"
}

@test "relay: an unreachable TARGET closes the client; -k goes on" {
	relay rel -lk "$T/front" "$T/back"
	run timeout 20 "$UCAT" "$T/front" <<<"lost"
	check_eq "client status" 0 "$status"
	check_eq "client got" "" "$output"
	wait_for rel "connect $T/back: No such file or directory"
	# Once TARGET is there, the next client gets through.
	listen back -k "$T/back" -c cat
	run timeout 20 "$UCAT" "$T/front" <<<"now"
	check_eq output now "$output"
	kill -0 "$rel_PID"
}

@test "relay: an unreachable TARGET ends a one-shot relay with status 1" {
	relay rel -l "$T/front" "$T/back"
	timeout 20 "$UCAT" "$T/front" <<<"lost" || true
	finish rel
	check_eq "relay status" 1 "$STATUS"
	check_eq "relay's last line" \
		"ucat: connect $T/back: No such file or directory" \
		"$(tail -n 1 "$T/rel.err")"
	[ ! -e "$T/front" ]
	# Without -l, a missing address is an error naming it.
	run timeout 20 "$UCAT" "$T/nowhere" "$T/back"
	check_eq status 1 "$status"
	check_eq output "ucat: connect $T/nowhere: No such file or directory" \
		"$output"
}

@test "relay: TARGET killed mid-transfer ends the client's connection" {
	# TARGET reads a little, then dies with the rest unread: the relay
	# ends that client at once and the client ends too, with no hang.
	spawn back python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("ready", file=sys.stderr, flush=True)
c, _ = s.accept()
c.recv(1000)
os._exit(0)' "$T/back"
	wait_for back ready
	relay rel -l -x "$T/dump" "$T/front" "$T/back"
	# The client's stdin never ends (the test holds the fifo open): only
	# the relay can end it.  8 MiB go in, far more than TARGET reads.
	mkfifo "$T/idle"
	exec 4<>"$T/idle"
	spawn cli "$UCAT" "$T/front" <"$T/idle"
	spawn feed bash -c 'head -c 8388608 /dev/zero >"$0"' "$T/idle"
	finish cli
	check_eq "client status" 0 "$STATUS"
	finish rel
	exec 4>&-
	check_eq "relay status" 0 "$STATUS"
	[ ! -e "$T/front" ]
	# TARGET left with data unread: a reset, which the dump names.
	grep -q "^\* \[1\] .* reset by $T/back$" "$T/dump"
}

@test "relay: TARGET's answer is whole although it stopped reading" {
	# TARGET reads 10 bytes, answers 9 MiB and closes while the client is
	# still sending: the client's sends fail, yet as on a direct
	# connection it gets the whole answer.
	spawn back python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("ready", file=sys.stderr, flush=True)
c, _ = s.accept()
c.recv(10)
c.sendall(b"r" * (9 << 20))
c.close()' "$T/back"
	wait_for back ready
	relay rel -l "$T/front" "$T/back"
	run timeout 60 python3 -c 'import socket, sys, threading, time
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
def upload():
    try:
        for i in range(400):
            c.sendall(b"u" * 65536)
    except OSError:
        pass
threading.Thread(target=upload, daemon=True).start()
time.sleep(1)
n = 0
while True:
    try:
        d = c.recv(65536)
    except OSError:
        break
    if not d:
        break
    n += len(d)
print(n)' "$T/front"
	check_eq "bytes of the answer" $((9 << 20)) "$output"
	finish rel
	check_eq "relay status" 0 "$STATUS"
}

@test "relay: -m is the listening socket's, not -s's; a relay to itself" {
	listen back -k "$T/back" -c cat
	relay rel -l -m 666 -s "$T/src" "$T/front" "$T/back"
	check_eq "listening socket" 666 "$(stat -c %a "$T/front")"
	mkfifo "$T/idle"
	exec 4<>"$T/idle"
	timeout 60 "$UCAT" "$T/front" <"$T/idle" >/dev/null 4>&- &
	local cli=$!
	wait_sock "$T/src"
	# -s's file is made under the relay's umask, not with -m's mode.
	check_eq "-s socket" "$(printf '%o' $((0777 & ~$(umask))))" \
		"$(stat -c %a "$T/src")"
	exec 4>&-
	wait "$cli"
	finish rel
	run timeout 20 "$UCAT" -lk "$T/front" "$T/front"
	check_eq "status of a relay to itself" 2 "$status"
	check_eq "a relay to itself" \
		"ucat: target '$T/front': is the address listened on" "$output"
}

@test "relay: a client killed mid-transfer ends its relay, -k goes on" {
	local BG_LIMIT=$MANY_LIMIT
	listen back -k "$T/back" -c 'wc -c'
	relay rel -lk "$T/front" "$T/back"
	mkfifo "$T/idle"
	exec 4<>"$T/idle"
	spawn cli "$UCAT" "$T/front" <"$T/idle"
	wait_for back 'connection from'
	kill -9 "$(pgrep -P "$cli_PID")"
	finish cli
	exec 4>&-
	# TARGET's end of that client closes: its program counted and left.
	wait_for rel 'sent 0 bytes'
	run timeout 20 "$UCAT" "$T/front" <<<"next"
	check_eq "the next client" 5 "$(tr -d ' ' <<<"$output")"
}

@test "relay: -w bounds the connect to a TARGET whose backlog is full" {
	full_listener back "$T/back"
	relay rel -l -w 1 "$T/front" "$T/back"
	run timeout 20 "$UCAT" "$T/front" <<<"lost"
	check_eq "client got" "" "$output"
	finish rel
	check_eq "relay status" 1 "$STATUS"
	check_eq "relay's last line" "ucat: connect $T/back: timed out" \
		"$(tail -n 1 "$T/rel.err")"
}

@test "relay: a TARGET of the wrong type closes the client, naming it" {
	listen back -u -d "$T/back"
	relay rel -l "$T/front" "$T/back"
	run timeout 20 "$UCAT" "$T/front" <<<"lost"
	check_eq "client got" "" "$output"
	finish rel
	check_eq "relay status" 1 "$STATUS"
	check_eq "relay's last line" \
		"ucat: connect $T/back: Protocol wrong type for socket" \
		"$(tail -n 1 "$T/rel.err")"
}

@test "relay: --seqpacket keeps every message whole" {
	need_feature passcred
	listen back --seqpacket -L "$T/back" </dev/null
	relay rel -l --seqpacket "$T/front" "$T/back"
	printf 'a\nbb\n\nccc\n' |
		timeout 20 "$UCAT" --seqpacket -L "$T/front"
	finish back
	check_eq "messages at TARGET" "$(printf 'a\nbb\n\nccc')" \
		"$(cat "$T/back.out")"
}

@test "relay: --allow-uid refusals never reach TARGET" {
	need_feature peercred
	need_nobody
	listen back -k "$T/back" -c cat
	relay rel -lk -m 666 --allow-uid 0 "$T/front" "$T/back"
	# The client as nobody is the plain binary: under check-valgrind,
	# nobody could not write valgrind's log here.
	run as_nobody timeout 20 "${UCAT_REAL:-$UCAT}" "$T/front" <<<"secret"
	check_eq "refused client got" "" "$output"
	wait_for rel "refused pid [0-9]* uid $NOBODY_UID"
	run timeout 20 "$UCAT" "$T/front" <<<"allowed"
	check_eq "root's client got" allowed "$output"
	check_eq "connections TARGET saw" 1 "$(connections back)"
}

@test "relay: what a relay cannot take is a usage error, nothing left" {
	local args
	for args in "-e cat" "-c cat" "-z" "-d" "-L --seqpacket" "-q 1" \
	    "-k -s $T/src"; do
		# shellcheck disable=SC2086 # the words are the flags
		run timeout 20 "$UCAT" -l $args "$T/front" "$T/back"
		check_eq "status of -l $args" 2 "$status"
		[[ $output == ucat:* ]] || {
			echo "-l $args: $output" >&2
			return 1
		}
		[ ! -e "$T/front" ] && [ ! -e "$T/src" ]
	done
	run timeout 20 "$UCAT" "$T/a" "$T/b" "$T/c"
	check_eq "status with three addresses" 2 "$status"
	check_eq "three addresses" \
		"ucat: at most two addresses expected, 3 given" "$output"
	run timeout 20 "$UCAT" -l "$T/front" @
	check_eq "status with target @" 2 "$status"
	run timeout 20 "$UCAT" -u "$T/a" "$T/b"
	check_eq "status of -u without -l" 2 "$status"
	check_eq "-u without -l" "ucat: -u: a datagram relay listens: give -l" \
		"$output"
}

@test "relay: -u sends each message to TARGET, the answer to its sender" {
	need_feature abstract
	# TARGET answers each message, upper-cased, to whoever sent it: the
	# relay's own socket, which passes it on to the latest sender.
	spawn back python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", file=sys.stderr, flush=True)
while True:
    m, a = s.recvfrom(1 << 16)
    s.sendto(m.upper(), a)' "$T/back"
	wait_for back ready
	relay rel -u -l -x "$T/dump" "$T/front" "$T/back"
	spawn a "$UCAT" -u -s "$T/a" -q 20 "$T/front" <<<"from a"
	wait_out a "FROM A"
	spawn b "$UCAT" -u -s "$T/b" -q 20 "$T/front" <<<"from b"
	wait_out b "FROM B"
	check_eq "a got" "FROM A" "$(cat "$T/a.out")"
	check_eq "b got" "FROM B" "$(cat "$T/b.out")"
	grep -q "message from $T/a" "$T/rel.err"
	grep -q "message from $T/b" "$T/rel.err"
	# Datagrams carry no credentials: the dump says so (it was written
	# before any message went), and no made-up ones.
	grep -q "connected to $T/back: no credentials\$" "$T/dump"
	check_eq "made-up credentials" 0 \
		"$(grep -c "uid 4294967295" "$T/dump" || true)"
}
