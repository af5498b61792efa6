#!/usr/bin/env bats
# udp:HOST:PORT and udp:PORT: datagrams over loopback in every mode, -u
# implied; relays between UDP and Unix datagram sockets (logger -u to a
# UDP receiver, UDP senders to a /dev/log-style socket).

load helpers

# free_port: a UDP port nobody had a moment ago, on 127.0.0.1.
free_port() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# udp_peer NAME PORT COUNT: a UDP socket on PORT that prints each of COUNT
# datagrams on a line of its own and answers "ack:" and the datagram.
udp_peer() {
	spawn "$1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("listening", file=sys.stderr, flush=True)
for i in range(int(sys.argv[2])):
    d, a = s.recvfrom(65536)
    print(d.decode(), flush=True)
    s.sendto(b"ack:" + d, a)' "$2" "$3"
	wait_for "$1" listening
}

# udp_send PORT MSG...: each MSG one datagram to PORT from one socket, then
# the answers to it, one a line.
udp_send() {
	timeout 20 python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(15)
for m in sys.argv[2:]:
    s.sendto(m.encode(), ("127.0.0.1", int(sys.argv[1])))
    print(s.recvfrom(65536)[0].decode(), flush=True)' "$@"
}

@test "udp: a -c server on udp:PORT answers each datagram to its sender; -u is implied" {
	port=$(free_port)
	listen srv -c 'tr a-z A-Z' "udp:$port"
	check_eq "ucat's answer" HELLO "$(echo hello | timeout 20 "$UCAT" -W 1 "udp:$port")"
	check_eq "another sender's" "$(printf 'ONE\nTWO')" "$(udp_send "$port" one two)"
}

@test "udp: boundaries kept: each datagram is a line with -L, each line a datagram" {
	port=$(free_port)
	listen srv -L -W 3 "udp:127.0.0.1:$port"
	printf 'a\nbb\nccc\n' | timeout 20 "$UCAT" -L "udp:$port"
	finish srv
	check_eq "what the listener got" "$(printf 'a\nbb\nccc')" "$(cat "$T/srv.out")"
}

@test "udp: logger -u to a UDP receiver, through a Unix datagram socket" {
	need logger
	port=$(free_port)
	udp_peer rx "$port" 2
	relay r -lu "$T/log.sock" "udp:127.0.0.1:$port"
	logger -u "$T/log.sock" first
	logger -u "$T/log.sock" second
	finish rx
	check_eq "datagrams" 2 "$(wc -l <"$T/rx.out")"
	grep -q ': first$' "$T/rx.out"
	grep -q ': second$' "$T/rx.out"
}

@test "udp: UDP senders to a /dev/log-style Unix socket, answers back to the latest" {
	# The relay's socket toward the Unix one is autobound, to be answered.
	need_feature abstract
	spawn dev python3 "$TESTS_DIR/peer.py" dgram-echo "$T/dev.sock" 2
	wait_sock "$T/dev.sock"
	port=$(free_port)
	relay r -l "udp:$port" "$T/dev.sock"
	check_eq answers "$(printf 'echo:a\necho:bb')" "$(udp_send "$port" a bb)"
	finish dev
	check_eq "what the Unix socket got" "$(printf 'a\nbb')" "$(cat "$T/dev.out")"
}

@test "udp: bad ports and types are usage errors naming the address" {
	expect() {
		run timeout 20 "$UCAT" "${@:2}" </dev/null
		check_eq "status of ucat ${*:2}" 2 "$status"
		check_eq "message of ucat ${*:2}" "$1" "$output"
	}
	expect "ucat: address 'udp:99999': the port must be 1 to 65535" udp:99999
	expect "ucat: address 'udp:0': the port must be 1 to 65535" udp:0
	expect "ucat: --seqpacket: address 'udp:5' is UDP, datagrams" --seqpacket udp:5
	expect "ucat: address 'tcp:1' is TCP, a stream, and 'udp:2' UDP, datagrams" -l tcp:1 udp:2
	expect "ucat: -s: address '$T/c' is not of the kind of 'udp:5'" -s "$T/c" udp:5
	[ ! -e "$T/c" ]
}
