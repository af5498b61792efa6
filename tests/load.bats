#!/usr/bin/env bats
# Load: many clients at once against -k -c cat, and 10,000 connections one
# after another against -k, with the server's fds, RSS and children checked.

load helpers

# ucat_of NAME: the PID of the ucat that spawn started as NAME: the one
# child of the timeout that spawn puts on top (found by parent alone, so
# that a ucat run by valgrind is found too).  Call it once NAME has said
# something.
ucat_of() {
	local pid_var="${1}_PID"
	pgrep -P "${!pid_var}"
}

# zombies PID: how many children of PID are zombies.
zombies() {
	ps --ppid "$1" -o stat= | grep -c '^Z' || true
}

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

# sequential PID ADDRESS MODE FDS: 10,000 connections one after another
# from python, in two rounds: 500 to warm up, then 9,500.  MODE echo
# expects each line back (-e cat); MODE sink expects nothing back (plain
# -k, whose stdout collects the lines).  After each round python waits (at
# most 5 s) until the server holds FDS fds again, as it did before any
# client, then reads its VmRSS (kB) and open fds: "RSS0 RSS1 FDS0 FDS1".
sequential() {
	timeout 55 python3 - "$@" <<-'EOF'
		import os, socket, sys, time
		pid, addr, mode, idle = sys.argv[1:5]

		def rss():
		    for line in open("/proc/%s/status" % pid):
		        if line.startswith("VmRSS:"):
		            return int(line.split()[1])

		def fds():
		    return len(os.listdir("/proc/%s/fd" % pid))

		def settled():
		    # The server may still be closing the last connection.
		    end = time.monotonic() + 5
		    while fds() != int(idle) and time.monotonic() < end:
		        time.sleep(0.01)
		    return rss(), fds()

		def one(i):
		    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
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

		for i in range(500):
		    one(i)
		r0, f0 = settled()
		for i in range(500, 10000):
		    one(i)
		r1, f1 = settled()
		print(r0, r1, f0, f1)
	EOF
}

# flat WHAT RSS0 RSS1 FDS0 FDS1: fds exactly the same, RSS grown by at most
# 64 kB (a page or two of allocator noise, not a leak per connection).
flat() {
	echo "$1: VmRSS $2 kB -> $3 kB, fds $4 -> $5" >&2
	check_eq "$1: open fds after 10,000 connections" "$4" "$5"
	if [ $(($3 - $2)) -gt 64 ]; then
		echo "$1: VmRSS grew from $2 kB to $3 kB" >&2
		return 1
	fi
}

@test "load: 200 concurrent clients of -k -c cat, 1 MiB each, sha256 each" {
	listen srv -k "$T/s" -c cat </dev/null
	local server before i in
	server=$(ucat_of srv)
	before=$(fds_of "$server")
	# 200 different MiBs, so that one client given another's data shows.
	head -c $((200 * 1048576)) /dev/urandom |
		split -b 1048576 -d -a 3 - "$T/in."
	for ((i = 0; i < 200; i++)); do
		spawn "c$i" "$UCAT" "$T/s" <"$T/in.$(printf %03d "$i")"
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
	kill -0 "$server"
	no_zombies "$server"
	check_eq "server fds after 200 clients" "$before" "$(fds_of "$server")"
	check_eq connections 200 "$(grep -c 'connection from' "$T/srv.err")"
}

@test "load: 10,000 connections to -k -e cat: no fd, zombie or RSS growth" {
	need python3
	listen srv -k "$T/s" -e cat </dev/null
	local server idle
	server=$(ucat_of srv)
	idle=$(fds_of "$server")
	local got r0 r1 f0 f1
	got=$(sequential "$server" "$T/s" echo "$idle")
	read -r r0 r1 f0 f1 <<<"$got"
	check_eq "server fds after 500 connections" "$idle" "$f0"
	flat "-k -e cat" "$r0" "$r1" "$f0" "$f1"
	no_zombies "$server"
	kill -0 "$server"
	check_eq connections 10000 "$(grep -c 'connection from' "$T/srv.err")"
}

@test "load: 10,000 connections to plain -k: no fd or RSS growth, all data" {
	need python3
	listen srv -k "$T/s" </dev/null
	local server idle
	server=$(ucat_of srv)
	idle=$(fds_of "$server")
	local got r0 r1 f0 f1
	got=$(sequential "$server" "$T/s" sink "$idle")
	read -r r0 r1 f0 f1 <<<"$got"
	check_eq "server fds after 500 connections" "$idle" "$f0"
	flat "-k" "$r0" "$r1" "$f0" "$f1"
	check_eq zombies 0 "$(zombies "$server")"
	kill -0 "$server"
	# Every client's line, in order, and nothing else.
	seq 0 9999 >"$T/want"
	check_eq "sha256 of what the server printed" \
		"$(sha "$T/want")" "$(sha "$T/srv.out")"
}
