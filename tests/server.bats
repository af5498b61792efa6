#!/usr/bin/env bats
# Serving: -k, -e/-c and their environment, --max-conns, access lists,
# datagram programs, -z and --wait.

load helpers

# The server ucat itself, below the timeout that spawn puts on top.
server_pid() {
	pgrep -P "$srv_PID" || echo "$srv_PID"
}

@test "server: -k serves clients one after another with stdio" {
	listen srv -k "$T/s" </dev/null
	echo one | timeout 10 "$UCAT" "$T/s"
	echo two | timeout 10 "$UCAT" "$T/s"
	wait_for srv 'received 4 bytes.*' 
	kill -0 "$srv_PID"
	check_eq output "$(printf 'one\ntwo')" "$(cat "$T/srv.out")"
}

@test "server: -e runs the program with the socket as stdin and stdout" {
	listen srv "$T/s" -e cat
	run timeout 10 "$UCAT" "$T/s" <<<"echoed"
	check_eq status 0 "$status"
	check_eq reply echoed "$output"
	finish srv
	check_eq "server status" 0 "$STATUS"
}

@test "server: without -k ucat exits with the program's status" {
	listen srv "$T/s" -c 'exit 7'
	timeout 10 "$UCAT" "$T/s" </dev/null
	finish srv
	check_eq "server status" 7 "$STATUS"
}

@test "server: -e splits on blanks and runs no shell" {
	listen srv "$T/s" -e 'echo $HOME;ls *'
	run timeout 10 "$UCAT" "$T/s" </dev/null
	check_eq reply '$HOME;ls *' "$output"
}

@test "server: -c runs the command through /bin/sh" {
	listen srv "$T/s" -c 'echo a; echo b | tr b c'
	run timeout 10 "$UCAT" "$T/s" </dev/null
	check_eq reply "$(printf 'a\nc')" "$output"
}

@test "server: -c runs /bin/sh whatever PATH holds" {
	mkdir "$T/bin"
	printf '#!/bin/sh\necho impostor\n' >"$T/bin/sh"
	chmod +x "$T/bin/sh"
	PATH="$T/bin:$PATH" listen srv "$T/s" -c 'echo real'
	run timeout 10 "$UCAT" "$T/s" </dev/null
	check_eq reply real "$output"
}

@test "server: the program gets the UCSPI variables of the real client" {
	need_feature peercred
	need python3
	listen srv "$T/s" -c \
	    'echo "$PROTO $UNIXREMOTEPID $UNIXREMOTEEUID $UNIXREMOTEEGID $UNIXLOCALPATH"'
	run timeout 10 python3 - "$T/s" <<-'EOF'
		import os, socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.connect(sys.argv[1])
		line = s.makefile().readline().split()
		want = ["UNIX", str(os.getpid()), str(os.geteuid()),
		        str(os.getegid()), sys.argv[1]]
		print(line == want, line, want)
		sys.exit(0 if line == want else 1)
	EOF
	echo "$output"
	check_eq status 0 "$status"
}

@test "server: the program inherits no descriptor of ucat but the socket" {
	listen srv "$T/s" -c 'ls -l /proc/$$/fd'
	run timeout 10 "$UCAT" "$T/s" </dev/null
	# fd 0 and 1 are the connection; the listening socket must not be there.
	check_eq "sockets held" 2 "$(grep -c 'socket:' <<<"$output")"
	check_eq "listening socket" "" "$(grep -E ' ([3-9]|[1-9][0-9]+) -> socket:' <<<"$output")"
}

# A hang guard for the cases that make many connections: each costs a
# fork and exec (and under check-valgrind a valgrind start), so the whole
# takes what the machine takes; the guard is far above the slowest run.
MANY_LIMIT=300

@test "server: 50 concurrent clients of -k -c cat each get their own data" {
	local BG_LIMIT=$MANY_LIMIT
	listen srv -k "$T/s" -c cat
	local i pids=()
	for ((i = 0; i < 50; i++)); do
		head -c $((1000 + i * 997)) /dev/urandom >"$T/in.$i"
		timeout "$MANY_LIMIT" "$UCAT" "$T/s" <"$T/in.$i" >"$T/out.$i" &
		pids+=("$!")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
	done
	for ((i = 0; i < 50; i++)); do
		check_eq "client $i" "$(sha "$T/in.$i")" "$(sha "$T/out.$i")"
	done
}

@test "server: 1000 connections to -k -e leave no zombie and no fd growth" {
	need python3
	local BG_LIMIT=$MANY_LIMIT
	listen srv -k "$T/s" -e cat
	local pid before after i
	pid=$(server_pid)
	before=$(ls "/proc/$pid/fd" | wc -l)
	timeout "$MANY_LIMIT" python3 - "$T/s" <<-'EOF'
		import socket, sys
		for i in range(1000):
		    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		    s.settimeout(60)
		    s.connect(sys.argv[1])
		    s.sendall(b"%d\n" % i)
		    s.shutdown(socket.SHUT_WR)
		    got = b""
		    while True:
		        b = s.recv(64)
		        if not b:
		            break
		        got += b
		    assert got == b"%d\n" % i, (i, got)
		    s.close()
	EOF
	after=$(ls "/proc/$pid/fd" | wc -l)
	check_eq "open fds" "$before" "$after"
	for ((i = 0; i < 500; i++)); do
		[ "$(zombies "$pid")" = 0 ] && break
		sleep 0.01
	done
	check_eq zombies 0 "$(zombies "$pid")"
}

@test "server: --max-conns makes further clients wait, not fail" {
	listen srv -k --max-conns 1 "$T/s" -c 'cat'
	# The first client holds the only slot until its stdin ends.
	spawn first "$UCAT" "$T/s" < <(echo first; exec sleep 30)
	wait_for srv 'connection from'
	spawn second "$UCAT" "$T/s" <<<"second"
	kill -0 "$second_PID"
	check_eq "second before its turn" "" "$(cat "$T/second.out")"
	kill "$first_PID"
	finish second
	check_eq "second status" 0 "$STATUS"
	check_eq "second reply" second "$(cat "$T/second.out")"
}

@test "server: a failing program does not stop a -k server" {
	listen srv -k "$T/s" -c 'read x; [ "$x" = ok ] && echo fine; exit 3'
	timeout 10 "$UCAT" "$T/s" <<<"bad" || true
	run timeout 10 "$UCAT" "$T/s" <<<"ok"
	check_eq reply fine "$output"
	kill -0 "$srv_PID"
}

@test "server: an -e program that cannot run is a usage error at start" {
	local prog
	for prog in "$T/no-such-program" no-such-program-in-path "$T"; do
		run timeout 10 "$UCAT" -l "$T/s" -e "$prog" </dev/null
		check_eq "$prog status" 2 "$status"
		[[ $output == "ucat: -e $prog: "* ]]
		[ ! -e "$T/s" ]
	done
	: >"$T/not-executable"
	run timeout 10 "$UCAT" -l "$T/s" -e "$T/not-executable" </dev/null
	check_eq "not executable" \
		"ucat: -e $T/not-executable: Permission denied" "$output"
	# Found in PATH, as execvp finds it.
	mkdir "$T/bin"
	printf '#!/bin/sh\necho from-path\n' >"$T/bin/hello-ucat"
	chmod +x "$T/bin/hello-ucat"
	PATH="$T/bin:$PATH" listen srv "$T/s" -e hello-ucat
	check_eq "from PATH" from-path "$(timeout 10 "$UCAT" "$T/s" </dev/null)"
}

@test "server: a program gone after the start is reported per client, and -k goes on" {
	printf '#!/bin/sh\necho here\n' >"$T/prog"
	chmod +x "$T/prog"
	listen srv -k "$T/s" -e "$T/prog"
	check_eq "while there" here "$(timeout 10 "$UCAT" "$T/s" </dev/null)"
	rm "$T/prog"
	timeout 10 "$UCAT" "$T/s" </dev/null || true
	wait_for srv "ucat: exec $T/prog: No such file or directory"
	run "$UCAT" -z "$T/s"
	check_eq "still serving" 0 "$status"
}

@test "server: -v tells how each -k program ended" {
	listen srv -k -v "$T/s" -c 'read x; [ "$x" = kill ] && kill -9 $$; exit 3'
	echo bye | timeout 10 "$UCAT" "$T/s" >/dev/null || true
	wait_for srv 'program [0-9]* exited with 3$'
	echo kill | timeout 10 "$UCAT" "$T/s" >/dev/null || true
	wait_for srv 'program [0-9]* killed by signal 9$'
}

@test "server: curl gets 200 from an HTTP responder on -k -c" {
	need curl
	listen srv -k "$T/s" -c 'while read -r l && [ "${l%$(printf "\r")}" != "" ]; do :; done; printf "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"'
	run timeout 10 curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$T/s" http://localhost/
	check_eq code 200 "$output"
	check_eq body ok "$(cat "$T/body")"
	run timeout 10 curl -s --unix-socket "$T/s" http://localhost/again
	check_eq "second request" ok "$output"
}

@test "server: --allow-uid lets the listed user in" {
	need_feature peercred
	listen srv "$T/s" --allow-uid "$(id -un),12345" -c 'echo in'
	run timeout 10 "$UCAT" "$T/s" </dev/null
	check_eq reply in "$output"
}

@test "server: a repeated --allow-uid adds to the list" {
	need_feature peercred
	listen srv "$T/s" --allow-uid "$(id -u)" --allow-uid 12345 -c 'echo in'
	run timeout 10 "$UCAT" "$T/s" </dev/null
	check_eq reply in "$output"
}

@test "server: --allow-uid closes other peers before the program runs" {
	need_feature peercred
	local other=$(( $(id -u) + 4242 ))
	listen srv -k "$T/s" --allow-uid "$other" -c "touch $T/ran; echo in"
	run timeout 10 "$UCAT" "$T/s" <<<"secret"
	check_eq status 0 "$status"
	check_eq reply "" "$output"
	wait_for srv "refused pid [0-9]* uid $(id -u)"
	[ ! -e "$T/ran" ]
}

@test "server: --allow-gid checks the peer's group" {
	need_feature peercred
	listen srv -k "$T/s" --allow-gid "$(( $(id -g) + 4242 ))" -c 'echo in'
	run timeout 10 "$UCAT" "$T/s" </dev/null
	check_eq reply "" "$output"
	listen srv2 "$T/s2" --allow-gid "$(id -g)" -c 'echo in'
	run timeout 10 "$UCAT" "$T/s2" </dev/null
	check_eq reply in "$output"
}

@test "server: bad server arguments are usage errors" {
	run "$UCAT" -l --max-conns 0 -k -c cat "$T/s"
	check_eq status 2 "$status"
	[[ $output == *"--max-conns: invalid count '0'"* ]]
	run "$UCAT" -l --allow-uid nosuchuser-ucat "$T/s"
	check_eq status 2 "$status"
	[[ $output == *"--allow-uid: no such user 'nosuchuser-ucat'"* ]]
	run "$UCAT" -l --allow-gid nosuchgroup-ucat "$T/s"
	check_eq status 2 "$status"
	[[ $output == *"--allow-gid: no such group 'nosuchgroup-ucat'"* ]]
	run "$UCAT" -l -e '  ' "$T/s"
	check_eq status 2 "$status"
	run "$UCAT" -l -e cat -c cat "$T/s"
	check_eq status 2 "$status"
	run "$UCAT" -k "$T/s"
	check_eq status 2 "$status"
	[ ! -e "$T/s" ]
}

@test "server: a datagram program answers each message with one message" {
	need python3
	listen srv -u "$T/d" -c 'tr a-z A-Z'
	run timeout 10 python3 - "$T/d" "$T/c" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		s.bind(sys.argv[2])
		s.settimeout(5)
		for word in (b"hello", b"world"):
		    s.sendto(word, sys.argv[1])
		    print(s.recv(1000).decode())
	EOF
	check_eq status 0 "$status"
	check_eq replies "$(printf 'HELLO\nWORLD')" "$output"
}

# big_datagram PROGRAM...: a datagram server running PROGRAM gets one
# message of 200,000 bytes from one sender, then "small" from another;
# OUTPUT: the length of each answer, and whether it was the message.
big_datagram() {
	rm -f "$T/d" "$T/big" "$T/small"
	listen srv -u "$T/d" "$@"
	run timeout 30 python3 - "$T/d" "$T/big" "$T/small" <<-'EOF'
		import socket, sys
		def ask(me, msg):
		    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
		    s.bind(me)
		    s.settimeout(20)
		    s.sendto(msg, sys.argv[1])
		    answer = s.recv(1 << 20)
		    return "%d %s" % (len(answer), answer == msg)
		print(ask(sys.argv[2], bytes(range(256)) * 781 + bytes(64)))
		print(ask(sys.argv[3], b"small"))
	EOF
	kill "$srv_PID"
	finish srv
}

@test "server: a datagram program that answers as it reads takes a large message" {
	need python3
	# cat writes as it reads: ucat must read its answer while it still
	# feeds it, or both wait for good.
	big_datagram -e cat
	check_eq "-e cat" "$(printf '200000 True\n5 True')" "$output"
	# Answers first, reads after: more than a pipe holds either way.
	big_datagram -c 'head -c 200000 /dev/zero; cat >/dev/null'
	check_eq "-c answering first" "$(printf '200000 False\n200000 False')" \
		"$output"
}

@test "server: -w ends a datagram program that stays silent, and the next sender is served" {
	need python3
	# "slow" keeps its program silent far longer than -w; the next
	# message must not wait for it.
	listen srv -u -w 5 "$T/d" -c 'read x; [ "$x" != slow ] || sleep 100; echo "$x"'
	run timeout 60 python3 - "$T/d" "$T/a" "$T/b" <<-'EOF'
		import socket, sys
		a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		a.bind(sys.argv[2])
		a.sendto(b"slow\n", sys.argv[1])
		b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		b.bind(sys.argv[3])
		b.settimeout(50)
		b.sendto(b"fast\n", sys.argv[1])
		print(b.recv(100).decode().strip())
	EOF
	check_eq status 0 "$status"
	check_eq "answer to the next sender" fast "$output"
	grep -q "idle for 5 seconds" "$T/srv.err"
	kill -0 "$srv_PID"
}

@test "server: -z tells whether something accepts, sending nothing" {
	run "$UCAT" -z "$T/none"
	check_eq "nothing there" 1 "$status"
	check_eq "silent without -v" "" "$output"
	listen srv "$T/s"
	run "$UCAT" -z "$T/s"
	check_eq "stream listener" 0 "$status"
	finish srv
	check_eq "nothing received" "" "$(cat "$T/srv.out")"
	listen dg -u "$T/d"
	run "$UCAT" -z -u "$T/d"
	check_eq "datagram listener" 0 "$status"
	listen sp --seqpacket "$T/p"
	run "$UCAT" -z --seqpacket "$T/p"
	check_eq "seqpacket listener" 0 "$status"
}

@test "server: --wait connects once the server appears" {
	spawn cli "$UCAT" --wait 10 "$T/s" <<<"late server"
	listen srv "$T/s"
	finish cli
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq received "late server" "$(cat "$T/srv.out")"
}

@test "server: --wait gives up after its time, naming the address" {
	run timeout 10 "$UCAT" --wait 0.3 "$T/never"
	check_eq status 1 "$status"
	check_eq message "ucat: connect $T/never: No such file or directory, after waiting 0.3 seconds" "$output"
}
