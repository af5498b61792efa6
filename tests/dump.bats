#!/usr/bin/env bats
# -x: the hex dump of the traffic: hexdump -C's lines, direction marks,
# connection numbers, offsets and message numbers, events, and the rules
# of the file it is written to.

load helpers

# A parser that shares no code with ucat: checks every block of a dump
# (header, then hexdump -C lines whose offsets follow on from the header's,
# whose ascii column matches the bytes) and prints, per connection and
# direction, "N MARK KIND COUNT SHA256" of the bytes it carries, then the
# event lines without their time.  A stream's offsets must follow on
# without a gap; messages must be numbered 1, 2, ...
PARSE='
import hashlib, re, sys
head = re.compile(r"^([<>]) \[(\d+)\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z "
                  r"length=(\d+) (offset|message)=(\d+)$")
event = re.compile(r"^\* \[(\d+)\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (.*)$")
body = re.compile(r"^([0-9a-f]{8})  ((?:[0-9a-f]{2} |   ){8}) "
                  r"((?:[0-9a-f]{2} |   ){8}) \|(.*)\|$")
flows, events = {}, []
lines = open(sys.argv[1], "rb").read().decode("latin-1").split("\n")
assert lines[-1] == "", "no newline at the end"
i = 0
while i < len(lines) - 1:
    m = event.match(lines[i])
    if m:
        events.append("%s %s" % (m.group(1), m.group(2)))
        i += 1
        continue
    m = head.match(lines[i])
    assert m, "line %d: %r" % (i + 1, lines[i])
    mark, conn, length, kind, at = m.group(1), m.group(2), int(m.group(3)), m.group(4), int(m.group(5))
    f = flows.setdefault((conn, mark), {"kind": kind, "data": b"", "n": 0})
    assert f["kind"] == kind
    if kind == "offset":
        assert at == len(f["data"]), "offset %d after %d bytes" % (at, len(f["data"]))
        line_at = at
    else:
        assert at == f["n"] + 1, "message %d after %d" % (at, f["n"])
        line_at = 0
    f["n"] += 1
    got = b""
    i += 1
    while len(got) < length:
        b = body.match(lines[i])
        assert b, "line %d: %r" % (i + 1, lines[i])
        assert int(b.group(1), 16) == line_at + len(got), lines[i]
        chunk = bytes.fromhex((b.group(2) + b.group(3)).replace(" ", ""))
        assert b.group(4) == "".join(chr(c) if 32 <= c < 127 else "." for c in chunk)
        assert len(chunk) == 16 or len(got) + len(chunk) == length
        got += chunk
        i += 1
    f["data"] += got
for (conn, mark), f in sorted(flows.items()):
    print(conn, mark, f["kind"], f["n"], hashlib.sha256(f["data"]).hexdigest())
for e in events:
    print(e)
'

parse() {
	python3 -c "$PARSE" "$1"
}

@test "dump: a chunk's lines are hexdump -C's, after its header" {
	need python3 hexdump
	printf 'hello\nabcdefghijklmnopqrstuvwxyz0123456789\001\377' >"$T/data"
	listen srv -x "$T/dump" "$T/s" </dev/null
	timeout 20 "$UCAT" "$T/s" <"$T/data"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq "what moved" "$(sha "$T/data")" "$(sha "$T/srv.out")"
	# The listener received one chunk: its lines, byte for byte, are
	# those of hexdump -C -v without its last (offset) line.
	hexdump -C -v "$T/data" | sed '$d' >"$T/want"
	sed -n '/^< /,/^\*/p' "$T/dump" | sed '1d;$d' >"$T/got"
	check_eq "body" "$(cat "$T/want")" "$(cat "$T/got")"
	[[ $(grep '^< ' "$T/dump") =~ ^'< [1] '[0-9-]+T[0-9:]+\.[0-9]{6}Z' length=44 offset=0'$ ]]
}

@test "dump: a stream both ways: every byte, offsets, marks and events" {
	need python3
	head -c 1048576 /dev/urandom >"$T/up"
	head -c 524288 /dev/urandom >"$T/down"
	listen srv "$T/s" <"$T/down"
	timeout 20 "$UCAT" -x "$T/dump" "$T/s" <"$T/up" >"$T/got"
	finish srv
	check_eq "to the listener" "$(sha "$T/up")" "$(sha "$T/srv.out")"
	check_eq "to the client" "$(sha "$T/down")" "$(sha "$T/got")"
	run parse "$T/dump"
	check_eq "parse status" 0 "$status"
	# > is from stdin toward the socket; < the other way.
	[[ ${lines[0]} == "1 < offset "*" $(sha "$T/down")" ]]
	[[ ${lines[1]} == "1 > offset "*" $(sha "$T/up")" ]]
	# The listener's credentials, as the kernel recorded them.
	if has_feature peercred; then
		[[ ${lines[2]} =~ ^"1 connected to $T/s: pid "[0-9]+" uid $(id -u) gid $(id -g)"$ ]]
	else
		check_eq "connected" "1 connected to $T/s: no credentials" \
		    "${lines[2]}"
	fi
	check_eq "last event" "1 closed" "${lines[-1]}"
	[[ " ${lines[*]} " == *" 1 > end of data "* ]]
	[[ " ${lines[*]} " == *" 1 < end of data "* ]]
}

@test "dump: datagrams are numbered messages whose lines start at 0" {
	need python3
	listen srv -u -L -d -x "$T/dump" "$T/d"
	printf 'one\ntwo\n\nfour\n' | timeout 20 "$UCAT" -u -L "$T/d"
	wait_out srv four
	run parse "$T/dump"
	check_eq "parse status" 0 "$status"
	# Four messages, the third empty, as received.
	check_eq "messages" "1 < message 4 $(printf 'onetwofour' | sha256sum |
		cut -d' ' -f1)" "${lines[0]}"
	grep -q '^< \[1\] .* length=0 message=3$' "$T/dump"
	grep -q '^00000000  66 6f 75 72 ' "$T/dump"
}

@test "dump: each -k client of a relay has its own number, blocks whole" {
	need python3
	local BG_LIMIT=300 i
	listen back -k "$T/back" -c cat
	relay_args=(-v -lk -x "$T/dump" "$T/front" "$T/back")
	spawn rel "$UCAT" "${relay_args[@]}"
	wait_for rel 'listening on'
	for ((i = 0; i < 4; i++)); do
		head -c 300000 /dev/urandom >"$T/in.$i"
		spawn "c$i" "$UCAT" "$T/front" <"$T/in.$i"
	done
	for ((i = 0; i < 4; i++)); do
		finish "c$i"
		check_eq "client $i" "$(sha "$T/in.$i")" "$(sha "$T/c$i.out")"
	done
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c 'closed$' "$T/dump")" = 4 ] && break
		sleep 0.1
	done
	# Concurrent children append to one file: the parser fails on any
	# block cut by another's.
	run parse "$T/dump"
	check_eq "parse status" 0 "$status"
	local want n
	for ((i = 0; i < 4; i++)); do
		want=$(sha "$T/in.$i")
		n=$(grep -E "^[1-4] > offset [0-9]+ $want$" <<<"$output" |
			cut -d' ' -f1)
		[ -n "$n" ] || { echo "client $i not in the dump" >&2; return 1; }
		grep -qE "^$n < offset [0-9]+ $want$" <<<"$output"
		grep -q "^$n connection from " <<<"$output"
		grep -q "^$n connected to $T/back" <<<"$output"
		has_feature peercred || continue
		grep -q "^$n connection from pid " <<<"$output"
		grep -q "^$n connected to $T/back: pid [0-9]* uid " <<<"$output"
	done
}

@test "dump: the file is 0600 whatever the umask, and appended to" {
	echo "kept" >"$T/old"
	chmod 640 "$T/old"
	listen srv "$T/s" </dev/null
	(umask 000 && echo hi | timeout 20 "$UCAT" -x "$T/new" "$T/s")
	check_eq "mode of a new dump" 600 "$(stat -c %a "$T/new")"
	listen srv "$T/s" </dev/null
	echo again | timeout 20 "$UCAT" -x "$T/old" "$T/s"
	check_eq "first line kept" kept "$(head -n 1 "$T/old")"
	grep -q '^> \[1\] .* length=6 offset=0$' "$T/old"
	# An existing file keeps its own mode.
	check_eq "mode of an old dump" 640 "$(stat -c %a "$T/old")"
}

@test "dump: - is stderr" {
	listen srv "$T/s" </dev/null
	echo hi | timeout 20 "$UCAT" -x - "$T/s" 2>"$T/err"
	grep -q '^> \[1\] .* length=3 offset=0$' "$T/err"
	grep -q '^00000000  68 69 0a  ' "$T/err"
}

@test "dump: a symlink, a directory or no permission: exit 1, nothing made" {
	need_nobody
	echo precious >"$T/target"
	ln -s "$T/target" "$T/link"
	mkdir "$T/dir" "$T/closed"
	chmod 755 "$T/closed"
	run timeout 20 "$UCAT" -l -x "$T/link" "$T/s"
	check_eq "symlink status" 1 "$status"
	# ELOOP, as glibc and musl word it.
	[[ $output == "ucat: -x $T/link: "@(Too many levels of symbolic links|Symbolic link loop) ]] || {
		echo "symlink: $output" >&2
		return 1
	}
	check_eq "its target" precious "$(cat "$T/target")"
	run timeout 20 "$UCAT" -l -x "$T/dir" "$T/s"
	check_eq "directory status" 1 "$status"
	check_eq "directory" "ucat: -x $T/dir: Is a directory" "$output"
	run as_nobody timeout 20 "${UCAT_REAL:-$UCAT}" -l -x "$T/closed/d" "$T/s"
	check_eq "no permission status" 1 "$status"
	check_eq "no permission" "ucat: -x $T/closed/d: Permission denied" \
		"$output"
	[ ! -e "$T/s" ] && [ ! -e "$T/closed/d" ]
}

@test "dump: a full disk is one warning, and the traffic goes on" {
	head -c 300000 /dev/urandom >"$T/data"
	listen srv "$T/s" </dev/null
	timeout 20 "$UCAT" -x /dev/full "$T/s" <"$T/data" 2>"$T/err"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq "what moved" "$(sha "$T/data")" "$(sha "$T/srv.out")"
	check_eq warning "ucat: -x /dev/full: No space left on device" \
		"$(cat "$T/err")"
}

@test "dump: a file over its size limit is one warning, not a death" {
	head -c 300000 /dev/urandom >"$T/data"
	listen srv "$T/s" </dev/null
	(ulimit -f 64 && exec timeout 20 "$UCAT" -x "$T/dump" "$T/s" \
		<"$T/data" 2>"$T/err")
	finish srv
	check_eq status 0 "$STATUS"
	check_eq "what moved" "$(sha "$T/data")" "$(sha "$T/srv.out")"
	check_eq warning "ucat: -x $T/dump: File too large" "$(cat "$T/err")"
}

@test "dump: a FIFO is an error, not a wait" {
	mkfifo "$T/fifo"
	run timeout 20 "$UCAT" -l -x "$T/fifo" "$T/s"
	check_eq status 1 "$status"
	check_eq output "ucat: -x $T/fifo: not a regular file; not writing to it" \
		"$output"
	[ ! -e "$T/s" ]
}
