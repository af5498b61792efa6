#!/usr/bin/env bats
# Faults made on purpose: every ucat here runs under tests/fault.so, which
# gives short counts, EINTR, EAGAIN and spurious wake-ups from a seed.  For
# each mode, SEEDS seeds (UCAT_FAULT_SEEDS, 40 by default; make check-inject
# runs 1000); what arrives must be what was sent, byte for byte and message
# for message.  A failing seed is printed; UCAT_FAULT_SEEDS=N-M replays a
# range.

load helpers

U=${UCAT_REAL:-$UCAT}
FAULT_LIB=${FAULT_LIB:-$(dirname "$U")/../tests/fault.so}
RATE=${UCAT_FAULT_RATE:-25}

# lines FILE SEED N: N lines of every length from empty to 4 KiB, to be
# sent as messages (an empty line is an empty message).
lines() {
	python3 -c 'import random, sys
r = random.Random(int(sys.argv[2]))
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[3])):
        n = r.choice([-1, 0, 1, 7, 100, 500, 2000, 4000])
        f.write("\n" if n < 0 else "%d:%s\n" % (i, "x" * n))' "$@"
}

setup_file() {
	local d=$BATS_FILE_TMPDIR
	head -c 196613 /dev/urandom >"$d/a"
	head -c 131101 /dev/urandom >"$d/b"
	lines "$d/lines" 1 300
	lines "$d/lines2" 2 200
}

need_inject() {
	[ -z "${UCAT_NO_SPLICE:-}" ] ||
		skip "runs both paths itself, with the real ucat"
	need python3 readelf
	[ -f "$FAULT_LIB" ] || skip "no $FAULT_LIB (make check builds it)"
	readelf -l "$U" | grep -q INTERP ||
		skip "a static ucat takes no LD_PRELOAD"
	A=$BATS_FILE_TMPDIR/a B=$BATS_FILE_TMPDIR/b
	LINES=$BATS_FILE_TMPDIR/lines LINES2=$BATS_FILE_TMPDIR/lines2
}

# seeds: the seeds to run, one per line.
seeds() {
	local spec=${UCAT_FAULT_SEEDS:-40}
	if [[ $spec == *-* ]]; then
		seq "${spec%-*}" "${spec#*-}"
	else
		seq 1 "$spec"
	fi
}

# inject SEED: INJ is the prefix that runs a command under the faults of
# SEED (every ucat of one run gets a seed of its own, SEED*10+k).
inject() {
	INJ=(env LD_PRELOAD="$FAULT_LIB" UCAT_FAULT_SEED="$1"
	    UCAT_FAULT_RATE="$RATE" UCAT_FAULT_REPORT="$T/report"
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
}

# failed SEED WHAT: say which seed broke what, with ucat's stderr, and fail.
failed() {
	echo "seed $1: $2 (replay: UCAT_FAULT_SEEDS=$1-$1)" >&2
	tail -n 5 "$T"/*.err >&2 2>/dev/null
	return 1
}

# injected: faults were really made (the library was loaded and fired).
injected() {
	local n
	n=$(awk '{ s += $2 } END { print s + 0 }' "$T/report" 2>/dev/null)
	echo "faults injected: $n" >&3
	[ "${n:-0}" -gt 0 ]
}

# stream_run SEED FLAGS...: a listener with a file for stdin and stdout, a
# client with pipes for both (run by WRAP), bytes both ways; the sha256 of
# each side.
WRAP=()
stream_run() {
	local s=$1 got
	shift
	rm -f "$T/s"
	inject $((s * 10 + 1))
	spawn srv "${INJ[@]}" "$U" "$@" -l "$T/s" <"$A"
	inject $((s * 10 + 2))
	got=$(set -o pipefail; cat "$B" | timeout 30 "${WRAP[@]}" "${INJ[@]}" \
		"$U" "$@" --wait 20 "$T/s" 2>"$T/cli.err" | sha256sum |
		cut -d' ' -f1) || failed "$s" "client failed" || return
	finish srv
	[ "$STATUS" = 0 ] || failed "$s" "listener status $STATUS" || return
	[ "$got" = "$(sha "$A")" ] || failed "$s" "listener to client" ||
		return
	[ "$(sha "$T/srv.out")" = "$(sha "$B")" ] ||
		failed "$s" "client to listener" || return
	[ ! -e "$T/s" ] || failed "$s" "socket file left"
}

@test "inject: a stream both ways, splice and sendfile, every byte" {
	need_inject
	need_feature splice sendfile
	local s
	for s in $(seeds); do
		stream_run "$s"
	done
	injected
}

@test "inject: a stream both ways, --no-splice, every byte" {
	need_inject
	local s
	for s in $(seeds); do
		stream_run "$s" --no-splice
	done
	injected
}

# O_NONBLOCK on the pipes' ends that ucat holds, then ucat: EAGAIN on stdio
# comes from the kernel too, and from the library.
NONBLOCK=(python3 -c 'import fcntl, os, sys
for fd in 0, 1:
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execvp(sys.argv[1], sys.argv[1:])')

@test "inject: a stream both ways, stdin and stdout non-blocking pipes" {
	need_inject
	local s WRAP=("${NONBLOCK[@]}")
	for s in $(seeds); do
		stream_run "$s"
	done
	injected
}

@test "inject: non-blocking stdin and stdout pipes, --no-splice" {
	need_inject
	local s WRAP=("${NONBLOCK[@]}")
	for s in $(seeds); do
		stream_run "$s" --no-splice
	done
	injected
}

# Datagrams: the client sends (with RELAY=1, through a relay), the
# listener prints; once all has arrived the listener is ended (it would
# wait for more senders).
RELAY=
dgram_run() {
	local s=$1 want=$2 i to=$T/d
	shift 2
	rm -f "$T/d" "$T/front" "$T/c" "$T/r"
	inject $((s * 10 + 1))
	spawn srv "${INJ[@]}" "$U" -u "$@" -v -l "$T/d" </dev/null
	wait_for srv 'listening on'
	if [ -n "$RELAY" ]; then
		inject $((s * 10 + 3))
		spawn rel "${INJ[@]}" "$U" -u -v -s "$T/r" -l "$T/front" "$T/d"
		wait_for rel 'listening on'
		to=$T/front
	fi
	inject $((s * 10 + 2))
	# Bound (-s), so that no build has to autobind it.
	timeout 30 "${INJ[@]}" "$U" -u "$@" -s "$T/c" "$to" <"$LINES" \
		>/dev/null 2>"$T/cli.err" || failed "$s" "client status $?" ||
		return
	[ ! -e "$T/c" ] || failed "$s" "the client's socket file left" || return
	for ((i = 0; i < 3000; i++)); do
		[ "$(stat -c %s "$T/srv.out")" -lt "$(stat -c %s "$want")" ] ||
			break
		kill -0 "$srv_PID" 2>/dev/null || break
		sleep 0.01
	done
	kill "$srv_PID" ${RELAY:+"$rel_PID"} 2>/dev/null
	finish srv
	[ -z "$RELAY" ] || finish rel
	cmp -s "$want" "$T/srv.out" || failed "$s" "messages differ" || return
	[ "$(grep -cv 'listening on\|message from' "$T/srv.err")" = 0 ] ||
		failed "$s" "listener said something"
}

@test "inject: datagrams with -L, line for line" {
	need_inject
	local s
	for s in $(seeds); do
		dgram_run "$s" "$LINES" -L
	done
	injected
}

@test "inject: datagrams without -L, every byte" {
	need_inject
	local s
	for s in $(seeds); do
		dgram_run "$s" "$LINES"
	done
	injected
}

@test "inject: datagrams with -L through a relay, line for line" {
	need_inject
	local s RELAY=1
	for s in $(seeds); do
		dgram_run "$s" "$LINES" -L
	done
	injected
}

# Seqpacket both ways: each side's lines arrive as they were sent.
seq_run() {
	local s=$1
	shift
	rm -f "$T/q"
	inject $((s * 10 + 1))
	spawn srv "${INJ[@]}" "$U" --seqpacket "$@" -l "$T/q" <"$LINES2"
	inject $((s * 10 + 2))
	timeout 30 "${INJ[@]}" "$U" --seqpacket "$@" --wait 20 "$T/q" \
		<"$LINES" >"$T/cli.out" 2>"$T/cli.err" ||
		failed "$s" "client status $?" || return
	finish srv
	[ "$STATUS" = 0 ] || failed "$s" "listener status $STATUS" || return
	cmp -s "$LINES" "$T/srv.out" || failed "$s" "client to listener" ||
		return
	cmp -s "$LINES2" "$T/cli.out" || failed "$s" "listener to client"
}

@test "inject: seqpacket with -L both ways, line for line" {
	need_inject
	# Empty messages among them: told from the end by credentials.
	need_feature passcred
	local s
	for s in $(seeds); do
		seq_run "$s" -L
	done
	injected
}

@test "inject: seqpacket without -L both ways, every byte" {
	need_inject
	# Empty messages among them: told from the end by credentials.
	need_feature passcred
	local s
	for s in $(seeds); do
		seq_run "$s"
	done
	injected
}

# relay_run SEED IN-A IN-B FLAGS...: a client (stdin IN-A) through a relay
# to a listener (stdin IN-B), all three with FLAGS, the two ends with
# END_FLAGS too; each end gets what the other sent.
END_FLAGS=()
relay_run() {
	local s=$1 a=$2 b=$3
	shift 3
	rm -f "$T/back" "$T/front"
	inject $((s * 10 + 1))
	spawn back "${INJ[@]}" "$U" "$@" "${END_FLAGS[@]}" -v -l "$T/back" <"$b"
	wait_for back 'listening on'
	inject $((s * 10 + 2))
	spawn rel "${INJ[@]}" "$U" "$@" -l "$T/front" "$T/back"
	inject $((s * 10 + 3))
	timeout 30 "${INJ[@]}" "$U" "$@" "${END_FLAGS[@]}" --wait 20 \
		"$T/front" <"$a" >"$T/cli.out" 2>"$T/cli.err" ||
		failed "$s" "client status $?" || return
	finish rel
	[ "$STATUS" = 0 ] || failed "$s" "relay status $STATUS" || return
	finish back
	[ "$STATUS" = 0 ] || failed "$s" "back status $STATUS" || return
	cmp -s "$b" "$T/cli.out" || failed "$s" "back to client" || return
	cmp -s "$a" "$T/back.out" || failed "$s" "client to back" || return
	[ ! -e "$T/front" ] && [ ! -e "$T/back" ] ||
		failed "$s" "socket file left"
}

@test "inject: a stream relay, splice, both ways" {
	need_inject
	need_feature splice
	local s
	for s in $(seeds); do
		relay_run "$s" "$A" "$B"
	done
	injected
}

@test "inject: a stream relay, --no-splice, both ways" {
	need_inject
	local s
	for s in $(seeds); do
		relay_run "$s" "$A" "$B" --no-splice
	done
	injected
}

@test "inject: a seqpacket relay with -L both ways, line for line" {
	need_inject
	# Empty messages among them: told from the end by credentials.
	need_feature passcred
	local s
	for s in $(seeds); do
		END_FLAGS=(-L)
		relay_run "$s" "$LINES" "$LINES2" --seqpacket
	done
	injected
}

@test "inject: -k -e cat echoes three clients at once, every byte" {
	need_inject
	local s i
	for s in $(seeds); do
		rm -f "$T/e"
		inject $((s * 10 + 1))
		spawn srv "${INJ[@]}" "$U" -k -e cat -l "$T/e" </dev/null
		for i in 1 2 3; do
			inject $((s * 10 + 1 + i))
			spawn "c$i" "${INJ[@]}" "$U" --wait 20 "$T/e" <"$B"
		done
		for i in 1 2 3; do
			finish "c$i"
			[ "$STATUS" = 0 ] || failed "$s" "client $i status" ||
				return
			cmp -s "$B" "$T/c$i.out" || failed "$s" "echo $i" ||
				return
		done
		kill "$srv_PID" || failed "$s" "the server is gone" || return
		finish srv
		# Ended by SIGTERM, as asked: 128 + 15.
		[ "$STATUS" = 143 ] || failed "$s" "server status $STATUS" ||
			return
		[ ! -e "$T/e" ] || failed "$s" "socket file left" || return
	done
	injected
}
