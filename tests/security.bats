#!/usr/bin/env bats
# Security: symlinks at ucat's paths are never followed, directories it may
# not write give clear errors, -m is never more open for an instant, refused
# peers never reach the program, the program inherits nothing of ucat but
# the socket, and -e runs no shell.  (The basic symlink cases at a
# listening path are in listen.bats.)

load helpers

@test "security: symlinks at -s are never followed: file, socket, dir, none" {
	listen srv "$T/s" </dev/null
	printf 'precious\n' >"$T/file"
	stale "$T/sock"
	mkdir "$T/dir"
	ln -s "$T/file" "$T/to-file"
	ln -s "$T/sock" "$T/to-sock"
	ln -s "$T/dir" "$T/to-dir"
	ln -s "$T/nowhere" "$T/dangling"
	local sock_before link
	sock_before=$(ident "$T/sock")
	for link in to-file to-sock to-dir dangling; do
		refused_untouched "$T/$link" -s "$T/$link" "$T/s"
		refused_untouched "$T/$link" -u -s "$T/$link" "$T/s"
	done
	check_eq content precious "$(cat "$T/file")"
	check_eq "the socket behind a link" "$sock_before" "$(ident "$T/sock")"
	check_eq "the directory behind a link" "" "$(ls -A "$T/dir")"
	[ ! -e "$T/nowhere" ] && [ ! -L "$T/nowhere" ]
	# No attempt got as far as connecting.
	check_eq connections 0 "$(grep -c 'connection from' "$T/srv.err")"
}

@test "security: a symlink to a directory at the listening path is refused" {
	mkdir "$T/dir"
	ln -s "$T/dir" "$T/s"
	refused_untouched "$T/s" -l "$T/s"
	refused_untouched "$T/s" -l -u "$T/s"
	check_eq "the directory" "" "$(ls -A "$T/dir")"
}

# swapped HOW: while a listener serves a client, its socket file is moved
# aside under another name and a symlink to it is put at the path: the
# link leads to the very inode ucat created, so following it would match.
# When the listener ends (HOW: exit or SIGTERM), the link must survive.
swapped() {
	rm -f "$T/s" "$T/moved" "$T/link" "$T/in"
	mkfifo "$T/in"
	exec 4<>"$T/in"
	listen srv "$T/s" </dev/null 4>&-
	spawn cli "$UCAT" "$T/s" <"$T/in" 4>&-
	wait_for srv 'connection from'
	mv "$T/s" "$T/moved"
	ln -s "$T/moved" "$T/link"
	mv -T "$T/link" "$T/s"
	[ "$(stat -L -c %i "$T/s")" = "$(stat -c %i "$T/moved")" ]
	if [ "$1" = SIGTERM ]; then
		kill -TERM "$(ucat_of srv)"
	fi
	exec 4>&-
	finish cli
	finish srv
	check_eq "link at the path after $1" "$T/moved" "$(readlink "$T/s")"
	[ -S "$T/moved" ]
}

@test "security: a symlink put over the listening socket outlives ucat" {
	swapped exit
	swapped SIGTERM
}

@test "security: a symlink put over a client's -s socket survives its exit" {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	listen srv "$T/s" </dev/null 4>&-
	spawn cli "$UCAT" -v -s "$T/c" "$T/s" <"$T/in" 4>&-
	wait_for cli 'connected to'
	mv "$T/c" "$T/moved"
	ln -s "$T/moved" "$T/link"
	mv -T "$T/link" "$T/c"
	exec 4>&-
	finish cli
	check_eq "client status" 0 "$STATUS"
	check_eq "link at the -s path" "$T/moved" "$(readlink "$T/c")"
	[ -S "$T/moved" ]
}

@test "security: a directory nobody may write: clear errors, nothing touched" {
	need_nobody
	mkdir -m 755 "$T/ro"
	stale "$T/ro/stale"
	local before
	before=$(ident "$T/ro/stale")

	run as_nobody timeout 20 "$UCAT" -l "$T/ro/s"
	check_eq "listen status" 1 "$status"
	check_eq "listen error" "ucat: listen on $T/ro/s: Permission denied" \
		"$output"
	[ ! -e "$T/ro/s" ]

	run as_nobody timeout 20 "$UCAT" -u -s "$T/ro/c" "$T/nowhere"
	check_eq "-s status" 1 "$status"
	check_eq "-s error" "ucat: bind $T/ro/c: Permission denied" "$output"
	[ ! -e "$T/ro/c" ]

	# A stale socket of root's there: not ours to replace.
	run as_nobody timeout 20 "$UCAT" -l "$T/ro/stale"
	check_eq "stale status" 1 "$status"
	check_eq "stale error" \
		"ucat: listen on $T/ro/stale: Permission denied" "$output"
	check_eq "the stale socket" "$before" "$(ident "$T/ro/stale")"
}

@test "security: in a sticky directory another user's stale socket is kept" {
	need_nobody
	mkdir -m 1777 "$T/tmp"
	stale "$T/tmp/s"
	chmod 777 "$T/tmp/s"
	local before
	before=$(ident "$T/tmp/s")
	run as_nobody timeout 20 "$UCAT" -l "$T/tmp/s"
	check_eq status 1 "$status"
	check_eq error "ucat: listen on $T/tmp/s: Operation not permitted" \
		"$output"
	check_eq "root's stale socket" "$before" "$(ident "$T/tmp/s")"
	# nobody's own file there is fine, and goes at exit.
	echo hi | as_nobody timeout 20 "$UCAT" -u -s "$T/tmp/c" \
		@ucat-$BATS_TEST_NUMBER-$$-$RANDOM 2>/dev/null || true
	[ ! -e "$T/tmp/c" ]
}

@test "security: -m 600 is never seen more open, 300 listeners under inotify" {
	need python3
	mkdir "$T/w"
	cat >"$T/watch.py" <<-'EOF'
		# watch.py DIR ROUNDS CMD...: run CMD (which creates DIR/s)
		# ROUNDS times under umask 000, 022 and 077 in turn, while
		# inotify watches DIR and a thread stats DIR/s without pause.
		# Each time DIR/s appears, connect once so the listener ends.
		# Prints the modes seen and "attrib N": changes of mode, owner
		# or times after birth.
		import ctypes, os, socket, struct, subprocess, sys
		import threading, time
		IN_CREATE, IN_ATTRIB, IN_DELETE = 0x100, 0x4, 0x200
		d, rounds, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
		path = os.path.join(d, "s")
		libc = ctypes.CDLL(None, use_errno=True)
		ino = libc.inotify_init1(os.O_CLOEXEC)
		if ino < 0 or libc.inotify_add_watch(ino, d.encode(),
		        IN_CREATE | IN_ATTRIB | IN_DELETE) < 0:
		    sys.exit("inotify: " + os.strerror(ctypes.get_errno()))
		modes, attrib, done = set(), 0, False

		def racer():
		    while not done:
		        try:
		            modes.add(oct(os.lstat(path).st_mode & 0o7777))
		        except FileNotFoundError:
		            pass
		threading.Thread(target=racer, daemon=True).start()

		def events():
		    buf = os.read(ino, 65536)
		    while buf:
		        _, mask, _, n = struct.unpack("iIII", buf[:16])
		        yield mask, buf[16:16 + n].rstrip(b"\0")
		        buf = buf[16 + n:]

		def poke():
		    # The file is there from bind(), accepting from listen();
		    # a busy machine may put ucat to sleep in between.
		    end = time.monotonic() + 30
		    while time.monotonic() < end:
		        c = socket.socket(socket.AF_UNIX)
		        try:
		            c.connect(path)
		            return
		        except ConnectionRefusedError:
		            time.sleep(0.001)
		        finally:
		            c.close()
		    sys.exit("never accepted")

		for r in range(rounds):
		    os.umask((0o000, 0o022, 0o077)[r % 3])
		    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
		    try:
		        gone = False
		        while not gone:
		            for mask, name in events():
		                if name != b"s":
		                    continue
		                if mask & IN_CREATE:
		                    mode = os.lstat(path).st_mode & 0o7777
		                    modes.add(oct(mode))
		                    poke()
		                elif mask & IN_ATTRIB:
		                    attrib += 1
		                elif mask & IN_DELETE:
		                    gone = True
		        p.wait()
		    finally:
		        if p.poll() is None:
		            p.kill()
		            p.wait()
		done = True
		print(" ".join(sorted(modes)), "attrib", attrib)
	EOF
	# 300 listeners one after another: the limit is a hang guard.
	run timeout 300 python3 "$T/watch.py" "$T/w" 300 \
		"$UCAT" -l -m 600 "$T/w/s"
	check_eq status 0 "$status"
	check_eq "modes seen, changes after birth" "0o600 attrib 0" "$output"
	[ ! -e "$T/w/s" ]
	# The watcher does see a mode set after bind (socat's perm=).
	if command -v socat >/dev/null; then
		run timeout 20 python3 "$T/watch.py" "$T/w" 3 \
			socat "UNIX-LISTEN:$T/w/s,perm=0600" STDIO
		[[ $output == *"attrib 3" ]]
	fi
}

@test "security: --allow-uid refusals never reach the program" {
	need_feature peercred
	need_nobody
	# Root's server lets in root only; its program logs every peer.
	listen srv -k -m 666 --allow-uid 0 "$T/s" \
		-c "echo \"\$UNIXREMOTEEUID\" >>$T/ran; cat"
	local i
	for ((i = 0; i < 20; i++)); do
		spawn "bad$i" setpriv --reuid="$NOBODY_UID" \
			--regid="$NOBODY_GID" --clear-groups \
			"$UCAT" "$T/s" <<<"secret-$i"
		if ((i % 4 == 0)); then
			run timeout 20 "$UCAT" "$T/s" <<<"ok-$i"
			check_eq "reply to root's client $i" "ok-$i" "$output"
		fi
	done
	for ((i = 0; i < 20; i++)); do
		finish "bad$i"
		check_eq "refused client $i got" "" "$(cat "$T/bad$i.out")"
	done
	wait_for srv "refused pid [0-9]* uid $NOBODY_UID"
	check_eq "peers the program saw" "$(printf '0\n%.0s' 1 2 3 4 5)" \
		"$(cat "$T/ran")"
	check_eq refusals 20 "$(grep -c "refused pid [0-9]* uid $NOBODY_UID" \
		"$T/srv.err")"
	check_eq "secrets anywhere" "" \
		"$(grep -rl secret "$T" --exclude='bad*' || true)"

	# A one-shot listener without a program: a refused peer's bytes never
	# reach stdout, and the listener goes on to serve an allowed one.
	listen one -m 666 --allow-uid 0 "$T/one" </dev/null
	as_nobody timeout 20 "$UCAT" "$T/one" <<<"secret" || true
	wait_for one "refused pid [0-9]* uid $NOBODY_UID"
	echo allowed | timeout 20 "$UCAT" "$T/one"
	finish one
	check_eq "one-shot status" 0 "$STATUS"
	check_eq "one-shot stdout" allowed "$(cat "$T/one.out")"
}

# fds_py: write $T/fds.py, which prints each fd it holds and where it
# leads, then reads its stdin to the end (holding the connection).
fds_py() {
	cat >"$T/fds.py" <<-'EOF'
		import os, sys
		for fd in sorted(int(f) for f in os.listdir("/proc/self/fd")):
		    try:
		        print(fd, os.readlink("/proc/self/fd/%d" % fd))
		    except OSError:
		        pass  # the directory listdir had open
		sys.stdout.flush()
		sys.stdin.buffer.read()
	EOF
}

# bare NAME ARGS...: like listen, but ucat starts with fds 0, 1 and 2 only,
# so that whatever else its programs hold can only come from ucat itself.
bare() {
	local name=$1
	shift
	spawn "$name" python3 -c 'import os, sys
os.closerange(3, 65536)
os.execv(sys.argv[1], sys.argv[1:])' "$UCAT" -v -l "$@"
	wait_for "$name" 'listening on'
}

@test "security: -k -e programs hold the socket and stderr, nothing else" {
	need python3
	fds_py
	mkfifo "$T/in"
	exec 4<>"$T/in"
	bare srv -k "$T/s" -e "python3 $T/fds.py" </dev/null 4>&-
	local i n lsock
	# Five clients at once, each holding its connection open.
	for ((i = 0; i < 5; i++)); do
		spawn "c$i" "$UCAT" "$T/s" <"$T/in" 4>&-
	done
	for ((i = 0; i < 5; i++)); do
		for ((n = 0; n < 1000; n++)); do
			[ "$(wc -l <"$T/c$i.out")" -ge 3 ] && break
			sleep 0.01
		done
	done
	lsock=$(readlink "/proc/$(ucat_of srv)/fd/"* |
		grep socket:)
	exec 4>&-
	local sock seen=()
	for ((i = 0; i < 5; i++)); do
		finish "c$i"
		sock=$(sed -n 's/^0 //p' "$T/c$i.out")
		[[ $sock == socket:* ]]
		check_eq "fds of program $i" "$(printf '0 %s\n1 %s\n2 %s' \
			"$sock" "$sock" "$T/srv.err")" "$(cat "$T/c$i.out")"
		[ "$sock" != "$lsock" ]
		seen+=("$sock")
	done
	check_eq "different connections" 5 \
		"$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)"
}

@test "security: a datagram program holds its pipes and stderr, no socket" {
	need python3
	fds_py
	bare srv -u "$T/d" -e "python3 $T/fds.py" </dev/null
	run timeout 20 python3 - "$T/d" "$T/c" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		s.bind(sys.argv[2])
		s.settimeout(10)
		s.sendto(b"x", sys.argv[1])
		sys.stdout.write(s.recv(4096).decode())
	EOF
	check_eq status 0 "$status"
	check_eq "fds of the program" 3 "$(wc -l <<<"$output")"
	[[ $(sed -n 1p <<<"$output") == "0 pipe:"* ]]
	[[ $(sed -n 2p <<<"$output") == "1 pipe:"* ]]
	check_eq "fd 2" "2 $T/srv.err" "$(sed -n 3p <<<"$output")"
}

@test "security: -e runs its words as they are, only -c starts sh (strace)" {
	need strace
	strace -f -qq -e trace=execve -o /dev/null true 2>/dev/null ||
		skip "strace cannot trace here"
	local cmd="echo a;touch>$T/pwned|id \$(touch $T/pwned2) * \`id\`"
	spawn srv strace -f -qq -e trace=execve,execveat -o "$T/trace" \
		"$UCAT" -v -l "$T/s" -e "$cmd"
	wait_for srv 'listening on'
	run timeout 20 "$UCAT" "$T/s" </dev/null
	check_eq reply "a;touch>$T/pwned|id \$(touch $T/pwned2) * \`id\`" \
		"$output"
	finish srv
	[ ! -e "$T/pwned" ] && [ ! -e "$T/pwned2" ]
	# What ucat started: echo, found through PATH; never a shell.  (Its
	# own execve may come after a wrapper's: take the last one.)
	local upid
	upid=$(grep -E '^[0-9]+ +execve\("[^"]*/ucat", .*\) = 0$' "$T/trace" |
		tail -n 1 | cut -d' ' -f1)
	[ -n "$upid" ]
	check_eq "programs ucat started" echo \
		"$(grep -E '^[0-9]+ +execve(at)?\(.*\) = 0$' "$T/trace" |
			awk -v u="$upid" '$1 != u' |
			sed -E 's/.*execve(at)?\("([^"]*)".*/\2/; s,.*/,,')"

	# With -c it is /bin/sh, given the command as one argument.
	spawn srv2 strace -f -qq -e trace=execve -o "$T/trace2" \
		"$UCAT" -v -l "$T/s2" -c 'echo $((6 * 7))'
	wait_for srv2 'listening on'
	run timeout 20 "$UCAT" "$T/s2" </dev/null
	check_eq "reply through sh" 42 "$output"
	finish srv2
	# The command is one argument of sh -c (which sh: the next test).
	local want='execve\("[^"]*/sh", \["[^"]*sh", "-c", ("--", )?'
	want+='"echo \$\(\(6 \* 7\)\)"\], .*\) = 0$'
	grep -E -q "^[0-9]+ +$want" "$T/trace2"
}

@test "security: -c runs /bin/sh, not an sh that comes first in PATH" {
	mkdir "$T/bin"
	printf '#!/bin/sh\necho fake-sh\n' >"$T/bin/sh"
	chmod +x "$T/bin/sh"
	PATH="$T/bin:$PATH" listen srv "$T/s" -c 'echo real-sh'
	run timeout 20 "$UCAT" "$T/s" </dev/null
	check_eq reply real-sh "$output"
	finish srv
	check_eq status 0 "$STATUS"
}

@test "security: an -e program name with shell syntax is just a missing file" {
	run timeout 20 "$UCAT" -l "$T/s" -e "\$(id>$T/pwned)" </dev/null
	check_eq status 2 "$status"
	check_eq error \
		"ucat: -e \$(id>$T/pwned): No such file or directory" "$output"
	[ ! -e "$T/pwned" ]
	[ ! -e "$T/s" ]
}

@test "security: a directory swapped for a link meanwhile leads nothing astray" {
	race_setup
	# The exit cleanup, then the replacement of a stale socket with
	# --keep-file.
	race_tries 400
}

# theirs: $T/theirs, nobody's directory, holding nobody's directory d and
# nobody's link to $T/real (root's).
theirs() {
	need_nobody
	mkdir "$T/theirs" "$T/real"
	chown "$NOBODY_UID:$NOBODY_GID" "$T/theirs"
	as_nobody mkdir "$T/theirs/d"
	as_nobody ln -s "$T/real" "$T/theirs/link"
}

# refused_link WHAT ARGS...: "ucat ARGS" exits 1 saying WHAT ($T/theirs/link)
# is a link it does not follow, and leaves $T/real empty.
refused_link() {
	local what=$1
	shift
	run timeout 20 "$UCAT" "$@" </dev/null
	check_eq "status of ucat $*" 1 "$status"
	check_eq "error of ucat $*" "ucat: $what: $T/theirs/link is a symbolic link in a directory others can change; not following it" \
		"$output"
	check_eq "what is in $T/real" "" "$(ls -A "$T/real")"
}

@test "security: a link in a directory others can change is not followed" {
	theirs
	refused_link "listen on $T/theirs/link/s" -l "$T/theirs/link/s"
	refused_link "bind $T/theirs/link/c" -s "$T/theirs/link/c" "$T/none"
	refused_link "-x $T/theirs/link/dump" -l -x "$T/theirs/link/dump" "$T/s"
	refused_link "--pcap $T/theirs/link/cap" -l --pcap "$T/theirs/link/cap" \
		"$T/s"
	[ ! -e "$T/s" ]
	# A link of root's own, in root's directory, is followed.
	ln -s "$T/real" "$T/mine"
	listen srv "$T/mine/s" </dev/null
	[ -S "$T/real/s" ]
	echo hi | timeout 20 "$UCAT" "$T/mine/s"
	finish srv
	check_eq "through root's link" hi "$(cat "$T/srv.out")"
	[ ! -e "$T/real/s" ]
}

# peer_name PATH: the name a client of the listener at PATH is told it is
# connected to (getpeername): the name the kernel keeps.
peer_name() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(s.getpeername())' "$1"
}

@test "security: where others can change the way, the socket is bound from inside" {
	theirs
	need python3
	# Root's own way: the kernel keeps the whole path.
	listen mine "$T/s" </dev/null
	check_eq "name on root's way" "$T/s" "$(peer_name "$T/s")"
	# Through nobody's directory: made from inside it, by its bare name.
	listen srv -k -e 'printenv UNIXLOCALPATH' "$T/theirs/d/s"
	check_eq "said" "ucat: listening on $T/theirs/d/s" "$(cat "$T/srv.err")"
	check_eq "name through theirs" s "$(peer_name "$T/theirs/d/s")"
	check_eq "UNIXLOCALPATH" "$T/theirs/d/s" \
		"$(timeout 20 "$UCAT" "$T/theirs/d/s" </dev/null)"
	kill "$srv_PID"
	finish srv
	[ ! -e "$T/theirs/d/s" ]
	# A datagram -s socket is answered at the name kept: refused there.
	run timeout 20 "$UCAT" -u -s "$T/theirs/d/c" "$T/none" </dev/null
	check_eq "datagram -s status" 1 "$status"
	check_eq "datagram -s error" "ucat: -s $T/theirs/d/c: others can change $T/theirs, on the way to it, so a datagram peer's answer could go elsewhere; bind it in a directory only you and root can change" \
		"$output"
	[ ! -e "$T/theirs/d/c" ]
}

@test "security: -x and --pcap write only to a file of ucat's user, never a FIFO" {
	need_nobody
	listen srv -k "$T/s" </dev/null
	# Planted in a shared directory by another user, who can read what
	# is written there: refused, untouched.
	mkdir -m 1777 "$T/pub"
	as_nobody sh -c "umask 022; : >'$T/pub/dump'; : >'$T/pub/cap'"
	run timeout 20 "$UCAT" -x "$T/pub/dump" "$T/s" <<<secret
	check_eq "-x status" 1 "$status"
	check_eq "-x error" "ucat: -x $T/pub/dump: owned by uid $NOBODY_UID, not by ucat's user; not writing to it" \
		"$output"
	run timeout 20 "$UCAT" --pcap "$T/pub/cap" "$T/s" <<<secret
	check_eq "--pcap status" 1 "$status"
	check_eq "--pcap error" "ucat: --pcap $T/pub/cap: owned by uid $NOBODY_UID, not by ucat's user; not writing to it" \
		"$output"
	[ ! -s "$T/pub/dump" ] && [ ! -s "$T/pub/cap" ]
	# A FIFO, read or not, is never waited on.
	mkfifo "$T/fifo"
	exec 4<>"$T/fifo"
	for flag in -x --pcap; do
		run timeout 20 "$UCAT" "$flag" "$T/fifo" "$T/s" <<<secret
		check_eq "$flag FIFO status" 1 "$status"
		check_eq "$flag FIFO error" "ucat: $flag $T/fifo: not a regular file; not writing to it" \
			"$output"
	done
	exec 4>&-
	check_eq "clients served" 0 "$(connections srv)"
	# A device of root's is fine.
	echo through | timeout 20 "$UCAT" -x /dev/null "$T/s"
	wait_out srv through
}

@test "security: a failing dump is warned of once by a -k relay and all its children" {
	listen back -k -e cat "$T/back"
	# The capture's header fits the size limit, its first records not.
	spawn rel bash -c 'ulimit -f 1; exec "$@"' - "$UCAT" -v -lk \
		-x /dev/full --pcap "$T/cap" "$T/front" "$T/back"
	wait_for rel 'listening on'
	local i
	for i in 1 2 3; do
		check_eq "answer $i" "hello $i" \
			"$(timeout 20 "$UCAT" "$T/front" <<<"hello $i")"
	done
	kill "$rel_PID"
	finish rel
	check_eq "-x warnings" 1 "$(grep -c -- '-x /dev/full' "$T/rel.err")"
	check_eq "--pcap warnings" 1 \
		"$(grep -c -- "--pcap $T/cap: File too large" "$T/rel.err")"
}
