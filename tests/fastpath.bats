#!/usr/bin/env bats
# Which system calls move the bytes, and in what order, seen with strace:
# no poll(2) that waits for nothing, and sendfile(2) that waits by itself
# once there is nothing else to watch.

load helpers

# counting: skip where system calls cannot be traced, or where ucat runs
# under valgrind.
counting() {
	[ -z "${UCAT_VALGRIND:-}" ] || skip "ucat runs under valgrind here"
	need strace
	strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace"
}

# fast_path: counting, where the zero-copy path is what runs.
fast_path() {
	[ -z "${UCAT_NO_SPLICE:-}" ] ||
		skip "ucat runs on its read/write path here"
	[ "$(uname -s)" = Linux ] || skip "sendfile(2) is Linux's here"
	counting
}

# traced FILE CMD...: CMD under strace -f, its moves, polls and fcntls
# logged in FILE.  LeakSanitizer cannot work under ptrace
# (--enable-sanitizers builds).
traced() {
	local out=$1
	shift
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -o "$out" \
	    -e trace=poll,sendfile,splice,read,write,recvfrom,sendto,fcntl "$@"
}

# calls FILE SYSCALL: how many calls of SYSCALL FILE logs.
calls() {
	grep -c "^[0-9]* *$2(" "$1" || true
}

# polls_at_most FILE N WHAT: fail, saying why, if FILE logs more than N
# polls; WHAT names the calls N was counted from.
polls_at_most() {
	local polls
	polls=$(calls "$1" poll)
	if ((polls > $2)); then
		echo "$polls polls for $3" >&2
		return 1
	fi
}

# slow_listener: a listener whose stdout is a slower reader than ucat's
# sendfile(2), so that the client's socket fills; what it got in $T/got.
slow_listener() {
	spawn srv bash -c '"$0" -v -l "$1" "${@:3}" | sha256sum >"$2"' \
		"$UCAT" "$T/s" "$T/got" "$@"
	wait_for srv 'listening on'
}

# send_file ARGS...: 64 MiB from a file on stdin through "ucat ARGS" to
# the slow listener, checked whole, the client traced in $T/cli.log.
send_file() {
	head -c 67108864 /dev/urandom >"$T/data"
	traced "$T/cli.log" timeout 20 "$UCAT" "$@" "$T/s" <"$T/data"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(cut -d' ' -f1 "$T/got")"
}

@test "fast path: once the peer has sent all, sendfile waits with no poll" {
	need_feature sendfile
	fast_path
	slow_listener </dev/null
	send_file
	# After the fcntl that clears the socket's O_NONBLOCK: sendfile calls
	# and not one poll.
	local after
	after=$(awk '/ fcntl\([0-9]+, F_SETFL, / && !/O_NONBLOCK/ { on = 1; next }
		on && / poll\(/ { polled = 1; exit }
		on && / sendfile\(/ { n++ }
		END { print !on ? "never" : polled ? "poll" : n + 0 }' \
		"$T/cli.log")
	if ! [[ $after =~ ^[0-9]+$ ]] || ((after < 2)); then
		echo "sendfile calls in blocking mode: $after" >&2
		return 1
	fi
}

@test "fast path: a file sent both ways polls once per full socket" {
	need_feature sendfile
	fast_path
	# The listener's stdin stays open: the client watches both ways,
	# and -q 0 ends it once the file is sent.
	mkfifo "$T/idle"
	exec 4<>"$T/idle"
	slow_listener <"$T/idle"
	send_file -q 0
	exec 4>&-
	# A poll per sendfile at most, each a wait for room in the socket.
	polls_at_most "$T/cli.log" $(($(calls "$T/cli.log" sendfile) + 2)) \
		"sendfile calls + 2"
}

@test "fast path: a regular file on stdout takes one poll per chunk" {
	counting
	head -c 16777216 /dev/urandom >"$T/data"
	listen srv "$T/s" <"$T/data"
	traced "$T/cli.log" timeout 20 "$UCAT" "$T/s" </dev/null >"$T/got"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(sha "$T/got")"
	# Each chunk is written as soon as it is received: the poll before
	# it is the wait for data, and no second one waits for the file.
	polls_at_most "$T/cli.log" $(($(calls "$T/cli.log" write) + 2)) \
		"writes + 2"
}

@test "fast path: the copy path sends what it read at once" {
	counting
	head -c 16777216 /dev/urandom >"$T/data"
	listen srv "$T/s"
	cat "$T/data" | traced "$T/cli.log" timeout 20 "$UCAT" --no-splice \
		"$T/s"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(sha "$T/srv.out")"
	# The poll before each read is the wait for stdin; none waits for
	# room in the socket, which a send never waits for.
	polls_at_most "$T/cli.log" $(($(calls "$T/cli.log" sendto) + 3)) \
		"sends + 3"
}

@test "fast path: a relay moves a stream with splice, never through memory" {
	need_feature splice
	fast_path
	listen back "$T/back" </dev/null
	spawn rel bash -c 'exec env ASAN_OPTIONS=detect_leaks=0 strace -f -qq \
	    -o "$0" -e trace=splice,read,write,recvfrom,sendto \
	    "$1" -v -l "$2" "$3"' "$T/rel.log" "$UCAT" "$T/front" "$T/back"
	wait_for rel 'listening on'
	head -c 16777216 /dev/urandom >"$T/data"
	timeout 20 "$UCAT" "$T/front" <"$T/data"
	finish rel
	check_eq "relay status" 0 "$STATUS"
	finish back
	check_eq sha "$(sha "$T/data")" "$(sha "$T/back.out")"
	# Bytes go socket -> pipe -> socket; none is received or sent.
	[ "$(calls "$T/rel.log" splice)" -ge 2 ]
	check_eq "recvfrom and sendto in the relay" 0 \
		"$(($(calls "$T/rel.log" recvfrom) + $(calls "$T/rel.log" sendto)))"
}
