#!/usr/bin/env bats
# Load: many clients at once against -k -c cat, and thousands of connections
# one after another against -k, with the server's fds, RSS and children
# checked.  Every limit here is a hang guard: no case passes or fails by how
# fast the machine is.  make check-load runs it (make check does not).

load helpers

# no_zombies PID: wait (at most 5 s) until PID has no zombie child.
no_zombies() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(zombies "$1")" = 0 ] && return 0
		sleep 0.01
	done
	check_eq "zombies of $1" 0 "$(zombies "$1")"
}

fds_of() {
	ls "/proc/$1/fd" | wc -l
}

# The number of connections that proves "no growth": a warm-up round, in
# which the server's allocator and the kernel settle, and a later round,
# after which nothing may have grown.  A leak of one fd, one child or one
# malloc'd block per connection shows over LATER of them.  The count is what
# the proof needs, not a load figure: connections per second are measured
# in bench/ (make bench), beside socat's and ncat's.
WARM=500
LATER=2500
# A hang guard, not a time limit: the slowest run measured (ASan, a busy
# neighbour) was far below it.  Each connection also has its own guard.
LOAD_LIMIT=300

# sequential PID ADDRESS MODE FDS: WARM connections one after another from
# python, then LATER more.  MODE echo expects each line back (-e cat); MODE
# sink expects nothing back (plain -k, whose stdout collects the lines).
# After each round python waits until the server holds FDS fds and no
# child again, as it did before any client, then reads its VmRSS (kB), open
# fds and children: "RSS0 RSS1 FDS0 FDS1 KIDS0 KIDS1".
sequential() {
	timeout "$LOAD_LIMIT" python3 - "$@" "$WARM" "$LATER" <<-'EOF'
		import os, socket, sys, time
		pid, addr, mode, idle, warm, later = sys.argv[1:7]

		def rss():
		    for line in open("/proc/%s/status" % pid):
		        if line.startswith("VmRSS:"):
		            return int(line.split()[1])

		def fds():
		    return len(os.listdir("/proc/%s/fd" % pid))

		def children():
		    n = 0
		    for p in os.listdir("/proc"):
		        try:
		            stat = open("/proc/%s/stat" % p).read()
		        except (OSError, ValueError):
		            continue
		        # The parent pid is the second field after "(comm)".
		        if stat.rsplit(")", 1)[1].split()[1] == pid:
		            n += 1
		    return n

		def settled():
		    # The server may still be closing the last connection and
		    # reaping its child: wait for that, bounded by the guard.
		    end = time.monotonic() + 60
		    while time.monotonic() < end:
		        if fds() == int(idle) and children() == 0:
		            break
		        time.sleep(0.01)
		    return rss(), fds(), children()

		def one(i):
		    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		    # Per connection, so that a hang names the connection.
		    s.settimeout(60)
		    s.connect(addr)
		    msg = b"%d\n" % i
		    s.sendall(msg)
		    s.shutdown(socket.SHUT_WR)
		    got = b""
		    while True:
		        b = s.recv(64)
		        if not b:
		            break
		        got += b
		    s.close()
		    want = msg if mode == "echo" else b""
		    assert got == want, (i, got)

		start = time.monotonic()
		for i in range(int(warm)):
		    one(i)
		r0, f0, k0 = settled()
		for i in range(int(warm), int(warm) + int(later)):
		    one(i)
		r1, f1, k1 = settled()
		print("%s connections in %.1f s" % (int(warm) + int(later),
		    time.monotonic() - start), file=sys.stderr)
		print(r0, r1, f0, f1, k0, k1)
	EOF
}

# flat WHAT RSS0 RSS1 FDS0 FDS1 KIDS0 KIDS1: fds and children exactly the
# same, RSS grown by at most 64 kB (a page or two of allocator noise; a
# leak of one small block per connection is more than that over LATER).
flat() {
	echo "$1: VmRSS $2 kB -> $3 kB, fds $4 -> $5, children $6 -> $7" >&2
	check_eq "$1: open fds after $LATER more connections" "$4" "$5"
	check_eq "$1: children after $LATER more connections" "$6" "$7"
	if [ $(($3 - $2)) -gt 64 ]; then
		echo "$1: VmRSS grew from $2 kB to $3 kB" >&2
		return 1
	fi
}

# mib_each ADDRESS: 200 clients at once, each sending a MiB of its own to
# the echo at ADDRESS (200 different MiBs, so that one client given
# another's data shows); each must exit 0 with its MiB back whole.
mib_each() {
	local i in
	head -c $((200 * 1048576)) /dev/urandom |
		split -b 1048576 -d -a 3 - "$T/in."
	for ((i = 0; i < 200; i++)); do
		spawn "c$i" "$UCAT" "$1" <"$T/in.$(printf %03d "$i")"
	done
	for ((i = 0; i < 200; i++)); do
		finish "c$i"
		check_eq "client $i status" 0 "$STATUS"
	done
	for ((i = 0; i < 200; i++)); do
		in=$T/in.$(printf %03d "$i")
		check_eq "client $i: sha256 of its MiB" \
			"$(sha "$in")" "$(sha "$T/c$i.out")"
		rm -f "$in" "$T/c$i.out"
	done
}

@test "load: 200 concurrent clients of -k -c cat, 1 MiB each, sha256 each" {
	# 200 MiB through 200 cats on two CPUs: the guard is per process.
	local BG_LIMIT=$LOAD_LIMIT
	listen srv -k "$T/s" -c cat </dev/null
	local server before
	server=$(ucat_of srv)
	before=$(fds_of "$server")
	mib_each "$T/s"
	kill -0 "$server"
	no_zombies "$server"
	check_eq "server fds after 200 clients" "$before" "$(fds_of "$server")"
	check_eq connections 200 "$(grep -c 'connection from' "$T/srv.err")"
}

@test "load: thousands of connections to -k -e cat: no fd, child or RSS growth" {
	need python3
	local BG_LIMIT=$LOAD_LIMIT
	listen srv -k "$T/s" -e cat </dev/null
	local server idle
	server=$(ucat_of srv)
	idle=$(fds_of "$server")
	local got r0 r1 f0 f1 k0 k1
	got=$(sequential "$server" "$T/s" echo "$idle")
	read -r r0 r1 f0 f1 k0 k1 <<<"$got"
	check_eq "server fds after $WARM connections" "$idle" "$f0"
	check_eq "server children after $WARM connections" 0 "$k0"
	flat "-k -e cat" "$r0" "$r1" "$f0" "$f1" "$k0" "$k1"
	no_zombies "$server"
	kill -0 "$server"
	check_eq connections $((WARM + LATER)) \
		"$(grep -c 'connection from' "$T/srv.err")"
}

@test "load: thousands of connections to plain -k: no fd or RSS growth, all data" {
	need python3
	local BG_LIMIT=$LOAD_LIMIT
	listen srv -k "$T/s" </dev/null
	local server idle
	server=$(ucat_of srv)
	idle=$(fds_of "$server")
	local got r0 r1 f0 f1 k0 k1
	got=$(sequential "$server" "$T/s" sink "$idle")
	read -r r0 r1 f0 f1 k0 k1 <<<"$got"
	check_eq "server fds after $WARM connections" "$idle" "$f0"
	flat "-k" "$r0" "$r1" "$f0" "$f1" "$k0" "$k1"
	check_eq zombies 0 "$(zombies "$server")"
	kill -0 "$server"
	# Every client's line, in order, and nothing else.
	seq 0 $((WARM + LATER - 1)) >"$T/want"
	check_eq "sha256 of what the server printed" \
		"$(sha "$T/want")" "$(sha "$T/srv.out")"
}

@test "load: 200 concurrent relayed clients, 1 MiB each, sha256 both ways" {
	local BG_LIMIT=$LOAD_LIMIT
	listen back -k "$T/back" -c cat </dev/null
	listen rel -k --max-conns 200 "$T/front" "$T/back"
	local relay idle i
	relay=$(ucat_of rel)
	idle=$(fds_of "$relay")
	mib_each "$T/front"
	check_eq connections 200 "$(grep -c 'connection from' "$T/rel.err")"
	# Every child is gone, and the listener holds what it held idle.
	for ((i = 0; i < 500; i++)); do
		[ -z "$(pgrep -P "$relay")" ] && break
		sleep 0.01
	done
	no_zombies "$relay"
	check_eq "relay children" "" "$(pgrep -P "$relay")"
	check_eq "relay fds after 200 clients" "$idle" "$(fds_of "$relay")"
}

# The swapped-directory race of tests/security.bats, five times as long: a
# victim file deleted, or a socket made beside it, in any run fails it.
@test "load: 2000 runs against a directory swapped for a link, the victim whole" {
	local BG_LIMIT=$LOAD_LIMIT
	race_setup
	race_tries 1000
}
