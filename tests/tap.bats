#!/usr/bin/env bats
# --tap: ucat put in front of a live server's socket file and taken out
# again, with no moment where the file is missing, the file's mode, owner
# and group kept, each client relayed as itself; --untap after a SIGKILL.

load helpers

setup_file() {
	export TAP_SKIP=
	has_feature tap || TAP_SKIP="this ucat is built without tap"
}

# tap NAME ARGS...: start "ucat -v --tap ARGS" as NAME, wait until it has
# taken PATH's place.
tap() {
	local name=$1
	shift
	spawn "$name" "$UCAT" -v --tap "$@"
	wait_for "$name" 'tapping '
}

# nobody_too: need_nobody, and under valgrind a log directory nobody can
# write its reports to.
nobody_too() {
	need_nobody
	[ -z "${UCAT_VALGRIND:-}" ] || chmod 1777 "$UCAT_VALGRIND_LOGS"
}

# who NAME KIND PATH LABEL: the peer that tells each client who it is.
who() {
	spawn "$1" python3 "$TESTS_DIR/peer.py" who "$2" "$3" "$4"
	wait_for "$1" listening
}

# leftovers DIR: the tap's names in DIR (none expected).
leftovers() {
	find "$1" -maxdepth 1 -name '.*.ucat-*' -printf '%f\n'
}

# gone_pid: the pid of a process that has ended, in dead, for the names a
# killed tap leaves.
gone_pid() {
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
}

# started_ucat PID: the ucat that the timeout PID started (spawn's), once
# it has; nothing if the timeout ended first.
started_ucat() {
	local i
	for ((i = 0; i < 1000; i++)); do
		pgrep -P "$1" && return 0
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.001
	done
}

# inode PATH
inode() {
	stat -c %i "$1"
}

# stops NAME: SIGTERM to the tap NAME, which must exit 0.
stops() {
	kill -TERM "$(ucat_of "$1")"
	finish "$1"
	check_eq "exit status of the tap" 0 "$STATUS" || { cat "$T/$1.err"; false; }
}

@test "--tap: redis through the tap; PATH keeps its mode, owner and group, and is the server's again after SIGTERM" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	need redis-server redis-cli
	spawn redis redis-server --port 0 --unixsocket "$T/redis.sock" \
		--unixsocketperm 770 --save '' --appendonly no \
		--daemonize no --dir "$T" </dev/null
	ready "$T/redis.sock"
	chgrp "$NOBODY_GID" "$T/redis.sock"
	before=$(stat -c '%a %u %g' "$T/redis.sock")
	server=$(inode "$T/redis.sock")
	tap t "$T/redis.sock" -x "$T/dump"
	check_eq "mode, owner, group while tapped" "$before" \
		"$(stat -c '%a %u %g' "$T/redis.sock")"
	[ "$(inode "$T/redis.sock")" != "$server" ]
	check_eq "the hidden link" "$server" \
		"$(inode "$T/.redis.sock.ucat-tap.$(ucat_of t)")"
	if has_feature seccomp && [ -z "${UCAT_VALGRIND:-}" ]; then
		grep -q '^Seccomp:[[:space:]]*2' "/proc/$(ucat_of t)/status"
	fi
	check_eq ping PONG "$(timeout 20 redis-cli -s "$T/redis.sock" ping)"
	timeout 20 redis-cli -s "$T/redis.sock" set k tapped >/dev/null
	check_eq get tapped "$(timeout 20 redis-cli -s "$T/redis.sock" get k)"
	check_eq "clients the tap saw" 3 "$(connections t)"
	grep -q 'ping' "$T/dump"
	grep -q 'tapped' "$T/dump"
	stops t
	check_eq "PATH after the swap out" "$server $before" \
		"$(inode "$T/redis.sock") $(stat -c '%a %u %g' "$T/redis.sock")"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
	check_eq "ping, direct" PONG "$(timeout 20 redis-cli -s "$T/redis.sock" ping)"
}

@test "--tap: no connect fails from before the swap in to after the swap out (redis, 1000 and more)" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	need redis-server redis-benchmark
	redis_start
	spawn hammer python3 "$TESTS_DIR/peer.py" hammer "$T/redis.sock" \
		$'PING\r\n' $'+PONG\r\n' "$T/stop"
	wait_for hammer 'done 100'
	tap t "$T/redis.sock"
	# Clients keep coming while tapped: the hammer's, and a benchmark's.
	run timeout 60 redis-benchmark -s "$T/redis.sock" -n 2000 -c 4 -t ping -q
	check_eq "redis-benchmark" 0 "$status" || { echo "$output"; false; }
	[[ "$output" == *"requests per second"* ]]
	[[ "$output" != *rror* ]]
	for ((i = 0; i < 1000; i++)); do
		[ "$(connections t)" -lt 10 ] || break
		sleep 0.01
	done
	stops t
	at=$(grep -c done "$T/hammer.err")
	for ((i = 0; i < 1000; i++)); do
		[ "$(grep -c done "$T/hammer.err")" -le "$((at + 1))" ] || break
		sleep 0.01
	done
	touch "$T/stop"
	finish hammer
	read -r _ total _ failed rest <"$T/hammer.out"
	check_eq "failed connects ($rest)" 0 "$failed"
	[ "$total" -ge 1000 ]
	[ "$(connections t)" -ge 10 ]
	check_eq "left beside PATH" "" "$(leftovers "$T")"
}

@test "--tap as root: the server sees each client's uid, gid and groups, and a pid of ucat's" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	nobody_too
	who srv stream "$T/s" srv
	chmod 666 "$T/s"
	tap t "$T/s"
	out=$(setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --groups=4,24 \
		sh -c 'echo $$ >&2; exec "$1" "$2"' sh "$UCAT" "$T/s" \
		</dev/null 2>"$T/pid")
	read -r label uid gid groups pid <<<"$out"
	check_eq "who the server saw" "srv uid=$NOBODY_UID gid=$NOBODY_GID groups=4,24" \
		"$label $uid $gid $groups"
	[ "$pid" != "pid=$(cat "$T/pid")" ]
	out=$(timeout 20 "$UCAT" "$T/s" </dev/null)
	[[ "$out" == "srv uid=0 gid=0 "* ]]
	# The server's own socket closed to others: nobody passes the tap's,
	# and is refused at the server's as itself.
	chmod 600 "$T/.s.ucat-tap.$(ucat_of t)"
	run as_nobody timeout 20 "$UCAT" "$T/s" </dev/null
	check_eq "what nobody got" "" "$output"
	wait_for t "connect $T/s: Permission denied"
	stops t
}

@test "--tap --as-me as root is refused: it would lend root to every client" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	[ "$(id -u)" = 0 ] || skip "not root"
	who srv stream "$T/s" srv
	before=$(ident "$T/s")
	run "$UCAT" --tap "$T/s" --as-me
	check_eq status 2 "$status"
	check_eq message "ucat: --as-me: as root each client is relayed as itself; --as-me would lend root to every client" "$output"
	check_eq "the server's socket" "$before" "$(ident "$T/s")"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
}

@test "--untap trusts no name another user put beside PATH" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	nobody_too
	local py=/usr/bin/python3
	[ -x "$py" ] || skip "no /usr/bin/python3 for nobody"
	mkdir -m 1777 "$T/pub"
	who srv stream "$T/pub/s" srv
	server=$(inode "$T/pub/s")
	gone_pid
	# Another user's listening socket, named as a dead tap's link.
	spawn fake setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" \
		--clear-groups "$py" "$TESTS_DIR/peer.py" who stream \
		"$T/pub/.s.ucat-tap.$dead" fake
	wait_for fake listening
	run "$UCAT" --untap "$T/pub/s"
	check_eq status 1 "$status"
	check_eq message "ucat: --untap $T/pub/s: .s.ucat-tap.$dead is not a socket of uid 0; not touching it" "$output"
	check_eq "PATH" "$server" "$(inode "$T/pub/s")"
	[[ "$(timeout 20 "$UCAT" "$T/pub/s" </dev/null)" == "srv uid="* ]]
	# Beside a real tap's leftover, which of the two is the server's
	# cannot be told: neither is touched.
	kill "$fake_PID"
	finish fake
	rm "$T/pub/.s.ucat-tap.$dead"
	tap t "$T/pub/s"
	pid=$(ucat_of t)
	kill -KILL "$pid"
	finish t
	spawn fake setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" \
		--clear-groups "$py" "$TESTS_DIR/peer.py" who stream \
		"$T/pub/.s.ucat-tap.$dead" fake
	wait_for fake listening
	run "$UCAT" --untap "$T/pub/s"
	check_eq status 1 "$status"
	check_eq message "ucat: --untap $T/pub/s: 2 taps left links beside it; which is the server's cannot be told: put it back by hand" "$output"
	[ -S "$T/pub/.s.ucat-tap.$pid" ]
}

@test "--tap not as root: a client of another user is closed unless --as-me" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	nobody_too
	local py=/usr/bin/python3 nb
	[ -x "$py" ] || skip "no /usr/bin/python3 for nobody"
	nb=(setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups)
	mkdir "$T/n"
	chown "$NOBODY_UID:$NOBODY_GID" "$T/n"
	spawn srv "${nb[@]}" "$py" "$TESTS_DIR/peer.py" who stream "$T/n/s" srv
	wait_for srv listening
	as_nobody chmod 666 "$T/n/s"
	spawn t "${nb[@]}" "$UCAT" -v --tap "$T/n/s"
	wait_for t 'tapping '
	run timeout 20 "$UCAT" "$T/n/s" </dev/null
	check_eq "what root's client got" "" "$output"
	wait_for t "refused pid [0-9]* uid 0 gid 0: not ucat's user"
	out=$(as_nobody timeout 20 "$UCAT" "$T/n/s" </dev/null)
	[[ "$out" == "srv uid=$NOBODY_UID gid=$NOBODY_GID "* ]]
	stops t

	spawn t "${nb[@]}" "$UCAT" -v --tap "$T/n/s" --as-me
	wait_for t 'tapping '
	out=$(timeout 20 "$UCAT" "$T/n/s" </dev/null)
	[[ "$out" == "srv uid=$NOBODY_UID gid=$NOBODY_GID "* ]]
	stops t
	check_eq "left beside PATH" "" "$(leftovers "$T/n")"

	# Root's socket in nobody's directory: not nobody's to tap.
	who root stream "$T/n/r" root
	run as_nobody "$UCAT" --tap "$T/n/r"
	check_eq status 1 "$status"
	check_eq message "ucat: --tap $T/n/r: owned by uid 0; not as root, ucat taps only its own user's sockets" "$output"
}

@test "--tap: what cannot be tapped is one line and PATH untouched" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	# expect STATUS MESSAGE ARGS...
	expect() {
		local want=$1 msg=$2
		shift 2
		run timeout 20 "$UCAT" "$@"
		check_eq "status of ucat $*" "$want" "$status"
		check_eq "message of ucat $*" "$msg" "$output"
	}
	expect 1 "ucat: --tap $T/none: No such file or directory" --tap "$T/none"
	printf 'data\n' >"$T/file"
	before=$(ident "$T/file")
	expect 1 "ucat: --tap $T/file: not a socket; --tap goes in front of a server's socket file" --tap "$T/file"
	check_eq "the file" "$before" "$(ident "$T/file")"
	stale "$T/stale"
	before=$(ident "$T/stale")
	expect 1 "ucat: --tap $T/stale: nobody is listening there" --tap "$T/stale"
	check_eq "the stale socket" "$before" "$(ident "$T/stale")"
	spawn dg python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", file=sys.stderr, flush=True)
time.sleep(60)' "$T/dg"
	wait_for dg bound
	expect 1 "ucat: --tap $T/dg: a datagram socket; --tap takes stream and seqpacket servers" --tap "$T/dg"
	expect 2 "ucat: --tap 'tcp:127.0.0.1:9': not a socket file's path" --tap tcp:127.0.0.1:9
	if has_feature abstract; then
		expect 2 "ucat: --tap '@x': an abstract name cannot be renamed; only a server's socket file can be tapped" --tap @x
	fi
	who srv stream "$T/s" srv
	before=$(ident "$T/s")
	expect 2 "ucat: --tap: PATH is the only address; give no other" --tap "$T/s" "$T/other"
	expect 2 "ucat: -l: not with --tap, which takes the server's socket, type and mode as they are" --tap "$T/s" -l
	expect 2 "ucat: --seqpacket: not with --tap, which takes the server's socket, type and mode as they are" --tap "$T/s" --seqpacket
	expect 2 "ucat: -m: not with --tap, which takes the server's socket, type and mode as they are" --tap "$T/s" -m 600
	expect 2 "ucat: -x: not with --untap, which only puts a socket back" --untap "$T/s" -x "$T/d"
	expect 2 "ucat: --as-me: only with --tap" --as-me "$T/s"
	expect 1 "ucat: --untap $T/s: no tap left anything beside it" --untap "$T/s"
	check_eq "the server's socket" "$before" "$(ident "$T/s")"
	[ ! -e "$T/other" ] && [ ! -e "$T/d" ]
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		nobody_too
		chown "$NOBODY_UID" "$T/s"
		before=$(ident "$T/s")
		run as_nobody "$UCAT" --tap "$T/s"
		check_eq "status, no write permission" 1 "$status"
		check_eq "message, no write permission" "ucat: --tap $T/s: no write permission in its directory" "$output"
		check_eq "the server's socket" "$before" "$(ident "$T/s")"
	fi
	check_eq "left beside PATH" "" "$(leftovers "$T")"
}

@test "--tap: after a SIGKILL, --tap refuses and --untap puts the server's socket back" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" srv
	server=$(inode "$T/s")
	tap t "$T/s"
	pid=$(ucat_of t)
	run "$UCAT" --untap "$T/s"
	check_eq "--untap while the tap runs" 1 "$status"
	check_eq message "ucat: --untap $T/s: tapped by pid $pid, which is running; end it with kill -TERM $pid" "$output"
	run "$UCAT" --tap "$T/s"
	check_eq "a second tap" 1 "$status"
	check_eq message "ucat: --tap $T/s: tapped already, by pid $pid" "$output"
	kill -KILL "$pid"
	finish t
	run timeout 20 "$UCAT" "$T/s" </dev/null
	check_eq "a client of the dead tap's socket" 1 "$status"
	run "$UCAT" --tap "$T/s"
	check_eq "a tap on the leftover" 1 "$status"
	check_eq message "ucat: --tap $T/s: a tap that did not end cleanly (pid $pid) left it on a dead socket; run 'ucat --untap $T/s' first" "$output"
	run "$UCAT" -v --untap "$T/s"
	check_eq "--untap" 0 "$status"
	check_eq message "ucat: $T/s: the server's socket is back (from .s.ucat-tap.$pid)" "$output"
	check_eq "PATH" "$server" "$(inode "$T/s")"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
	[[ "$(timeout 20 "$UCAT" "$T/s" </dev/null)" == "srv uid="* ]]
}

@test "--tap: each crash point of the swap in is undone by --untap" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" srv
	server=$(inode "$T/s")
	gone_pid
	# Killed after the link, before its listener was bound.
	ln "$T/s" "$T/.s.ucat-tap.$dead"
	run "$UCAT" --tap "$T/s"
	check_eq "a tap on the leftover" 1 "$status"
	run "$UCAT" --untap "$T/s"
	check_eq "--untap" 0 "$status"
	check_eq "PATH" "$server" "$(inode "$T/s")"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
	# Killed after its listener was bound, before the rename.
	ln "$T/s" "$T/.s.ucat-tap.$dead"
	stale "$T/.s.ucat-new.$dead"
	run "$UCAT" --untap "$T/s"
	check_eq "--untap" 0 "$status"
	check_eq "PATH" "$server" "$(inode "$T/s")"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
	# Killed after the rename, and the server restarted meanwhile: its
	# new socket stays.
	ln "$T/s" "$T/.s.ucat-tap.$dead"
	kill "$srv_PID"
	finish srv
	rm "$T/s"
	who srv stream "$T/s" again
	new=$(inode "$T/s")
	run "$UCAT" -v --untap "$T/s"
	check_eq "--untap" 0 "$status"
	check_eq message "ucat: $T/s: a server listens there again; removed .s.ucat-tap.$dead" "$output"
	check_eq "PATH" "$new" "$(inode "$T/s")"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
}

@test "--tap: a server restarted while tapped keeps its new socket at the swap out" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" first
	tap t "$T/s"
	[[ "$(timeout 20 "$UCAT" "$T/s" </dev/null)" == "first uid="* ]]
	kill "$srv_PID"
	finish srv
	rm "$T/s"
	who srv stream "$T/s" second
	new=$(inode "$T/s")
	stops t
	check_eq "PATH" "$new" "$(inode "$T/s")"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
	[[ "$(timeout 20 "$UCAT" "$T/s" </dev/null)" == "second uid="* ]]
}

@test "--tap: a server that removes PATH while tapped: PATH stays gone, nothing is left" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" srv
	tap t "$T/s"
	[[ "$(timeout 20 "$UCAT" "$T/s" </dev/null)" == "srv uid="* ]]
	# As a one-shot server does once it has its client.
	rm "$T/s"
	stops t
	[ ! -e "$T/s" ]
	check_eq "left beside PATH" "" "$(leftovers "$T")"
}

@test "--tap: a relay in progress goes on after the swap out; new clients reach the server" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" srv
	server=$(inode "$T/s")
	tap t "$T/s"
	mkfifo "$T/in"
	exec 4<>"$T/in"
	spawn c "$UCAT" "$T/s" <"$T/in" 4>&-
	wait_out c 'srv uid='
	kill -TERM "$(ucat_of t)"
	for ((i = 0; i < 1000; i++)); do
		[ "$(inode "$T/s")" != "$server" ] || break
		sleep 0.01
	done
	check_eq "PATH after the swap out" "$server" "$(inode "$T/s")"
	[[ "$(timeout 20 "$UCAT" "$T/s" </dev/null)" == "srv uid="* ]]
	check_eq "clients the tap saw" 1 "$(connections t)"
	kill -0 "$(ucat_of t)"
	printf 'late\n' >&4
	exec 4>&-
	finish c
	check_eq "the client" 0 "$STATUS"
	grep -qx late "$T/c.out"
	finish t
	check_eq "exit status of the tap" 0 "$STATUS"
	check_eq "left beside PATH" "" "$(leftovers "$T")"
}

@test "--tap: a seqpacket server is found without a connection, and messages stay whole" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv seqpacket "$T/s" srv
	tap t "$T/s"
	grep -q '(seqpacket)' "$T/t.err"
	check_eq "connections the server saw" 0 "$(grep -c accepted "$T/srv.err")"
	out=$(printf 'one\ntwo\n' | timeout 20 "$UCAT" --seqpacket -L -W 3 "$T/s")
	check_eq "messages" "one
two" "$(tail -n 2 <<<"$out")"
	stops t
}

@test "--tap --pcap: tshark reads the RESP of redis and the HTTP of nginx" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	need tshark redis-server redis-cli nginx curl
	redis_start
	tap t "$T/redis.sock" --pcap "$T/redis.pcap" --pcap-port 6379
	timeout 20 redis-cli -s "$T/redis.sock" set key tapped-value >/dev/null
	stops t
	[[ "$(timeout 60 tshark -r "$T/redis.pcap" -Y resp -V 2>/dev/null)" == \
		*tapped-value* ]]
	nginx_start
	printf 'hello\n' >"$T/www/x.txt"
	tap t "$T/nginx.sock" --pcap "$T/http.pcap"
	check_eq curl hello "$(timeout 20 curl -s --unix-socket "$T/nginx.sock" http://localhost/x.txt)"
	stops t
	check_eq "the request tshark read" /x.txt "$(timeout 60 tshark \
		-r "$T/http.pcap" -Y http.request -T fields -e http.request.uri \
		2>/dev/null)"
}

@test "--tap: a connection made before the tap is never touched" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" srv
	mkfifo "$T/in"
	exec 4<>"$T/in"
	spawn early "$UCAT" "$T/s" <"$T/in" 4>&-
	wait_out early 'srv uid='
	tap t "$T/s"
	printf 'before\n' >&4
	wait_out early before
	[[ "$(timeout 20 "$UCAT" "$T/s" </dev/null)" == "srv uid="* ]]
	stops t
	printf 'after\n' >&4
	exec 4>&-
	finish early
	check_eq "the early client" 0 "$STATUS"
	check_eq "what it got back" "before
after" "$(tail -n 2 "$T/early.out")"
	check_eq "clients the tap saw" 1 "$(connections t)"
}

@test "--tap: two taps started at once: at most one takes PATH, and PATH is the server's after" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" srv
	server=$(inode "$T/s")
	for ((i = 0; i < 10; i++)); do
		spawn a "$UCAT" -v --tap "$T/s"
		spawn b "$UCAT" -v --tap "$T/s"
		# Each either taps or gives way with one line.
		wait_for a 'tapping \|--tap'
		wait_for b 'tapping \|--tap'
		tapping=$(cat "$T/a.err" "$T/b.err" | grep -c '^ucat: tapping ' || true)
		[ "$tapping" -le 1 ] || { cat "$T/a.err" "$T/b.err"; false; }
		for n in a b; do
			if grep -q '^ucat: tapping ' "$T/$n.err"; then
				stops "$n"
			else
				finish "$n"
				check_eq "the tap that gave way" 1 "$STATUS"
			fi
		done
		check_eq "PATH after round $i" "$server" "$(inode "$T/s")"
		check_eq "left beside PATH" "" "$(leftovers "$T")"
	done
}

@test "--tap: SIGTERM at any moment of two taps' swap in leaves PATH the server's and nothing beside it" {
	[ -z "$TAP_SKIP" ] || skip "$TAP_SKIP"
	who srv stream "$T/s" srv
	server=$(inode "$T/s")
	for ((i = 0; i < 20; i++)); do
		spawn a "$UCAT" -v --tap "$T/s"
		spawn b "$UCAT" -v --tap "$T/s"
		# The signal goes to ucat itself: timeout(1), signalled before
		# it has started its child, would leave that child unsignalled.
		pids=$(started_ucat "$a_PID"; started_ucat "$b_PID")
		# From at once to well after the swap in: every moment must be
		# one that a signal can undo.
		sleep "0.0$((i % 10))"
		kill -TERM $pids 2>/dev/null || true
		for n in a b; do
			finish "$n"
			case $STATUS in
			0 | 1 | 124 | 143) ;;
			*) echo "tap $n: status $STATUS" >&2; cat "$T/$n.err" >&2; false ;;
			esac
		done
		check_eq "PATH after round $i" "$server" "$(inode "$T/s")"
		check_eq "left beside PATH after round $i" "" "$(leftovers "$T")"
	done
}

@test "--tap and --untap on a build without them: a usage error" {
	[ -n "$TAP_SKIP" ] || skip "this ucat has --tap"
	run "$UCAT" --tap "$T/s"
	check_eq status 2 "$status"
	check_eq message "ucat: --tap: not supported on this system" "$output"
	run "$UCAT" --untap "$T/s"
	check_eq status 2 "$status"
	check_eq message "ucat: --untap: not supported on this system" "$output"
}
