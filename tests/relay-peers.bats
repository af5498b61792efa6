#!/usr/bin/env bats
# relay-peers.bats: the relay (ucat -l[k] ADDRESS TARGET) in front of the
# real programs users put it in front of: nginx and curl, redis-server and
# redis-cli, socat on either side, a thousand idle python clients, and a
# TARGET that answers only after the client's EOF.  A program that is not
# installed skips its test.  Every socket is a path under $T.

load helpers

# children PID: how many children PID has (zombies included).
children() {
	ps --ppid "$1" -o pid= | wc -l
}

# no_children PID: wait (bounded) until PID has no child, not even a
# zombie.
no_children() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(children "$1")" = 0 ] && return 0
		sleep 0.01
	done
	check_eq "children of $1" 0 "$(children "$1")"
}

# --- nginx and curl -----------------------------------------------------

@test "relay-peers: nginx behind ucat -lk, curl in front: 200, bodies intact" {
	need nginx curl
	nginx_start
	echo "hello from nginx" >"$T/www/small.txt"
	head -c $((8 * 1048576)) /dev/urandom >"$T/www/big.bin"
	relay rel -lk "$T/front" "$T/nginx.sock"

	run timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		-o "$T/small.got" -w '%{http_code}' http://localhost/small.txt
	check_eq "curl status" 0 "$status"
	check_eq "HTTP status" 200 "$output"
	cmp "$T/www/small.txt" "$T/small.got"

	run timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		-o "$T/big.got" -w '%{http_code}' http://localhost/big.bin
	check_eq "curl status" 0 "$status"
	check_eq "HTTP status" 200 "$output"
	check_eq "sha256 of 8 MiB" "$(sha "$T/www/big.bin")" "$(sha "$T/big.got")"

	# A missing file is nginx's 404, not a relay failure.
	run timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		-o /dev/null -w '%{http_code}' http://localhost/nothing-here
	check_eq "HTTP status of a missing file" 404 "$output"

	# A client that stops reading and goes away mid-body (curl's output
	# closed after 100 bytes): its relay ends, and nothing is left of it.
	timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		http://localhost/big.bin 2>"$T/curl.err" | head -c 100 >"$T/head"
	check_eq "bytes before the client left" 100 "$(wc -c <"$T/head")"
	grep -q '(23)' "$T/curl.err"
	no_children "$(ucat_of rel)"
	run timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		-o "$T/small.again" -w '%{http_code}' http://localhost/small.txt
	check_eq "HTTP status after that" 200 "$output"
	cmp "$T/www/small.txt" "$T/small.again"
	check_eq "clients relayed" 5 "$(connections rel)"
}

@test "relay-peers: nginx behind ucat -lk: keep-alive, and 8 curls at once" {
	need nginx curl
	local i
	nginx_start
	echo "hello from nginx" >"$T/www/small.txt"
	head -c $((8 * 1048576)) /dev/urandom >"$T/www/big.bin"
	relay rel -lk "$T/front" "$T/nginx.sock"

	# Three URLs, one curl: the second and third go over the first
	# connection (num_connects 0), through the one relayed client.
	run timeout 60 curl -sS --max-time 50 --unix-socket "$T/front" \
		-o "$T/k1" -o "$T/k2" -o "$T/k3" \
		-w '%{http_code} %{num_connects}\n' \
		http://localhost/small.txt http://localhost/big.bin \
		http://localhost/small.txt
	check_eq "curl status" 0 "$status"
	check_eq "codes and new connections" "$(printf '200 1\n200 0\n200 0')" \
		"$output"
	cmp "$T/www/small.txt" "$T/k1"
	check_eq "sha256 of 8 MiB" "$(sha "$T/www/big.bin")" "$(sha "$T/k2")"
	cmp "$T/www/small.txt" "$T/k3"
	check_eq "clients relayed for three requests" 1 "$(connections rel)"

	for ((i = 0; i < 8; i++)); do
		spawn "c$i" curl -sS --max-time 50 --unix-socket "$T/front" \
			-o "$T/big.$i" -w '%{http_code}' http://localhost/big.bin \
			</dev/null
	done
	for ((i = 0; i < 8; i++)); do
		finish "c$i"
		check_eq "curl $i status" 0 "$STATUS"
		check_eq "curl $i HTTP status" 200 "$(cat "$T/c$i.out")"
		check_eq "curl $i sha256" "$(sha "$T/www/big.bin")" \
			"$(sha "$T/big.$i")"
	done
	check_eq "clients relayed" 9 "$(connections rel)"
}

# --- redis --------------------------------------------------------------

@test "relay-peers: redis-cli through ucat -lk: PING, SET/GET, a 1 MiB value" {
	need redis-server redis-cli
	redis_start
	relay rel -lk "$T/front" "$T/redis.sock"

	run timeout 30 redis-cli -s "$T/front" ping
	check_eq "ping" PONG "$output"
	run timeout 30 redis-cli -s "$T/front" set greeting "hello relay"
	check_eq "set" OK "$output"
	run timeout 30 redis-cli -s "$T/front" get greeting
	check_eq "get" "hello relay" "$output"

	# A value four times the relay's buffer (256 KiB a direction).
	head -c 786432 /dev/urandom | base64 -w0 >"$T/value"
	run timeout 30 redis-cli -s "$T/front" -x set big <"$T/value"
	check_eq "set 1 MiB" OK "$output"
	timeout 30 redis-cli -s "$T/front" get big >"$T/value.got"
	# redis-cli ends the value with a newline.
	check_eq "1 MiB value back" "$(cat "$T/value")" "$(cat "$T/value.got")"
	check_eq "clients relayed" 5 "$(connections rel)"
}

@test "relay-peers: pipelined redis commands through ucat -lk, every reply" {
	need redis-server redis-cli
	redis_start
	relay rel -lk "$T/front" "$T/redis.sock"

	# redis-cli --pipe: 5000 SETs in the wire protocol, one connection.
	awk 'BEGIN {
		for (i = 0; i < 5000; i++) {
			k = "key:" i; v = "value:" i
			printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n",
			    length(k), k, length(v), v
		}
	}' >"$T/cmds"
	run timeout 60 redis-cli -s "$T/front" --pipe <"$T/cmds"
	check_eq "redis-cli --pipe status" 0 "$status"
	check_eq "--pipe summary" "errors: 0, replies: 5000" "${lines[-1]}"
	run timeout 30 redis-cli -s "$T/front" dbsize
	check_eq dbsize 5000 "$output"
	run timeout 30 redis-cli -s "$T/front" get key:4999
	check_eq "last key" value:4999 "$output"

	# A plain ucat client: 3000 inline INCRs and QUIT, all written before
	# any reply is read; the replies come back whole and in order.
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "INCR n\r\n"
		printf "QUIT\r\n" }' >"$T/incr"
	timeout 60 "$UCAT" "$T/front" <"$T/incr" >"$T/replies"
	{ seq -f ':%g' 3000; echo +OK; } | sed 's/$/\r/' >"$T/expected"
	cmp "$T/expected" "$T/replies"
}

# --- socat on both sides ------------------------------------------------

@test "relay-peers: socat client, ucat -l, socat TARGET: 16 MiB each way, sha256" {
	need socat
	head -c $((16 * 1048576)) /dev/urandom >"$T/up"
	head -c $((16 * 1048576)) /dev/urandom >"$T/down"
	# TARGET: socat listening, sending "down" while it takes "up".
	spawn back socat -d -d -t 60 UNIX-LISTEN:"$T/back" STDIO <"$T/down"
	wait_for back 'listening on'
	relay rel -l "$T/front" "$T/back"
	timeout 60 socat -t 60 STDIO UNIX-CONNECT:"$T/front" \
		<"$T/up" >"$T/down.got"
	finish back
	check_eq "socat TARGET status" 0 "$STATUS"
	finish rel
	check_eq "relay status" 0 "$STATUS"
	check_eq "sha256 up (client to TARGET)" "$(sha "$T/up")" \
		"$(sha "$T/back.out")"
	check_eq "sha256 down (TARGET to client)" "$(sha "$T/down")" \
		"$(sha "$T/down.got")"
	grep -q "sent 16777216 bytes, received 16777216 bytes" "$T/rel.err"
	[ ! -e "$T/front" ]
}

@test "relay-peers: ucat ADDRESS TARGET joins two socat listeners, 16 MiB each way" {
	need socat
	head -c $((16 * 1048576)) /dev/urandom >"$T/a.in"
	head -c $((16 * 1048576)) /dev/urandom >"$T/b.in"
	spawn a socat -d -d -t 60 UNIX-LISTEN:"$T/a" STDIO <"$T/a.in"
	spawn b socat -d -d -t 60 UNIX-LISTEN:"$T/b" STDIO <"$T/b.in"
	wait_for a 'listening on'
	wait_for b 'listening on'
	run timeout 60 "$UCAT" "$T/a" "$T/b"
	check_eq "relay status" 0 "$status"
	finish a
	check_eq "socat a status" 0 "$STATUS"
	finish b
	check_eq "socat b status" 0 "$STATUS"
	check_eq "sha256 a to b" "$(sha "$T/a.in")" "$(sha "$T/b.out")"
	check_eq "sha256 b to a" "$(sha "$T/b.in")" "$(sha "$T/a.out")"
}

# --- many idle clients --------------------------------------------------

# The number of clients held at once: --max-conns of the relay.
HELD=1000

@test "relay-peers: $HELD idle clients held at once, each echoed, then none left" {
	need python3 pgrep
	# A hang guard: under valgrind every relay child is a memcheck
	# process; the slowest run measured (valgrind) took about 30 s.
	local BG_LIMIT=600
	local hard want=4096 nproc rel idle got
	nproc=$(ulimit -u)
	[ "$nproc" = unlimited ] || [ "$nproc" -ge $((HELD + 1000)) ] ||
		skip "ulimit -u is $nproc: too few processes for $HELD relays"
	# The python client and the echo server each hold HELD sockets.
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge $((2 * HELD + 100)) ] ||
		skip "ulimit -Hn is $hard, below $((2 * HELD + 100))"
	[ "$hard" = unlimited ] || [ "$hard" -ge "$want" ] || want=$hard
	ulimit -Sn "$want"

	# BACK: one python process echoing every connection.
	spawn back python3 - "$T/back" <<-'EOF'
		import selectors, socket, sys
		sel = selectors.DefaultSelector()
		s = socket.socket(socket.AF_UNIX)
		s.bind(sys.argv[1])
		s.listen(4096)
		s.setblocking(False)
		sel.register(s, selectors.EVENT_READ)
		print("listening", file=sys.stderr, flush=True)
		while True:
		    for key, _ in sel.select():
		        if key.fileobj is s:
		            c, _ = s.accept()
		            sel.register(c, selectors.EVENT_READ)
		            continue
		        c = key.fileobj
		        b = c.recv(4096)
		        if b:
		            c.setblocking(True)
		            c.sendall(b)
		            c.setblocking(False)
		        else:
		            sel.unregister(c)
		            c.close()
	EOF
	wait_for back listening
	relay rel -lk --max-conns "$HELD" "$T/front" "$T/back"
	rel=$(ucat_of rel)
	idle=$(ls "/proc/$rel/fd" | wc -l)

	# python connects HELD clients and holds them all until the relay has
	# a child for each (every one relayed at once); each sends its line
	# and reads it back.  Then the first client leaves: once its relay
	# child is reaped, the listener is past every close of its copy of a
	# client (it reaps only while waiting for the next client), so its
	# fds are read at once, with the other clients still held.  Then
	# all leave, and once no child is left, the fds are read again.
	# The waits are bounded by a hang guard only.
	got=$(timeout 560 python3 - "$T/front" "$HELD" "$rel" <<-'EOF'
		import os, socket, sys, time
		addr, n, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]

		def fds():
		    return len(os.listdir("/proc/%s/fd" % pid))

		def children():
		    # Zombies included: a child counts until it is reaped.
		    k = 0
		    for p in os.listdir("/proc"):
		        try:
		            stat = open("/proc/%s/stat" % p).read()
		        except (OSError, ValueError):
		            continue
		        if stat.rsplit(")", 1)[1].split()[1] == pid:
		            k += 1
		    return k

		def until(cond):
		    end = time.monotonic() + 500
		    while not cond() and time.monotonic() < end:
		        time.sleep(0.05)

		def say(what):
		    print("%.1f s: %s" % (time.monotonic() - start, what),
		        file=sys.stderr)

		start = time.monotonic()
		socks = []
		for i in range(n):
		    s = socket.socket(socket.AF_UNIX)
		    s.settimeout(500)
		    s.connect(addr)
		    socks.append(s)
		say("%d connected" % n)
		until(lambda: children() == n)
		kids_held = children()
		say("%d relay children" % kids_held)
		for i, s in enumerate(socks):
		    s.sendall(b"client %d\n" % i)
		bad = 0
		for i, s in enumerate(socks):
		    want = b"client %d\n" % i
		    got = b""
		    while len(got) < len(want):
		        b = s.recv(len(want) - len(got))
		        if not b:
		            break
		        got += b
		    if got != want:
		        bad += 1
		        print("client %d got %r" % (i, got), file=sys.stderr)
		say("%d lines back, %d wrong" % (n - bad, bad))
		socks[0].close()
		until(lambda: children() == n - 1)
		fds_held = fds()
		say("one left: %d children, listener at %d fds" % (children(),
		    fds_held))
		for s in socks[1:]:
		    s.close()
		until(lambda: children() == 0)
		kids_after, fds_after = children(), fds()
		say("all left: %d children, listener at %d fds" % (kids_after,
		    fds_after))
		print(kids_held, bad, fds_held, kids_after, fds_after)
	EOF
	)
	local kids_held bad fds_held kids_after fds_after
	read -r kids_held bad fds_held kids_after fds_after <<<"$got"
	check_eq "relay children while $HELD clients are held" "$HELD" \
		"$kids_held"
	check_eq "clients whose line did not come back" 0 "$bad"
	check_eq "listener fds while $((HELD - 1)) clients are held" "$idle" \
		"$fds_held"
	check_eq "listener children after all left" 0 "$kids_after"
	check_eq "listener fds after all left" "$idle" "$fds_after"
	check_eq "clients relayed" "$HELD" "$(connections rel)"
	kill -0 "$rel"
}

# --- a late answer ------------------------------------------------------

@test "relay-peers: a TARGET answering 2 s after the client's EOF is heard" {
	need python3
	# TARGET reads to EOF, waits 2 s, then says what it got.
	spawn back python3 - "$T/back" <<-'EOF'
		import hashlib, socket, sys, time
		s = socket.socket(socket.AF_UNIX)
		s.bind(sys.argv[1])
		s.listen(1)
		print("listening", file=sys.stderr, flush=True)
		c, _ = s.accept()
		h, n = hashlib.sha256(), 0
		while True:
		    b = c.recv(65536)
		    if not b:
		        break
		    h.update(b)
		    n += len(b)
		time.sleep(2)
		c.sendall(b"%d bytes, sha256 %s\n" % (n, h.hexdigest().encode()))
		c.close()
	EOF
	wait_for back listening
	relay rel -l "$T/front" "$T/back"
	head -c 1048576 /dev/urandom >"$T/in"
	run timeout 60 "$UCAT" "$T/front" <"$T/in"
	check_eq "client status" 0 "$status"
	check_eq "late answer" "1048576 bytes, sha256 $(sha "$T/in")" "$output"
	finish rel
	check_eq "relay status" 0 "$STATUS"
	finish back
	check_eq "TARGET status" 0 "$STATUS"
}
