#!/usr/bin/env bats
# Listening sockets and their files: stale, live and foreign things at the
# path, -m and the umask, removal at exit, one connection, and -s.

load helpers

# mode_of UMASK ARGS...: the mode of the socket file of "ucat -l ARGS $T/s"
# started under UMASK, in MODE; the listener is then served and ended.
mode_of() {
	local mask=$1 saved
	shift
	saved=$(umask)
	umask "$mask"
	listen srv "$@" "$T/s" </dev/null
	umask "$saved"
	MODE=$(stat -c %a "$T/s")
	echo x | timeout 20 "$UCAT" "$T/s"
	finish srv
	check_eq "listener status" 0 "$STATUS"
}

@test "listen: a stale socket file is replaced" {
	stale "$T/s"
	[ -S "$T/s" ]
	listen srv "$T/s" </dev/null
	# The file now belongs to the new listener: it accepts.
	echo data | timeout 20 "$UCAT" "$T/s"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq received data "$(cat "$T/srv.out")"
	grep -q "listening on $T/s" "$T/srv.err"
	[ ! -e "$T/s" ]
}

@test "listen: a live listener is left alone: address in use" {
	listen first "$T/s" </dev/null
	before=$(stat -c %i "$T/s")
	STATUS=0
	timeout 20 "$UCAT" -l "$T/s" </dev/null >"$T/out" 2>"$T/err" ||
		STATUS=$?
	check_eq status 1 "$STATUS"
	check_eq stderr "ucat: $T/s: address in use" "$(cat "$T/err")"
	check_eq inode "$before" "$(stat -c %i "$T/s")"
	kill -0 "$first_PID"
	# The probe was no connection: the first listener still has its one
	# connection to give, and gives it to the next real client.
	check_eq "connections so far" 0 \
		"$(grep -c 'connection from' "$T/first.err")"
	printf 'after the probe\n' | timeout 20 "$UCAT" "$T/s"
	finish first
	check_eq status 0 "$STATUS"
	check_eq received 'after the probe' "$(cat "$T/first.out")"
	check_eq connections 1 "$(grep -c 'connection from' "$T/first.err")"
}

@test "listen: a regular file at the path is refused and kept" {
	printf 'precious\n' >"$T/s"
	refused_untouched "$T/s" -l "$T/s"
	check_eq content precious "$(cat "$T/s")"
}

@test "listen: a directory at the path is refused and kept" {
	mkdir "$T/s"
	touch "$T/s/inside"
	refused_untouched "$T/s" -l "$T/s"
	[ -f "$T/s/inside" ]
}

@test "listen: a symlink to a file is refused, link and file kept" {
	printf 'precious\n' >"$T/file"
	ln -s "$T/file" "$T/s"
	refused_untouched "$T/s" -l "$T/s"
	check_eq content precious "$(cat "$T/file")"
}

@test "listen: a symlink to a socket is refused, link and socket kept" {
	stale "$T/sock"
	ino=$(stat -c %i "$T/sock")
	ln -s "$T/sock" "$T/s"
	refused_untouched "$T/s" -l "$T/s"
	[ -S "$T/sock" ]
	check_eq "socket inode" "$ino" "$(stat -c %i "$T/sock")"
}

@test "listen: a dangling symlink is refused and kept" {
	ln -s "$T/nowhere" "$T/s"
	refused_untouched "$T/s" -l "$T/s"
	[ ! -e "$T/nowhere" ]
	[ ! -L "$T/nowhere" ]
}

@test "listen: a path in a missing directory fails naming it" {
	STATUS=0
	timeout 20 "$UCAT" -l "$T/nodir/s" </dev/null 2>"$T/err" || STATUS=$?
	check_eq status 1 "$STATUS"
	check_eq lines 1 "$(wc -l <"$T/err")"
	grep -q "^ucat: .*$T/nodir/s" "$T/err"
	[ ! -e "$T/nodir" ]
}

@test "listen: -m gives exactly that mode under umask 022 and 077" {
	for mask in 022 077; do
		for m in 600 660 666; do
			mode_of "$mask" -m "$m"
			check_eq "mode with -m $m under umask $mask" \
				"$m" "$MODE"
		done
	done
}

@test "listen: without -m the umask sets the mode" {
	mode_of 022
	check_eq "mode under umask 022" 755 "$MODE"
	mode_of 077
	check_eq "mode under umask 077" 700 "$MODE"
	mode_of 027
	check_eq "mode under umask 027" 750 "$MODE"
}

@test "listen: the socket file is removed at normal exit" {
	listen srv "$T/s" </dev/null
	[ -S "$T/s" ]
	echo bye | timeout 20 "$UCAT" "$T/s"
	finish srv
	check_eq status 0 "$STATUS"
	[ ! -e "$T/s" ]
}

@test "listen: --keep-file leaves the socket file" {
	listen srv --keep-file "$T/s" </dev/null
	echo bye | timeout 20 "$UCAT" "$T/s"
	finish srv
	check_eq status 0 "$STATUS"
	[ -S "$T/s" ]
	# What is left is stale: the next listener takes it over.
	listen again "$T/s" </dev/null
	echo again | timeout 20 "$UCAT" "$T/s"
	finish again
	check_eq received again "$(cat "$T/again.out")"
}

# replaced KIND: while the listener serves a client, KIND (socket or file)
# is moved over its path; at the listener's normal exit it must survive.
# Fd 4 holds the client's stdin (a fifo) open until the test closes it, so
# no other process may inherit it.
replaced() {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	listen srv "$T/s" </dev/null 4>&-
	spawn cli "$UCAT" "$T/s" <"$T/in" 4>&-
	wait_for srv 'connection from'
	if [ "$1" = socket ]; then
		stale "$T/new"
	else
		printf 'replacement\n' >"$T/new"
	fi
	new=$(stat -c %i "$T/new")
	mv "$T/new" "$T/s"
	exec 4>&-
	finish cli
	check_eq "client status" 0 "$STATUS"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq "inode at the path" "$new" "$(stat -c %i "$T/s")"
}

@test "listen: a socket moved over the path survives the listener's exit" {
	replaced socket
	[ -S "$T/s" ]
}

@test "listen: a file moved over the path survives the listener's exit" {
	replaced file
	check_eq content replacement "$(cat "$T/s")"
}

@test "listen: after its one connection further clients are refused" {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	listen srv "$T/s" <"$T/in" 4>&-
	spawn cli "$UCAT" -d "$T/s" </dev/null 4>&-
	wait_for srv 'connection from'
	STATUS=0
	timeout 20 "$UCAT" "$T/s" </dev/null >"$T/out" 2>"$T/err" || STATUS=$?
	check_eq "second client status" 1 "$STATUS"
	check_eq stderr "ucat: connect $T/s: Connection refused" \
		"$(cat "$T/err")"
	# The first connection is unharmed.
	echo still-served >&4
	exec 4>&-
	finish cli
	check_eq "client status" 0 "$STATUS"
	check_eq "client got" still-served "$(cat "$T/cli.out")"
	finish srv
	check_eq "listener status" 0 "$STATUS"
	check_eq connections 1 "$(grep -c 'connection from' "$T/srv.err")"
}

@test "listen: -s on a client replaces a stale socket and binds there" {
	stale "$T/c"
	spawn srv python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("ready", file=sys.stderr, flush=True)
c, _ = s.accept()
data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
print(c.getpeername(), data.decode(), end="")' "$T/s"
	wait_for srv ready
	echo hi | timeout 20 "$UCAT" -s "$T/c" "$T/s"
	finish srv
	check_eq "server status" 0 "$STATUS"
	check_eq "peer name and data" "$T/c hi" "$(cat "$T/srv.out")"
	# The client's own file goes with it.
	[ ! -e "$T/c" ]
}

@test "listen: -s on a client refuses a non-socket and keeps it" {
	printf 'precious\n' >"$T/c"
	listen srv "$T/s" </dev/null
	refused_untouched "$T/c" -s "$T/c" "$T/s"
	check_eq content precious "$(cat "$T/c")"
	check_eq connections 0 "$(grep -c 'connection from' "$T/srv.err")"
}
