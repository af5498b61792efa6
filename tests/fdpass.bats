#!/usr/bin/env bats
# --send-fd: descriptors passed with the first bytes sent (SCM_RIGHTS), on
# stream, seqpacket and datagram sockets, to a python receiver that reads
# and writes through them; one NUL byte when stdin has nothing; each
# client of -k; and descriptors a peer passes to ucat, closed at once.

load helpers

# A receiver on $1 of type $2 (stream, seqpacket, dgram): it takes one
# message with its descriptors, prints the data and, for each descriptor,
# what it reads there; then writes "written by the receiver" through the
# last one.  $3: how many clients (-k), 1 by default.
RECEIVER='
import array, os, socket, sys
kind = {"stream": socket.SOCK_STREAM, "seqpacket": socket.SOCK_SEQPACKET,
        "dgram": socket.SOCK_DGRAM}[sys.argv[2]]
s = socket.socket(socket.AF_UNIX, kind)
s.bind(sys.argv[1])
if kind != socket.SOCK_DGRAM:
    s.listen(8)
print("ready", file=sys.stderr, flush=True)
for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 1):
    c = s if kind == socket.SOCK_DGRAM else s.accept()[0]
    data, anc, flags, _ = c.recvmsg(65536, socket.CMSG_SPACE(64 * 4))
    fds = array.array("i")
    for level, typ, blob in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(blob[:len(blob) - len(blob) % 4])
    print("data %r, %d descriptors" % (data, len(fds)), flush=True)
    for fd in fds:
        os.lseek(fd, 0, os.SEEK_SET)
        print("read %r" % os.read(fd, 100), flush=True)
    if fds:
        os.write(fds[-1], b"written by the receiver\n")
    for fd in fds:
        os.close(fd)
'

receiver() {
	spawn recv python3 -c "$RECEIVER" "$@"
	wait_for recv ready
}

@test "send-fd: stream, seqpacket and datagram: the peer reads and writes through it" {
	need python3
	local t flag
	for t in stream seqpacket dgram; do
		case $t in
		stream) flag= ;;
		seqpacket) flag=--seqpacket ;;
		dgram) flag=-u ;;
		esac
		rm -f "$T/r"
		echo "kept in a file" >"$T/file.$t"
		receiver "$T/r" "$t"
		echo hello | timeout 20 "$UCAT" -v $flag --send-fd 3 "$T/r" \
			3<>"$T/file.$t" 2>"$T/err"
		finish recv
		check_eq "$t: received" "data b'hello\\n', 1 descriptors
read b'kept in a file\\n'" "$(cat "$T/recv.out")"
		check_eq "$t: written through it" "kept in a file
written by the receiver" "$(cat "$T/file.$t")"
		grep -q "^ucat: passed 1 descriptor to $T/r$" "$T/err"
	done
}

@test "send-fd: repeated, and with nothing on stdin a NUL byte carries them" {
	need python3
	echo one >"$T/a"
	echo two >"$T/b"
	receiver "$T/r" stream
	timeout 20 "$UCAT" --send-fd 3 --send-fd 4 "$T/r" 3<"$T/a" 4<>"$T/b" \
		</dev/null
	finish recv
	check_eq "received" "data b'\\x00', 2 descriptors
read b'one\\n'
read b'two\\n'" "$(cat "$T/recv.out")"
	# A datagram listener passes them with its first reply, to whoever
	# sent first.
	rm -f "$T/r"
	# (spawn closes fd 3 of what it starts.)
	listen srv -u --send-fd 4 "$T/l" 4<"$T/a" </dev/null
	run timeout 20 python3 -c 'import array, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.sendto(b"hi", sys.argv[1])
data, anc, _, _ = s.recvmsg(100, socket.CMSG_SPACE(4 * 4))
print(repr(data), sum(len(b) // 4 for _, _, b in anc))' "$T/l" "$T/me"
	check_eq "reply" "b'\\x00' 1" "$output"
}

@test "send-fd: each client of a -k listener gets them" {
	need python3
	echo shared >"$T/a"
	listen srv -k --send-fd 4 "$T/s" 4<"$T/a" </dev/null
	for i in 1 2; do
		run timeout 20 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
data, anc, _, _ = s.recvmsg(100, socket.CMSG_SPACE(4 * 4))
print(repr(data), sum(len(b) // 4 for _, _, b in anc))' "$T/s"
		check_eq "client $i" "b'\\x00' 1" "$output"
	done
}

@test "send-fd: not open, or where nothing of ucat's carries them: usage errors" {
	run timeout 20 "$UCAT" --send-fd 9 "$T/s"
	check_eq "status" 2 "$status"
	check_eq "error" "ucat: --send-fd: descriptor 9 is not open" \
		"${lines[0]}"
	run timeout 20 "$UCAT" --send-fd x "$T/s"
	check_eq "not a number" 2 "$status"
	check_eq "error" "ucat: --send-fd: invalid descriptor 'x'" "${lines[0]}"
	local flags
	for flags in "-lk -e cat" "-l $T/t" "-d" "-z"; do
		run timeout 20 "$UCAT" --send-fd 0 $flags "$T/s"
		check_eq "status with $flags" 2 "$status"
		[[ ${lines[0]} == "ucat: --send-fd: "* ]] ||
			[[ ${lines[0]} == "ucat: -z: "* ]]
	done
	run timeout 20 "$UCAT" --send-fd 0 tcp:1
	check_eq "tcp status" 2 "$status"
	check_eq "tcp error" \
		"ucat: --send-fd: a TCP peer cannot receive descriptors" \
		"${lines[0]}"
	[ ! -e "$T/s" ]
}

@test "send-fd: descriptors a peer passes to ucat are closed at once" {
	need python3
	listen srv -uv "$T/s" </dev/null
	local before after
	before=$(ls "/proc/$(ucat_of srv)/fd" | wc -l)
	timeout 20 python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(5)]
for i in range(20):
    s.sendmsg([b"m%d\n" % i], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
               bytes(__import__("array").array("i", fds)))], 0, sys.argv[1])' \
		"$T/s"
	wait_out srv "^m19$"
	after=$(ls "/proc/$(ucat_of srv)/fd" | wc -l)
	check_eq "ucat's descriptors" "$before" "$after"
	check_eq "reported with -v" 20 \
		"$(grep -c "^ucat: $T/s: closed 5 descriptors the peer passed$" \
		"$T/srv.err")"
}
