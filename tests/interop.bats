#!/usr/bin/env bats
# interop.bats: ucat against peers nobody on the team wrote (socat,
# nc.openbsd, Python's socket module, redis-server, curl, logger).  A peer
# that is not installed skips its test.
load helpers

PEER=${TESTS_DIR}/peer.py

setup_file() {
	# One 64 MiB random payload shared by the bulk tests.
	head -c $((64 * 1024 * 1024)) /dev/urandom >"$BATS_FILE_TMPDIR/payload"
	sha256sum "$BATS_FILE_TMPDIR/payload" | cut -d' ' -f1 \
	    >"$BATS_FILE_TMPDIR/payload.sha"
}

# Stdin as hex digits, for byte-exact comparisons.
hex() {
	od -An -v -tx1 | tr -d ' \n'
}

# A unique abstract name (with its @) for this test.
abstract() {
	printf '@ucat-%s-%s-%s' "$BATS_TEST_NUMBER" "$$" "$RANDOM"
}

# wait_listening ADDR: until the kernel lists a listening stream socket bound
# to ADDR (a path, or @name) in /proc/net/unix.  For peers that do not say
# when they listen; the socket file alone appears before listen(2).
wait_listening() {
	local i
	[ -r /proc/net/unix ] || skip "no /proc/net/unix to see a peer listen"
	for ((i = 0; i < 1000; i++)); do
		# Flags 00010000 is __SO_ACCEPTCON: listen(2) was called.
		awk -v a="$1" '$4 == "00010000" && $8 == a { f = 1 }
		    END { exit !f }' /proc/net/unix && return 0
		sleep 0.01
	done
	echo "nothing listens on $1" >&2
	return 1
}

# wait_socket PATH: until PATH is a socket.  A datagram socket takes
# messages from the moment bind(2) made its file.
wait_socket() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.01
	done
	echo "no socket appeared at $1" >&2
	return 1
}

# wait_out NAME PATTERN: until $T/NAME.out holds PATTERN, or fail if NAME died.
wait_out() {
	local name=$1 pattern=$2 pid_var="${1}_PID" i
	for ((i = 0; i < 1000; i++)); do
		grep -q -- "$pattern" "$T/$name.out" 2>/dev/null && return 0
		if ! kill -0 "${!pid_var}" 2>/dev/null; then
			grep -q -- "$pattern" "$T/$name.out" 2>/dev/null &&
			    return 0
			echo "$name exited before printing '$pattern':" >&2
			cat "$T/$name.err" >&2
			return 1
		fi
		sleep 0.01
	done
	echo "timed out waiting for '$pattern' on $name's stdout" >&2
	return 1
}

# check_received_burst N: NAME srv printed m0 .. m(N-1), one a line, in
# order; on failure, say how many came and where they first differ.
check_received_burst() {
	local got diffs
	got=$(wc -l <"$T/srv.out")
	diffs=$(seq -f 'm%g' 0 $(($1 - 1)) | diff - "$T/srv.out" |
	    head -n 3 | tr '\n' ' ')
	check_eq "messages m0..m$(($1 - 1)) received" "$1 lines; diff: " \
	    "$got lines; diff: $diffs"
}

# --- stream: socat and nc.openbsd ---------------------------------------

@test "interop: ucat connects to socat UNIX-LISTEN, data both ways" {
	need socat
	echo from-socat >"$T/socat.in"
	spawn srv socat -t 10 UNIX-LISTEN:"$T/s.sock" STDIO <"$T/socat.in"
	wait_listening "$T/s.sock"
	echo from-ucat >"$T/ucat.in"
	timeout 20 "$UCAT" "$T/s.sock" <"$T/ucat.in" >"$T/ucat.out"
	finish srv
	check_eq "socat status" 0 "$STATUS"
	check_eq "ucat received" from-socat "$(cat "$T/ucat.out")"
	check_eq "socat received" from-ucat "$(cat "$T/srv.out")"
}

@test "interop: socat UNIX-CONNECT reaches ucat -l, data both ways" {
	need socat
	echo from-ucat >"$T/ucat.in"
	listen srv "$T/s.sock" <"$T/ucat.in"
	echo from-socat >"$T/socat.in"
	timeout 20 socat -t 10 STDIO UNIX-CONNECT:"$T/s.sock" \
	    <"$T/socat.in" >"$T/socat.out"
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "socat received" from-ucat "$(cat "$T/socat.out")"
	check_eq "ucat -l received" from-socat "$(cat "$T/srv.out")"
	until_gone "$T/s.sock"
}

@test "interop: ucat connects to nc.openbsd -lU, data both ways" {
	need nc.openbsd
	echo from-nc >"$T/nc.in"
	spawn srv nc.openbsd -N -lU "$T/n.sock" <"$T/nc.in"
	wait_listening "$T/n.sock"
	echo from-ucat >"$T/ucat.in"
	timeout 20 "$UCAT" "$T/n.sock" <"$T/ucat.in" >"$T/ucat.out"
	finish srv
	check_eq "nc status" 0 "$STATUS"
	check_eq "ucat received" from-nc "$(cat "$T/ucat.out")"
	check_eq "nc received" from-ucat "$(cat "$T/srv.out")"
}

@test "interop: nc.openbsd -U reaches ucat -l, data both ways" {
	need nc.openbsd
	echo from-ucat >"$T/ucat.in"
	listen srv "$T/n.sock" <"$T/ucat.in"
	echo from-nc >"$T/nc.in"
	timeout 20 nc.openbsd -N -U "$T/n.sock" <"$T/nc.in" >"$T/nc.out"
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "nc received" from-ucat "$(cat "$T/nc.out")"
	check_eq "ucat -l received" from-nc "$(cat "$T/srv.out")"
	until_gone "$T/n.sock"
}

# --- abstract names, byte-exact -----------------------------------------

@test "interop: ucat @name reaches a python server bound to exactly \\0name" {
	need_feature abstract
	need python3
	local name want
	name=$(abstract)
	want=00$(printf '%s' "${name#@}" | hex)
	echo from-python >"$T/py.in"
	spawn py python3 "$PEER" server "$name" <"$T/py.in"
	wait_for py listening
	echo from-ucat >"$T/ucat.in"
	timeout 20 "$UCAT" "$name" <"$T/ucat.in" >"$T/ucat.out"
	finish py
	check_eq "python status" 0 "$STATUS"
	# The accepted socket carries the listener's name: sun_path[0] = 0,
	# then the name, nothing after it.
	check_eq "name python accepted on" "sockname $want" \
	    "$(grep '^sockname' "$T/py.err")"
	check_eq "ucat client's own name" "peername (unnamed)" \
	    "$(grep '^peername' "$T/py.err")"
	check_eq "ucat received" from-python "$(cat "$T/ucat.out")"
	check_eq "python received" from-ucat "$(cat "$T/py.out")"
}

@test "interop: ucat @name does not reach a NUL-padded \\0name" {
	need_feature abstract
	need python3
	local name
	name=$(abstract)
	spawn py python3 "$PEER" padded-server "$name" </dev/null
	wait_for py listening
	run timeout 20 "$UCAT" "$name" </dev/null
	check_eq "exit status" 1 "$status"
	check_eq "lines on stderr" 1 "${#lines[@]}"
	[[ $output == "ucat: "*"$name"*"Connection refused" ]] ||
	    { echo "message: [$output]" >&2; false; }
	# The padded listener saw no connection.
	run grep -c '^sockname' "$T/py.err"
	check_eq "connections at the padded name" 0 "$output"
}

@test "interop: python client on \\0name reaches ucat -l @name, no padding" {
	need_feature abstract
	need python3
	local name want
	name=$(abstract)
	want=00$(printf '%s' "${name#@}" | hex)
	echo from-ucat >"$T/ucat.in"
	listen srv "$name" <"$T/ucat.in"
	check_eq "listening line" "ucat: listening on $name" \
	    "$(grep 'listening on' "$T/srv.err")"
	echo from-python >"$T/py.in"
	timeout 20 python3 "$PEER" client "$name" <"$T/py.in" \
	    >"$T/py.out" 2>"$T/py.err"
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "name ucat is bound to" "peername $want" "$(cat "$T/py.err")"
	check_eq "python received" from-ucat "$(cat "$T/py.out")"
	check_eq "ucat -l received" from-python "$(cat "$T/srv.out")"
}

@test "interop: ucat -v -l @ reports its autobound name and python connects" {
	need_feature abstract
	need python3
	local name want
	echo from-ucat >"$T/ucat.in"
	listen srv @ <"$T/ucat.in"
	name=$(sed -n 's/^ucat: listening on //p' "$T/srv.err")
	# Linux autobind picks 5 hex digits.
	[[ $name =~ ^@[0-9a-f]{5}$ ]] ||
	    { echo "autobound name: [$name]" >&2; false; }
	want=00$(printf '%s' "${name#@}" | hex)
	echo from-python >"$T/py.in"
	timeout 20 python3 "$PEER" client "$name" <"$T/py.in" \
	    >"$T/py.out" 2>"$T/py.err"
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "name python reached" "peername $want" "$(cat "$T/py.err")"
	check_eq "python received" from-ucat "$(cat "$T/py.out")"
	check_eq "ucat -l received" from-python "$(cat "$T/srv.out")"
}

@test "interop: socat ABSTRACT-LISTEN and ABSTRACT-CONNECT meet ucat @name" {
	need_feature abstract
	need socat
	local name
	name=$(abstract)
	echo from-socat >"$T/socat.in"
	spawn srv socat -t 10 ABSTRACT-LISTEN:"${name#@}" STDIO <"$T/socat.in"
	wait_listening "$name"
	echo from-ucat >"$T/ucat.in"
	timeout 20 "$UCAT" "$name" <"$T/ucat.in" >"$T/ucat.out"
	finish srv
	check_eq "socat status" 0 "$STATUS"
	check_eq "ucat received" from-socat "$(cat "$T/ucat.out")"
	check_eq "socat received" from-ucat "$(cat "$T/srv.out")"

	name=$(abstract)
	listen lis "$name" <"$T/ucat.in"
	timeout 20 socat -t 10 STDIO ABSTRACT-CONNECT:"${name#@}" \
	    <"$T/socat.in" >"$T/socat.out"
	finish lis
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "socat received" from-ucat "$(cat "$T/socat.out")"
	check_eq "ucat -l received" from-socat "$(cat "$T/lis.out")"
}

# --- real servers and clients -------------------------------------------

@test "interop: redis-server answers PING through ucat with +PONG CR LF" {
	need redis-server
	spawn redis redis-server --port 0 --unixsocket "$T/redis.sock" \
	    --save '' --appendonly no --daemonize no --dir "$T" </dev/null
	wait_listening "$T/redis.sock"
	printf 'PING\r\n' | timeout 20 "$UCAT" -v "$T/redis.sock" \
	    >"$T/pong" 2>"$T/ucat.err"
	# Exactly these 7 bytes: redis answered before it saw ucat's
	# half-close, then closed, and ucat delivered all of it.
	printf '+PONG\r\n' >"$T/expected"
	cmp "$T/expected" "$T/pong"
	[[ $(tail -n 1 "$T/ucat.err") =~ ^ucat:\ sent\ 6\ bytes,\ received\ 7\ bytes\ in\ [0-9]+\.[0-9]{3}\ s$ ]]

	# Pipelined commands, answered in order.
	printf 'SET k vv\r\nGET k\r\nQUIT\r\n' |
	    timeout 20 "$UCAT" "$T/redis.sock" >"$T/replies"
	printf '+OK\r\n$2\r\nvv\r\n+OK\r\n' >"$T/expected"
	cmp "$T/expected" "$T/replies"
}

@test "interop: curl --unix-socket gets ucat -l's canned HTTP response" {
	need curl
	printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' >"$T/resp"
	printf 'Content-Length: 6\r\nConnection: close\r\n\r\nhello\n' \
	    >>"$T/resp"
	listen srv "$T/h.sock" <"$T/resp"
	timeout 20 curl -sS --max-time 15 --unix-socket "$T/h.sock" \
	    http://localhost/x -o "$T/body"
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "body curl got" hello "$(cat "$T/body")"
	# The raw request line, CR LF and all, as curl sent it.
	check_eq "request line" "$(printf 'GET /x HTTP/1.1\r\n' | hex)" \
	    "$(head -n 1 "$T/srv.out" | hex)"
	grep -q '^Host: localhost' "$T/srv.out"
	check_eq "request end" 0d0a0d0a "$(tail -c 4 "$T/srv.out" | hex)"
	until_gone "$T/h.sock"
}

# --- 64 MiB, sha256 kept ------------------------------------------------

@test "interop: 64 MiB from socat to ucat -l keeps its sha256" {
	need socat
	listen srv -d "$T/big.sock"
	timeout 20 socat -u OPEN:"$BATS_FILE_TMPDIR/payload" \
	    UNIX-CONNECT:"$T/big.sock"
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "sha256 received" "$(cat "$BATS_FILE_TMPDIR/payload.sha")" \
	    "$(sha "$T/srv.out")"
}

@test "interop: 64 MiB from ucat -l to socat keeps its sha256" {
	need socat
	listen srv "$T/big.sock" <"$BATS_FILE_TMPDIR/payload"
	timeout 20 socat -u UNIX-CONNECT:"$T/big.sock" STDOUT >"$T/got"
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_eq "sha256 received" "$(cat "$BATS_FILE_TMPDIR/payload.sha")" \
	    "$(sha "$T/got")"
}

@test "interop: 64 MiB each way at once, ucat and a python server, sha256 kept" {
	need_feature abstract
	need python3
	local name
	name=$(abstract)
	spawn py python3 "$PEER" server "$name" <"$BATS_FILE_TMPDIR/payload"
	wait_for py listening
	# ucat sends the same payload up while it receives the python one.
	timeout 20 "$UCAT" "$name" <"$BATS_FILE_TMPDIR/payload" >"$T/got"
	finish py
	check_eq "python status" 0 "$STATUS"
	check_eq "sha256 ucat received" \
	    "$(cat "$BATS_FILE_TMPDIR/payload.sha")" "$(sha "$T/got")"
	check_eq "sha256 python received" \
	    "$(cat "$BATS_FILE_TMPDIR/payload.sha")" "$(sha "$T/py.out")"
}

@test "interop: 64 MiB between ucat and ucat -l keeps its sha256 both ways" {
	listen up -d "$T/up.sock"
	timeout 20 "$UCAT" "$T/up.sock" <"$BATS_FILE_TMPDIR/payload"
	finish up
	check_eq "client -> listener status" 0 "$STATUS"
	check_eq "sha256 client -> listener" \
	    "$(cat "$BATS_FILE_TMPDIR/payload.sha")" "$(sha "$T/up.out")"

	listen down "$T/down.sock" <"$BATS_FILE_TMPDIR/payload"
	timeout 20 "$UCAT" -d "$T/down.sock" >"$T/got"
	finish down
	check_eq "listener -> client status" 0 "$STATUS"
	check_eq "sha256 listener -> client" \
	    "$(cat "$BATS_FILE_TMPDIR/payload.sha")" "$(sha "$T/got")"
}

# --- datagrams ----------------------------------------------------------

@test "datagram interop: ucat -u and a python echo exchange messages" {
	need_feature abstract
	need python3
	local name
	name=$(abstract)
	spawn py python3 "$PEER" dgram-echo "$name" 2 </dev/null
	wait_for py listening
	printf 'one\ntwo\n' >"$T/msgs"
	# -q 20: long enough for the replies; the test stops it when both came.
	spawn cli "$UCAT" -u -L -q 20 "$name" <"$T/msgs"
	wait_out cli 'echo:two'
	finish py
	check_eq "python status" 0 "$STATUS"
	check_eq "python received" "$(printf 'one\ntwo')" "$(cat "$T/py.out")"
	check_eq "ucat received" "$(printf 'echo:one\necho:two')" \
	    "$(cat "$T/cli.out")"
	# The client autobinds an abstract name (00 + 5 hex digits) to be
	# answered at, the same for both messages.
	grep -Eq '^from 00([0-9a-f]{2}){5}$' "$T/py.err"
	check_eq "distinct sender names" 1 \
	    "$(grep '^from' "$T/py.err" | sort -u | wc -l)"
}

@test "datagram interop: python client to ucat -u -l, ucat answers it" {
	need_feature abstract
	need python3
	local name cname
	name=$(abstract)
	cname=$(abstract)-client
	echo answer >"$T/answer"
	listen srv -u -L "$name" <"$T/answer"
	timeout 20 python3 "$PEER" dgram-client "$name" "$cname" 1 m1 m2 \
	    >"$T/py.out"
	check_eq "python received" answer "$(cat "$T/py.out")"
	wait_out srv m2
	check_eq "ucat -u -l received" "$(printf 'm1\nm2')" "$(cat "$T/srv.out")"
	check_eq "sender reported" "ucat: message from $cname" \
	    "$(grep 'message from' "$T/srv.err")"
}

@test "datagram interop: socat UNIX-RECVFROM answers ucat -u" {
	need_feature abstract
	need socat
	echo pong >"$T/pong"
	spawn srv socat -t 10 UNIX-RECVFROM:"$T/d.sock" STDIO <"$T/pong"
	wait_socket "$T/d.sock"
	echo ping >"$T/ping"
	spawn cli "$UCAT" -u -q 20 "$T/d.sock" <"$T/ping"
	wait_out cli pong
	check_eq "ucat -u received" pong "$(cat "$T/cli.out")"
	wait_out srv ping
	check_eq "socat received" ping "$(cat "$T/srv.out")"
}

@test "datagram interop: socat UNIX-SENDTO to ucat -u -l, with and without a bind" {
	need socat
	echo reply >"$T/reply"
	listen srv -u "$T/d.sock" <"$T/reply"
	echo via-socat >"$T/msg"
	spawn cli socat -t 10 STDIO \
	    UNIX-SENDTO:"$T/d.sock",bind="$T/c.sock" <"$T/msg"
	wait_out cli reply
	check_eq "socat received" reply "$(cat "$T/cli.out")"
	check_eq "ucat -u -l received" via-socat "$(cat "$T/srv.out")"
	check_eq "sender reported" "ucat: message from $T/c.sock" \
	    "$(grep 'message from' "$T/srv.err")"

	# An unbound sender is heard, and ucat says it cannot answer it.
	echo unbound | timeout 20 socat -u STDIN UNIX-SENDTO:"$T/d.sock"
	wait_out srv unbound
	wait_for srv 'a sender has no address'
	check_eq "ucat -u -l received" "$(printf 'via-socat\nunbound')" \
	    "$(cat "$T/srv.out")"
	check_eq "warning" \
	    "ucat: $T/d.sock: a sender has no address; it cannot be answered" \
	    "$(grep 'no address' "$T/srv.err")"
}

@test "datagram interop: logger -u sends a syslog line that ucat -u -l prints" {
	need logger
	listen srv -u -L "$T/log.sock" </dev/null
	timeout 20 logger -u "$T/log.sock" -t ucat-interop "hello syslog"
	wait_out srv 'hello syslog'
	# A BSD syslog line: priority user.notice <13>, a timestamp, the tag.
	grep -Eq '^<13>.* ucat-interop: hello syslog$' "$T/srv.out"
	check_eq "lines" 1 "$(wc -l <"$T/srv.out")"
}

@test "datagram interop: a burst of python datagrams reaches ucat -u -l whole" {
	need_feature abstract
	need python3
	local name
	name=$(abstract)
	listen srv -u -L "$name" </dev/null
	timeout 20 python3 "$PEER" burst dgram "$name" 200
	# Sent means queued at ucat's socket: all 200 are there to be read.
	wait_out srv '^m199$' || true
	check_received_burst 200
}

@test "interop: a burst of python seqpacket messages reaches ucat -l whole" {
	need_feature abstract
	need python3
	local name
	name=$(abstract)
	listen srv --seqpacket -L "$name" </dev/null
	timeout 20 python3 "$PEER" burst seqpacket "$name" 200
	finish srv
	check_eq "ucat -l status" 0 "$STATUS"
	check_received_burst 200
}

# --- nc's habits ------------------------------------------------------------

@test "nc habits: the OpenBSD nc man page's Unix-socket lines, with ucat for nc" {
	# "Create and listen on a UNIX-domain stream socket", then talk.
	mkfifo "$T/srv.in"
	spawn srv "$UCAT" -lU "$T/dsocket" <>"$T/srv.in"
	wait_sock "$T/dsocket"
	echo "from the server" >"$T/srv.in"
	run timeout 20 "$UCAT" -U -q 5 "$T/dsocket" <<<"from the client"
	check_eq "the client got" "from the server" "$output"
	wait_out srv "from the client"
	# DATA TRANSFER: "nc -l 1234 > filename.out" and
	# "nc -N host.example.com 1234 < filename.in", over a Unix socket.
	head -c 1000000 /dev/urandom >"$T/filename.in"
	spawn out "$UCAT" -lU "$T/dsocket2"
	wait_sock "$T/dsocket2"
	timeout 20 "$UCAT" -N -U "$T/dsocket2" <"$T/filename.in"
	finish out
	check_eq "status" 0 "$STATUS"
	check_eq "filename.out" "$(sha "$T/filename.in")" "$(sha "$T/out.out")"
	# -k: "listen for another connection after the current one".
	spawn keep "$UCAT" -lkU "$T/dsocket3" </dev/null
	wait_sock "$T/dsocket3"
	for word in one two; do
		echo "$word" | timeout 20 "$UCAT" -N -U "$T/dsocket3"
	done
	wait_out keep two
	check_eq "both" "one
two" "$(cat "$T/keep.out")"
	# Datagrams: nc -luU and nc -uU.
	listen dg -luU "$T/dgram" </dev/null
	echo "a datagram" | timeout 20 "$UCAT" -uU "$T/dgram"
	wait_out dg "a datagram"
}

@test "nc habits: -N with --no-shutdown is a usage error; -U with tcp: is TCP" {
	run timeout 20 "$UCAT" -N --no-shutdown "$T/s"
	check_eq "status" 2 "$status"
	check_eq "error" "ucat: -N and --no-shutdown: give one" "${lines[0]}"
	run timeout 20 "$UCAT" -U tcp:1
	check_eq "tcp: refused" 1 "$status"
	[[ ${lines[0]} == "ucat: connect tcp:1: Connection refused" ]]
}
