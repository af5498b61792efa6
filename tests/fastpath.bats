#!/usr/bin/env bats
# The zero-copy path: which system calls move the bytes, counted with
# strace -c, and the stdio set-ups that change what it may do.

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
traced() {
	local out=$1
	shift
	strace -f -qq -c -o "$out" "$@"
}

@test "fast path: a regular file on stdout is filled by splice, not write" {
	fast_path
	head -c 8388608 /dev/urandom >"$T/data"
	listen srv "$T/s" <"$T/data"
	traced "$T/cli.strace" timeout 20 "$UCAT" "$T/s" </dev/null >"$T/got"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(sha "$T/got")"
	check_eq "write calls" 0 "$(calls "$T/cli.strace" write)"
	# Two splices per chunk (into the pipe, on into the file), and with
	# nothing to send no poll per chunk: each splice waits for data.
	(($(calls "$T/cli.strace" splice) >= 4))
	(($(calls "$T/cli.strace" poll) <= 3))
}

# slow_listener: a listener whose stdout is a slower reader than ucat's
# sendfile(2), so that the client's socket fills; what it got in $T/got.
slow_listener() {
	spawn srv bash -c '"$0" -v -l "$1" "${@:3}" | sha256sum >"$2"' \
		"$UCAT" "$T/s" "$T/got" "$@"
	wait_for srv 'listening on'
}

@test "fast path: a file sent to a peer that sends nothing waits in sendfile" {
	fast_path
	head -c 67108864 /dev/urandom >"$T/data"
	slow_listener </dev/null
	traced "$T/cli.strace" timeout 20 "$UCAT" "$T/s" <"$T/data"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(cut -d' ' -f1 "$T/got")"
	local moves polls
	moves=$(calls "$T/cli.strace" sendfile)
	polls=$(calls "$T/cli.strace" poll)
	((moves >= 16))
	# Polls only until the peer's EOF is seen (a loaded host may send a
	# few chunks first); waiting on the socket per chunk would be one
	# poll per sendfile.
	if ((polls * 2 > moves + 4)); then
		echo "$polls polls for $moves sendfile calls" >&2
		return 1
	fi
}

@test "fast path: a file sent both ways polls once per full socket" {
	fast_path
	head -c 67108864 /dev/urandom >"$T/data"
	# The listener's stdin stays open: the client watches both ways,
	# and -q 0 ends it once the file is sent.
	mkfifo "$T/idle"
	exec 4<>"$T/idle"
	slow_listener <"$T/idle"
	traced "$T/cli.strace" timeout 20 "$UCAT" -q 0 "$T/s" <"$T/data"
	exec 4>&-
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(cut -d' ' -f1 "$T/got")"
	local moves polls
	moves=$(calls "$T/cli.strace" sendfile)
	polls=$(calls "$T/cli.strace" poll)
	# A poll per sendfile at most, each a wait for room in the socket.
	if ((polls > moves + 2)); then
		echo "$polls polls for $moves sendfile calls" >&2
		return 1
	fi
}

@test "fast path: a non-blocking stdout pipe is waited on, not spun on" {
	fast_path
	need python3
	# The reader starts late, on a pipe someone made non-blocking: ucat
	# must wait in poll(2), not retry, and its CPU time shows which.
	cat >"$T/late.py" <<'EOF'
import fcntl, os, resource, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=w)
os.close(w)
time.sleep(1)
n = 0
while True:
    b = os.read(r, 1 << 16)
    if not b:
        break
    n += len(b)
_, status, ru = os.wait4(p.pid, 0)
print(n, os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime)
EOF
	# More than a pipe holds (1 MiB at most, unprivileged).
	head -c 8388608 /dev/urandom >"$T/data"
	listen srv "$T/s" <"$T/data"
	run timeout 20 python3 "$T/late.py" - "$UCAT" "$T/s"
	finish srv
	read -r bytes rc cpu <<<"$output"
	check_eq bytes 8388608 "$bytes"
	check_eq "ucat status" 0 "$rc"
	# Spinning for the reader's second costs most of a second of CPU.
	if ! awk -v c="$cpu" 'BEGIN { exit !(c < 0.3) }'; then
		echo "ucat used $cpu s of CPU waiting for its reader" >&2
		return 1
	fi
}
