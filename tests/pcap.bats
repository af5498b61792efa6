#!/usr/bin/env bats
# --pcap: the traffic as a capture that tshark decodes with no plug-in:
# TCP handshakes, sequence numbers, FIN and RST, checksums, HTTP and RESP
# through real nginx and redis, streams reassembled byte for byte (by
# tshark's own follow), datagrams as UDP, a live reader on a pipe, and the
# rules of the file.  Without tshark every test here skips.

load helpers

# tsk ARGS...: tshark, bounded, without its note about running as root.
tsk() {
	timeout 120 tshark "$@" 2>/dev/null
}

# Random bytes are data to tshark, never a protocol that they break.
RAW=(-d tcp.port==80,data -d udp.port==80,data)

# Reads tshark's "-z follow,tcp,raw,N" blocks and prints, per stream,
# "CLIENT SERVER SHA-CLIENT-SENT SHA-SERVER-SENT" (node 0 sent the SYN).
FOLLOW='
import hashlib, sys
streams, cur = [], None
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("Node 0: "):
        cur = {"c": line[8:], "d": [bytearray(), bytearray()]}
    elif line.startswith("Node 1: "):
        cur["s"] = line[8:]
    elif line.startswith("===="):
        if cur is not None and "s" in cur:
            streams.append(cur)
        cur = None
    elif cur is not None and "s" in cur and line:
        if line.startswith("\t"):
            cur["d"][1] += bytes.fromhex(line[1:])
        else:
            cur["d"][0] += bytes.fromhex(line)
for s in streams:
    print(s["c"], s["s"], *(hashlib.sha256(d).hexdigest() for d in s["d"]))
'

# streams FILE: each TCP stream of FILE as FOLLOW prints it, sorted.
streams() {
	local n i args=()
	n=$(tsk -r "$1" -T fields -e tcp.stream | sort -u | grep -c . || true)
	for ((i = 0; i < n; i++)); do
		args+=(-z "follow,tcp,raw,$i")
	done
	tsk -r "$1" -q "${args[@]}" | python3 -c "$FOLLOW" | sort
}

# A client's address in a capture: 127.R.N/256.N%256 (R: ucat's run).
CLIENT='127\.[0-9]+\.0\.'

# one_stream FILE UP DOWN: FILE holds connection 1 alone, which carried
# bytes of sha256 UP to the server and DOWN back.
one_stream() {
	local got
	got=$(streams "$1")
	[[ $got =~ ^${CLIENT}1:32768\ 127\.0\.0\.1:80\ $2\ $3$ ]] || {
		echo "$1: expected connection 1 carrying $2 and $3:" >&2
		echo "$got" >&2
		return 1
	}
}

# clean FILE [ARGS...]: no packet of FILE that tshark (given ARGS) finds
# malformed, out of TCP order, or with a bad IP, TCP or UDP checksum.
clean() {
	local bad
	bad=$(tsk -r "$@" -o ip.check_checksum:TRUE \
		-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
		-Y '_ws.malformed || tcp.analysis.flags ||
		    ip.checksum.status == 0 || tcp.checksum.status == 0 ||
		    udp.checksum.status == 0')
	[ -z "$bad" ] || {
		echo "packets tshark objects to:" >&2
		echo "$bad" >&2
		return 1
	}
}

@test "pcap: curl through ucat -lk --pcap before nginx: HTTP GET and 200" {
	need tshark nginx curl python3
	nginx_start
	echo "hello from nginx" >"$T/www/small.txt"
	head -c 300000 /dev/urandom >"$T/www/big.bin"
	relay rel -lk --pcap "$T/cap" "$T/front" "$T/nginx.sock"
	run timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		-o "$T/small.got" -w '%{http_code}' http://localhost/small.txt
	check_eq "HTTP status" 200 "$output"
	run timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		-o "$T/big.got" -w '%{http_code}' http://localhost/big.bin
	check_eq "HTTP status" 200 "$output"
	cmp "$T/www/big.bin" "$T/big.got"
	# Each child writes its last records as it closes.
	for ((i = 0; i < 500; i++)); do
		[ "$(tsk -r "$T/cap" -Y 'tcp.flags.fin == 1' | wc -l)" = 4 ] &&
			break
		sleep 0.02
	done
	check_eq "requests" "GET /small.txt HTTP/1.1
GET /big.bin HTTP/1.1" "$(tsk -r "$T/cap" -Y http.request \
		-T fields -e http.request.method -e http.request.uri \
		-e http.request.version | tr '\t' ' ')"
	check_eq "responses" "200 17
200 300000" "$(tsk -r "$T/cap" -Y http.response -T fields \
		-e http.response.code -e http.content_length | tr '\t' ' ')"
	clean "$T/cap"
	# The second response's body is the file, as tshark put it together.
	run streams "$T/cap"
	check_eq "streams" 2 "${#lines[@]}"
	[[ ${lines[1]} =~ ^${CLIENT}2:32769\ 127\.0\.0\.1:80\  ]] || {
		echo "second stream: ${lines[1]}" >&2
		return 1
	}
}

@test "pcap: redis-cli through a relay, --pcap-port 6379: RESP both ways" {
	need tshark redis-server redis-cli
	redis_start
	relay rel -lk --pcap "$T/cap" --pcap-port 6379 "$T/front" \
		"$T/redis.sock"
	local i k v
	# A pipeline of RESP arrays, as redis-cli --pipe sends them.
	for ((i = 1; i <= 200; i++)); do
		k=key$i v=value$i
		printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' \
			${#k} "$k" ${#v} "$v"
	done >"$T/cmds"
	run timeout 60 redis-cli -s "$T/front" --pipe <"$T/cmds"
	check_eq "redis-cli --pipe" 0 "$status"
	[[ $output == *"errors: 0, replies: 200"* ]]
	for ((i = 0; i < 500; i++)); do
		[ "$(tsk -r "$T/cap" -Y 'tcp.flags.fin == 1' | wc -l)" = 2 ] &&
			break
		sleep 0.02
	done
	# Decoded as RESP: every SET (bulk strings, in hex), every +OK.
	check_eq "SETs" 200 "$(tsk -r "$T/cap" -Y resp -T fields \
		-e resp.bulk_string.value | tr ',' '\n' | grep -c '^534554$')"
	tsk -r "$T/cap" -Y resp -T fields -e resp.bulk_string.value |
		tr ',' '\n' | grep -q "^$(printf value200 | xxd -p)$"
	check_eq "OK replies" 200 "$(tsk -r "$T/cap" -Y resp -T fields \
		-e resp.string | tr ',' '\n' | grep -c '^OK$')"
	clean "$T/cap"
}

@test "pcap: 1 MiB each way, stdio and relay, file and pipe: reassembled" {
	need tshark python3
	head -c 1048576 /dev/urandom >"$T/up"
	head -c 1048576 /dev/urandom >"$T/down"
	local up down
	up=$(sha "$T/up")
	down=$(sha "$T/down")
	# Both ends of a stdio pump: the listener is the server either way.
	listen srv --pcap "$T/srv.cap" "$T/s" <"$T/down"
	timeout 60 "$UCAT" --pcap "$T/cli.cap" "$T/s" <"$T/up" >"$T/got.down"
	finish srv
	check_eq "status" 0 "$STATUS"
	check_eq "received" "$down" "$(sha "$T/got.down")"
	check_eq "sent" "$up" "$(sha "$T/srv.out")"
	for cap in srv cli; do
		one_stream "$T/$cap.cap" "$up" "$down"
		clean "$T/$cap.cap" "${RAW[@]}"
	done
	# A relay, once to a file and once to a pipe (segments that fit
	# PIPE_BUF).
	listen back -k "$T/back" -c "cat >/dev/null; cat $T/down"
	relay rel -lk --pcap "$T/rel.cap" "$T/front" "$T/back"
	spawn piped sh -c '"$0" -v -lk --pcap - "$1" "$2" | cat >"$3"' \
		"$UCAT" "$T/front2" "$T/back" "$T/pipe.cap"
	wait_sock "$T/front2"
	timeout 60 "$UCAT" "$T/front" <"$T/up" >"$T/got1"
	timeout 60 "$UCAT" "$T/front2" <"$T/up" >"$T/got2"
	check_eq "through the relay" "$down" "$(sha "$T/got1")"
	check_eq "through the piped relay" "$down" "$(sha "$T/got2")"
	kill "$rel_PID" "$piped_PID"
	finish rel
	finish piped
	for cap in rel pipe; do
		one_stream "$T/$cap.cap" "$up" "$down"
		clean "$T/$cap.cap" "${RAW[@]}"
	done
	check_eq "largest segment in a file" 65495 "$(tsk -r "$T/rel.cap" \
		-T fields -e tcp.len | sort -n | tail -n 1)"
	check_eq "largest packet in a pipe" 4080 "$(tsk -r "$T/pipe.cap" \
		-T fields -e ip.len | sort -n | tail -n 1)"
}

@test "pcap: 20 concurrent clients of a relay to a pipe are 20 TCP streams" {
	need tshark python3
	local BG_LIMIT=300 i n want
	listen back -k "$T/back" -c cat
	spawn rel sh -c '"$0" -v -lk --pcap - "$1" "$2" | cat >"$3"' \
		"$UCAT" "$T/front" "$T/back" "$T/cap"
	wait_sock "$T/front"
	for ((i = 0; i < 20; i++)); do
		head -c 200000 /dev/urandom >"$T/in.$i"
		spawn "c$i" "$UCAT" "$T/front" <"$T/in.$i"
	done
	for ((i = 0; i < 20; i++)); do
		finish "c$i"
		check_eq "client $i" "$(sha "$T/in.$i")" "$(sha "$T/c$i.out")"
	done
	for ((i = 0; i < 500; i++)); do
		[ "$(tsk -r "$T/cap" -Y 'tcp.flags.fin == 1' | wc -l)" = 40 ] &&
			break
		sleep 0.05
	done
	# Records of concurrent children never cut into each other: each
	# stream is whole, and echoes what its client sent.
	run streams "$T/cap"
	check_eq "streams" 20 "${#lines[@]}"
	for ((i = 0; i < 20; i++)); do
		want=$(sha "$T/in.$i")
		grep -Eq "^${CLIENT}[0-9]+:327[0-9][0-9] 127\.0\.0\.1:80 $want $want$" \
			<<<"$output" || {
			echo "client $i is not a stream of the capture" >&2
			return 1
		}
	done
	check_eq "client ports" 20 "$(cut -d' ' -f1 <<<"$output" | sort -u |
		wc -l)"
	clean "$T/cap" "${RAW[@]}"
}

@test "pcap: datagrams are UDP with their lengths, a cut one its real one" {
	need tshark python3
	listen back -u "$T/back" >/dev/null
	relay rel -lu --pcap "$T/cap" "$T/front" "$T/back"
	spawn piped sh -c '"$0" -v -lu --pcap - "$1" "$2" | cat >"$3"' \
		"$UCAT" "$T/front2" "$T/back" "$T/pipe.cap"
	wait_sock "$T/front2"
	timeout 60 python3 -c 'import socket, sys
for front in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.connect(front)
    for n in (0, 1, 100, 5000, 65507, 70000):
        s.send(bytes(i % 251 for i in range(n)))' "$T/front" "$T/front2"
	local want="8	28	28
9	29	29
108	128	128
5008	5028	5028
65515	65535	65535
65515	70028	65535"
	for ((i = 0; i < 500; i++)); do
		[ "$(tsk -r "$T/pipe.cap" -Y udp | wc -l)" = 6 ] && break
		sleep 0.02
	done
	check_eq "file: udp length, frame length, captured" "$want" \
		"$(tsk -r "$T/cap" -Y udp -T fields -e udp.length \
		-e frame.len -e frame.cap_len)"
	# In a pipe, a datagram longer than PIPE_BUF is in IP fragments,
	# which tshark puts together again.
	check_eq "pipe: udp lengths" "8 9 108 5008 65515 65515" \
		"$(tsk -r "$T/pipe.cap" -Y udp -T fields -e udp.length | xargs)"
	check_eq "pipe: data, reassembled" "$(tsk -r "$T/cap" -Y udp \
		-T fields -e data.data | sha256sum)" "$(tsk -r "$T/pipe.cap" \
		-Y udp -T fields -e data.data | sha256sum)"
	# Fragments carry multiples of 8 bytes: 4056 of the 4060 there is
	# room for.
	check_eq "pipe: largest packet" 4076 "$(tsk -r "$T/pipe.cap" \
		-T fields -e ip.len | sort -n | tail -n 1)"
	[[ $(tsk -r "$T/cap" -Y udp -T fields -e ip.src -e ip.dst \
		-e udp.srcport -e udp.dstport | sort -u | tr '\t' ' ') =~ \
		^${CLIENT}1\ 127\.0\.0\.1\ 32768\ 80$ ]]
	clean "$T/cap" "${RAW[@]}"
	clean "$T/pipe.cap" "${RAW[@]}"
}

@test "pcap: concurrent seqpacket clients to a pipe: fragments never mixed" {
	need tshark python3
	local i
	listen back -k --seqpacket "$T/back" -c cat
	spawn rel sh -c '"$0" -v -lk --seqpacket --pcap - "$1" "$2" |
		cat >"$3"' "$UCAT" "$T/front" "$T/back" "$T/cap"
	wait_sock "$T/front"
	# Two clients at once, turn about: each message is in fragments,
	# which tshark puts together by address and IP id.
	run timeout 60 python3 -c 'import socket, sys
cs = []
for _ in range(2):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    c.connect(sys.argv[1])
    cs.append(c)
for i in range(20):
    for c, b in zip(cs, b"aA"):
        c.send(bytes([b]) * 10000)
        assert c.recv(20000) == bytes([b]) * 10000
print("echoed")' "$T/front"
	check_eq "clients" echoed "$output"
	for ((i = 0; i < 500; i++)); do
		[ "$(tsk -r "$T/cap" -Y udp | wc -l)" = 80 ] && break
		sleep 0.02
	done
	check_eq "datagrams of 10000 bytes" 80 "$(tsk -r "$T/cap" \
		-Y 'udp.length == 10008' | wc -l)"
	clean "$T/cap" "${RAW[@]}"
}

@test "pcap: seqpacket messages and a datagram -e server's exchanges as UDP" {
	need tshark python3
	listen back --seqpacket "$T/back" </dev/null
	printf 'one\ntwo\n' | timeout 20 "$UCAT" --seqpacket -L --pcap "$T/seq" \
		"$T/back"
	finish back
	check_eq "messages received" "onetwo" "$(cat "$T/back.out")"
	[[ $(tsk -r "$T/seq" -T fields -e ip.src -e ip.dst -e data.len \
		-e data.data | tr '\t\n' '  ') =~ \
		^${CLIENT}1\ 127\.0\.0\.1\ 3\ 6f6e65\ ${CLIENT}1\ 127\.0\.0\.1\ 3\ 74776f\ $ ]]
	# -u -e: what comes in goes to the server, the reply back.
	listen srv -u --pcap "$T/srv" "$T/s" -e "tr a-z A-Z"
	run timeout 20 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.settimeout(10)
s.sendto(b"hello", sys.argv[1])
print(s.recv(100).decode())' "$T/s" "$T/me"
	check_eq "reply" HELLO "$output"
	[[ $(tsk -r "$T/srv" -T fields -e ip.src -e ip.dst -e data.data |
		tr '\t\n' '  ') =~ \
		^${CLIENT}1\ 127\.0\.0\.1\ 68656c6c6f\ 127\.0\.0\.1\ ${CLIENT}1\ 48454c4c4f\ $ ]]
}

@test "pcap: a reset is a RST, and nothing of that connection follows it" {
	need tshark python3
	spawn back python3 -c 'import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("ready", file=sys.stderr, flush=True)
c, _ = s.accept()
c.sendall(bytes(i % 251 for i in range(1000000)))
c.recv(1)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()' "$T/back"
	wait_for back ready
	relay rel -l --pcap "$T/cap" "$T/front" "$T/back"
	# The client keeps sending: TARGET left unread bytes, and reset.
	timeout 20 "$UCAT" "$T/front" < <(yes | head -c 100000) >"$T/got" ||
		true
	finish rel
	check_eq "last packet, a RST from TARGET" "127.0.0.1 1" \
		"$(tsk -r "$T/cap" -T fields -e ip.src -e tcp.flags.reset |
		tail -n 1 | tr '\t' ' ')"
	check_eq "RSTs" 1 "$(tsk -r "$T/cap" -Y 'tcp.flags.reset == 1' |
		wc -l)"
	# What reached the client before the reset is in the capture, all
	# of it, and no FIN from TARGET (the client's own end of data may
	# come before the reset).
	[ -s "$T/got" ]
	run streams "$T/cap"
	[[ $output == *" $(sha "$T/got")" ]] || {
		echo "the capture's bytes to the client are not what it got" >&2
		return 1
	}
	check_eq "FINs from TARGET" 0 "$(tsk -r "$T/cap" \
		-Y 'tcp.flags.fin == 1 && ip.src == 127.0.0.1' | wc -l)"
}

@test "pcap: a TARGET that cannot be reached: the client's SYN, then a RST" {
	need tshark
	relay rel -lk --pcap "$T/cap" "$T/front" "$T/nowhere"
	timeout 20 "$UCAT" -d "$T/front" || true
	for ((i = 0; i < 500; i++)); do
		[ "$(tsk -r "$T/cap" | wc -l)" = 2 ] && break
		sleep 0.02
	done
	[[ $(tsk -r "$T/cap" -T fields -e ip.src -e tcp.flags.syn \
		-e tcp.flags.reset | tr '\t\n' '  ') =~ \
		^${CLIENT}1\ 1\ 0\ 127\.0\.0\.1\ 0\ 1\ $ ]]
	clean "$T/cap"
}

@test "pcap: --no-shutdown: no FIN until the connection ends" {
	need tshark
	listen srv "$T/s" -c 'head -n 1 >/dev/null; echo late'
	echo hi | timeout 20 "$UCAT" --no-shutdown --pcap "$T/cap" "$T/s" \
		>"$T/got"
	check_eq "reply" late "$(cat "$T/got")"
	# The server's FIN first: the client half-closed nothing, and ends
	# only once the server has.
	[[ $(tsk -r "$T/cap" -Y 'tcp.flags.fin == 1' -T fields -e ip.src |
		xargs) =~ ^127\.0\.0\.1\ ${CLIENT}1$ ]]
}

@test "pcap: written as it goes: a live tshark sees data while it moves" {
	need tshark
	listen back -k "$T/back" -c cat
	spawn live sh -c '"$0" -v -lk --pcap - "$1" "$2" |
		tshark -l -i - -T fields -e tcp.srcport -e tcp.payload' \
		"$UCAT" "$T/front" "$T/back"
	wait_sock "$T/front"
	mkfifo "$T/in"
	spawn cli "$UCAT" "$T/front" <>"$T/in"
	exec 7>"$T/in"
	echo live-ping >&7
	# The client has not ended: the packets are in the pipe already.
	wait_out live "^32768	6c6976652d70696e670a$"
	wait_out live "^80	6c6976652d70696e670a$"
	wait_out cli "live-ping"
	kill -0 "$cli_PID"
	exec 7>&-
}

@test "pcap: the file is 0600, appended to only if it is a capture of its kind" {
	need tshark
	echo "not a capture" >"$T/text"
	listen srv -k "$T/s" </dev/null
	(umask 000 && echo one | timeout 20 "$UCAT" --pcap "$T/cap" "$T/s")
	check_eq "mode" 600 "$(stat -c %a "$T/cap")"
	echo two | timeout 20 "$UCAT" --pcap "$T/cap" "$T/s"
	check_eq "both runs, one header" "6f6e650a
74776f0a" "$(tsk -r "$T/cap" -Y 'tcp.len > 0' -T fields -e tcp.payload)"
	# Two runs, two connections, whatever address each got.
	check_eq "streams" 2 "$(tsk -r "$T/cap" -T fields -e tcp.stream |
		sort -u | wc -l)"
	clean "$T/cap"
	run timeout 20 "$UCAT" --pcap "$T/text" "$T/s" </dev/null
	check_eq "status" 1 "$status"
	check_eq "error" "ucat: --pcap $T/text: not a capture ucat can append to (pcap, raw IPv4, microseconds)" "$output"
	check_eq "left as it was" "not a capture" "$(cat "$T/text")"
	head -c 10 "$T/cap" >"$T/short"
	run timeout 20 "$UCAT" --pcap "$T/short" "$T/s" </dev/null
	check_eq "a cut header" 1 "$status"
	ln -s "$T/cap" "$T/link"
	run timeout 20 "$UCAT" --pcap "$T/link" "$T/s" </dev/null
	check_eq "symlink status" 1 "$status"
	# ELOOP, as glibc and musl word it.
	[[ $output == "ucat: --pcap $T/link: "@(Too many levels of symbolic links|Symbolic link loop) ]] || {
		echo "symlink: $output" >&2
		return 1
	}
}

@test "pcap: a file over its size limit is one warning, not a death" {
	need tshark
	head -c 300000 /dev/urandom >"$T/data"
	listen srv "$T/s" </dev/null
	(ulimit -f 64 && exec timeout 20 "$UCAT" --pcap "$T/cap" "$T/s" \
		<"$T/data" 2>"$T/err")
	finish srv
	check_eq status 0 "$STATUS"
	check_eq "what moved" "$(sha "$T/data")" "$(sha "$T/srv.out")"
	check_eq warning "ucat: --pcap $T/cap: File too large" "$(cat "$T/err")"
	# The capture ends in half a record: nothing is appended to it.
	cp "$T/cap" "$T/before"
	listen srv "$T/s" </dev/null
	run timeout 20 "$UCAT" --pcap "$T/cap" "$T/s" </dev/null
	check_eq "append status" 1 "$status"
	check_eq "append error" "ucat: --pcap $T/cap: not a capture ucat can append to (pcap, raw IPv4, microseconds)" "$output"
	cmp "$T/before" "$T/cap"
}

@test "pcap: a reader gone before the header: an error, not SIGPIPE" {
	need python3
	run timeout 20 python3 -c 'import os, sys
r, w = os.pipe()
os.close(r)
os.dup2(w, 1)
os.execv(sys.argv[1], [sys.argv[1], "-l", "--pcap", "-", sys.argv[2],
         sys.argv[3]])' "$UCAT" "$T/front" "$T/back"
	check_eq "status" 1 "$status"
	check_eq "error" "ucat: --pcap -: Broken pipe" "$output"
	[ ! -e "$T/front" ]
}

@test "pcap: usage errors: - where stdout carries traffic, a bad port, -e" {
	run timeout 20 "$UCAT" --pcap - "$T/s"
	check_eq "pump to stdout" 2 "$status"
	[[ ${lines[0]} == "ucat: --pcap -: standard output carries the traffic"* ]]
	run timeout 20 "$UCAT" --pcap "$T/c" --pcap-port 0 "$T/s"
	check_eq "port 0" 2 "$status"
	check_eq "port 0 error" \
		"ucat: --pcap-port: invalid port '0': expected 1 to 65535" \
		"${lines[0]}"
	run timeout 20 "$UCAT" --pcap-port 80 "$T/s"
	check_eq "port alone" 2 "$status"
	check_eq "port alone error" "ucat: --pcap-port: needs --pcap" \
		"${lines[0]}"
	run timeout 20 "$UCAT" -lk --pcap "$T/c" -e cat "$T/s"
	check_eq "-e" 2 "$status"
	[[ ${lines[0]} == "ucat: --pcap: the program of -e or -c has"* ]]
	[ ! -e "$T/c" ] && [ ! -e "$T/s" ]
}
