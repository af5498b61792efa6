#!/usr/bin/env bats
# Stream sockets: the pump in both directions, half-close, -q, -d, peer gone.

load helpers

# sha_after LINE FILE: the sha256 of LINE and a newline, then FILE.
sha_after() {
	{ printf '%s\n' "$1"; cat "$2"; } | sha256sum | cut -d' ' -f1
}

@test "stream: client stdin reaches the listener's stdout" {
	listen srv "$T/s"
	echo hello | timeout 20 "$UCAT" "$T/s"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output hello "$(cat "$T/srv.out")"
}

@test "stream: listener stdin reaches the client's stdout" {
	head -c 300000 /dev/urandom >"$T/data"
	listen srv "$T/s" <"$T/data"
	timeout 20 "$UCAT" "$T/s" </dev/null >"$T/got"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(sha "$T/got")"
}

@test "stream: stdin EOF half-closes, and the reply still arrives" {
	need socat
	# wc answers only once it has seen EOF: without the half-close this hangs.
	spawn srv socat "UNIX-LISTEN:$T/s" SYSTEM:'wc -c'
	run timeout 20 "$UCAT" --wait 5 "$T/s" <<<"abcdef"
	check_eq status 0 "$status"
	check_eq reply 7 "$(echo $output)"
}

@test "stream: a reply that comes late is still delivered" {
	listen srv "$T/s" -c 'cat >/dev/null; sleep 1.5; echo late'
	run timeout 20 "$UCAT" "$T/s" <<<"x"
	check_eq status 0 "$status"
	check_eq reply late "$output"
}

@test "stream: --no-shutdown keeps the write side open" {
	need socat
	spawn srv socat "UNIX-LISTEN:$T/s" SYSTEM:'wc -c'
	# wc never sees EOF, so nothing comes back before -q ends ucat.
	run timeout 20 "$UCAT" --wait 5 --no-shutdown -q 0.5 "$T/s" <<<"abc"
	check_eq status 0 "$status"
	check_eq reply "" "$output"
}

@test "stream: -q 0 quits at stdin EOF although the peer stays" {
	listen srv "$T/s" < <(sleep 30)
	run timeout 10 "$UCAT" -q 0 "$T/s" <<<"x"
	check_eq status 0 "$status"
}

@test "stream: without -q the client waits for the peer to close" {
	listen srv "$T/s" < <(sleep 30)
	run timeout 1 "$UCAT" "$T/s" <<<"x"
	check_eq "status (124: still waiting)" 124 "$status"
}

@test "stream: a reader of stdout gets each line while the connection stays" {
	spawn srv bash -c '"$0" -v -l "$1" </dev/null | head -n 1 >"$2"' \
		"$UCAT" "$T/s" "$T/line"
	wait_for srv 'listening on'
	mkfifo "$T/in"
	exec 4<>"$T/in"
	spawn cli "$UCAT" "$T/s" <"$T/in" 4>&-
	echo hello >&4
	# The client keeps the connection open: nothing more comes after it.
	local i
	for ((i = 0; i < 1000; i++)); do
		[ -s "$T/line" ] && break
		sleep 0.01
	done
	exec 4>&-
	check_eq "the line, before any more data" hello "$(cat "$T/line")"
	finish cli
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq "listener status" 0 "$STATUS"
}

@test "stream: a regular file on stdout is written from where it stands" {
	head -c 300000 /dev/urandom >"$T/data"
	listen srv "$T/s" <"$T/data"
	# The shell wrote a header first: ucat goes on at that offset.
	{ printf 'header\n'; timeout 20 "$UCAT" "$T/s" </dev/null; } >"$T/got"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha_after header "$T/data")" "$(sha "$T/got")"
}

@test "stream: two clients writing into one shared stdout file lose nothing" {
	head -c 16777216 /dev/urandom >"$T/a"
	head -c 16777216 /dev/urandom >"$T/b"
	listen srva "$T/sa" <"$T/a"
	listen srvb "$T/sb" <"$T/b"
	# One open file and its one offset for both, as in { a & b; } >file.
	local a b
	{
		timeout 20 "$UCAT" "$T/sa" </dev/null &
		a=$!
		timeout 20 "$UCAT" "$T/sb" </dev/null &
		b=$!
	} >"$T/got"
	wait "$a"
	wait "$b"
	check_eq "bytes in the shared file" 33554432 "$(stat -c %s "$T/got")"
	finish srva
	check_eq "first listener status" 0 "$STATUS"
	finish srvb
	check_eq "second listener status" 0 "$STATUS"
}

@test "stream: a file on stdin goes from its offset, and is left at its end" {
	need python3
	head -c 3000000 /dev/urandom >"$T/data"
	listen srv "$T/s"
	# The shell's first reader takes 1000 bytes; then ucat; then the
	# offset where ucat left the file.
	{
		dd bs=1000 count=1 of=/dev/null 2>/dev/null
		timeout 20 "$UCAT" "$T/s"
		python3 -c 'import os; print(os.lseek(0, 0, os.SEEK_CUR))' \
		    >"$T/offset"
	} <"$T/data"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(tail -c +1001 "$T/data" | sha256sum | cut -d' ' -f1)" \
		"$(sha "$T/srv.out")"
	check_eq "offset after ucat" 3000000 "$(cat "$T/offset")"
}

@test "stream: clients reading one shared stdin file send each byte once" {
	head -c 16777216 /dev/urandom >"$T/data"
	local i total=0 pids=()
	for i in 1 2 3 4; do
		listen "srv$i" "$T/s$i"
	done
	# One open file and its one offset for all, as in { a & b; } <file.
	{
		for i in 1 2 3 4; do
			timeout 20 "$UCAT" "$T/s$i" &
			pids+=("$!")
		done
	} <"$T/data"
	wait "${pids[@]}"
	for i in 1 2 3 4; do
		finish "srv$i"
		check_eq "listener $i status" 0 "$STATUS"
		total=$((total + $(stat -c %s "$T/srv$i.out")))
	done
	check_eq "bytes received in all" 16777216 "$total"
}

@test "stream: a file opened for appending keeps what it held" {
	head -c 300000 /dev/urandom >"$T/data"
	printf 'kept\n' >"$T/got"
	listen srv "$T/s" <"$T/data"
	timeout 20 "$UCAT" "$T/s" </dev/null >>"$T/got"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha_after kept "$T/data")" "$(sha "$T/got")"
}

@test "stream: the peer half-closes and stdin still goes through" {
	head -c 200000 /dev/urandom >"$T/data"
	# The listener's stdin is empty: it half-closes at once, then receives.
	listen srv "$T/s" </dev/null
	timeout 20 "$UCAT" "$T/s" <"$T/data"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq sha "$(sha "$T/data")" "$(sha "$T/srv.out")"
}

@test "stream: the peer gone entirely ends ucat with stdin still open" {
	need socat
	spawn srv socat "UNIX-LISTEN:$T/s" SYSTEM:'echo bye'
	run timeout 10 "$UCAT" --wait 5 "$T/s" < <(sleep 30)
	check_eq status 0 "$status"
	check_eq reply bye "$output"
}

@test "stream: -d reads no stdin and receives until the peer closes" {
	# Not in a pipeline: finish must wait for the listener it started.
	listen srv "$T/s" < <(printf 'hi')
	run timeout 10 "$UCAT" -d "$T/s" <<<"must not be sent"
	check_eq status 0 "$status"
	check_eq reply hi "$output"
	finish srv
	grep -q 'sent 2 bytes, received 0 bytes' "$T/srv.err"
}

@test "stream: -v counts the bytes each way" {
	listen srv "$T/s" < <(printf 'abc')
	run timeout 10 "$UCAT" -v "$T/s" <<<"hello"
	check_eq status 0 "$status"
	[[ $output == *"connected to $T/s"* ]]
	[[ $output == *"sent 6 bytes, received 3 bytes"* ]]
	finish srv
	grep -q 'sent 3 bytes, received 6 bytes' "$T/srv.err"
	if has_feature peercred; then
		grep -q "connection from pid [0-9]* uid $(id -u) gid $(id -g)" \
			"$T/srv.err"
	else
		grep -q "connection from an unknown peer on $T/s" "$T/srv.err"
	fi
}

@test "stream: an unreadable stdin is an error naming stdin" {
	listen srv "$T/s"
	run timeout 10 "$UCAT" "$T/s" <"$T"
	check_eq status 1 "$status"
	check_eq message "ucat: stdin: Is a directory" "$output"
}

@test "stream: -w ends an idle connection with status 1" {
	listen srv "$T/s" < <(sleep 30)
	run timeout 10 "$UCAT" -w 0.3 "$T/s" < <(sleep 30)
	check_eq status 1 "$status"
	[[ $output == *"$T/s: idle for 0.3 seconds"* ]]
}

@test "stream: a connect to a file, or to a socket of another type, says what to do" {
	: >"$T/file"
	run timeout 20 "$UCAT" "$T/file" </dev/null
	check_eq "file status" 1 "$status"
	check_eq file "ucat: connect $T/file: not a socket" "$output"
	# Each type found out without a byte or a connection reaching it.
	listen dg -u "$T/d" </dev/null
	listen st -k "$T/s" </dev/null
	listen sq -k --seqpacket "$T/q" </dev/null
	local args want
	while IFS='|' read -r args want; do
		# shellcheck disable=SC2086 # the words are the arguments
		run timeout 20 "$UCAT" $args </dev/null
		check_eq "status of ucat $args" 1 "$status"
		check_eq "ucat $args" "ucat: connect $want" "$output"
	done <<-EOF
		$T/d|$T/d: a datagram socket; add -u
		--seqpacket $T/d|$T/d: a datagram socket; use -u instead of --seqpacket
		-u $T/s|$T/s: a stream socket; drop -u
		--seqpacket $T/s|$T/s: a stream socket; drop --seqpacket
		$T/q|$T/q: a seqpacket socket; add --seqpacket
		-u $T/q|$T/q: a seqpacket socket; use --seqpacket instead of -u
	EOF
	check_eq "connections to the stream listener" 0 "$(connections st)"
	check_eq "connections to the seqpacket listener" 0 "$(connections sq)"
	check_eq "messages to the datagram listener" "" "$(cat "$T/dg.out")"
}

@test "stream: -C sends each newline of stdin as CRLF, once" {
	listen srv "$T/s" </dev/null
	printf 'GET / HTTP/1.0\nHost: x\r\n\n\nlast' |
		timeout 20 "$UCAT" -C "$T/s"
	finish srv
	check_eq "bytes sent" "$(printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n\r\nlast' | od -c)" \
		"$(od -c <"$T/srv.out")"
	# What comes back is as it was.
	printf 'a\nb\n' >"$T/reply"
	listen srv2 "$T/s2" <"$T/reply"
	check_eq "received" "$(printf 'a\nb' | od -c)" \
		"$(timeout 20 "$UCAT" -C "$T/s2" </dev/null | head -c 3 | od -c)"
	# Where stdin sends nothing, or lines: nothing for -C to do.
	run timeout 20 "$UCAT" -C -l "$T/a" "$T/b"
	check_eq "relay status" 2 "$status"
	run timeout 20 "$UCAT" -C -u -L "$T/a"
	check_eq "-L status" 2 "$status"
}
