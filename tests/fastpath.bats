#!/usr/bin/env bats
# The zero-copy path: which system calls move the bytes, counted with
# strace -c, and a stdio set-up that changes what it may do.

load helpers

# fast_path: skip where the zero-copy path is not what runs, or where
# system calls cannot be counted.
fast_path() {
	[ -z "${UCAT_NO_SPLICE:-}${UCAT_VALGRIND:-}" ] ||
		skip "ucat runs on its read/write path here"
	[ "$(uname -s)" = Linux ] || skip "splice(2) is Linux's"
	need strace
	strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace"
}

# calls FILE SYSCALL: how many times strace -c saw SYSCALL (0 if never).
calls() {
	awk -v s="$2" '$NF == s { n = $4 } END { print n + 0 }' "$1"
}

# failed FILE SYSCALL: how many of those calls failed.
failed() {
	awk -v s="$2" '$NF == s && NF == 6 { n = $5 } END { print n + 0 }' "$1"
}

# traced FILE CMD...: CMD under strace -f -c, the summary in FILE.
# LeakSanitizer cannot work under ptrace (--enable-sanitizers builds).
traced() {
	local out=$1
	shift
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -c -o "$out" "$@"
}

# slow_listener: a listener whose stdout is a slower reader than ucat's
# sendfile(2), so that the client's socket fills; what it got in $T/got.
slow_listener() {
	spawn srv bash -c '"$0" -v -l "$1" "${@:3}" | sha256sum >"$2"' \
		"$UCAT" "$T/s" "$T/got" "$@"
	wait_for srv 'listening on'
}

# send_file ARGS...: 64 MiB from a file on stdin through "ucat ARGS" to
# the slow listener, checked whole; the client's calls in MOVES (sendfile)
# and POLLS.
send_file() {
	head -c 67108864 /dev/urandom >"$T/data"
	traced "$T/cli.strace" timeout 20 "$UCAT" "$@" "$T/s" <"$T/data"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(cut -d' ' -f1 "$T/got")"
	MOVES=$(calls "$T/cli.strace" sendfile)
	POLLS=$(calls "$T/cli.strace" poll)
}

@test "fast path: a file sent to a peer that sends nothing waits in sendfile" {
	fast_path
	slow_listener </dev/null
	send_file
	((MOVES >= 16))
	# Polls only until the peer's EOF is seen (a loaded host may send a
	# few chunks first); waiting on the socket per chunk would be one
	# poll per sendfile.
	if ((POLLS * 2 > MOVES + 4)); then
		echo "$POLLS polls for $MOVES sendfile calls" >&2
		return 1
	fi
}

@test "fast path: a file sent both ways polls once per full socket" {
	fast_path
	# The listener's stdin stays open: the client watches both ways,
	# and -q 0 ends it once the file is sent.
	mkfifo "$T/idle"
	exec 4<>"$T/idle"
	slow_listener <"$T/idle"
	send_file -q 0
	exec 4>&-
	# A poll per sendfile at most, each a wait for room in the socket.
	if ((POLLS > MOVES + 2)); then
		echo "$POLLS polls for $MOVES sendfile calls" >&2
		return 1
	fi
}

@test "fast path: a regular file on stdout takes one poll per chunk" {
	fast_path
	head -c 16777216 /dev/urandom >"$T/data"
	listen srv "$T/s" <"$T/data"
	traced "$T/cli.strace" timeout 20 "$UCAT" "$T/s" </dev/null >"$T/got"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(sha "$T/got")"
	local chunks polls
	chunks=$(calls "$T/cli.strace" write)
	polls=$(calls "$T/cli.strace" poll)
	# Each chunk is written as soon as it is received: the poll before
	# it is the wait for data, and no second one waits for the file.
	if ((polls > chunks + 2)); then
		echo "$polls polls for $chunks writes" >&2
		return 1
	fi
}
