# helpers.bash: what every ucat test file shares.
#
# Each test gets its own directory $T.  Background processes are started
# with spawn, which bounds them in time (timeout) and records their PID;
# teardown ends those PIDs and nothing else.

UCAT=${UCAT:-$BATS_TEST_DIRNAME/../src/ucat}
TESTS_DIR=${TESTS_DIR:-$BATS_TEST_DIRNAME}
# A background process is killed after this many seconds whatever happens.
BG_LIMIT=${BG_LIMIT:-60}

# python3 is the system's where there is one: a version manager's shim in
# front of it (pyenv's) costs most of a second a start, and the peers and
# wrappers here start python thousands of times.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]
then
	mkdir -p "$BATS_RUN_TMPDIR/bin" &&
		ln -sfn /usr/bin/python3 "$BATS_RUN_TMPDIR/bin/python3" &&
		PATH=$BATS_RUN_TMPDIR/bin:$PATH
fi

# make check-copy: every ucat on the read/write path (--no-splice).
# make check-valgrind: every ucat under memcheck; reports fail the test.
if [ -n "${UCAT_VALGRIND:-}" ]; then
	export UCAT_REAL=${UCAT_REAL:-$UCAT}
	UCAT=$TESTS_DIR/ucat-valgrind
elif [ -n "${UCAT_NO_SPLICE:-}" ]; then
	export UCAT_REAL=${UCAT_REAL:-$UCAT}
	UCAT=$TESTS_DIR/ucat-no-splice
fi

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ucat.XXXXXX")
	PIDS=()
	if [ -n "${UCAT_VALGRIND:-}" ]; then
		export UCAT_VALGRIND_LOGS=$T/valgrind
		mkdir "$UCAT_VALGRIND_LOGS"
	fi
}

teardown() {
	local pid clean=0
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	valgrind_clean || clean=$?
	rm -rf "$T"
	return "$clean"
}

# valgrind_clean: under check-valgrind, fail on any report of memcheck.
valgrind_clean() {
	local f found=0
	[ -n "${UCAT_VALGRIND:-}" ] || return 0
	for f in "$UCAT_VALGRIND_LOGS"/*; do
		[ -s "$f" ] || continue
		echo "valgrind: ${f##*/}:" >&2
		cat "$f" >&2
		found=1
	done
	return "$found"
}

# spawn NAME CMD...: run CMD in the background with the caller's stdin,
# stdout in $T/NAME.out, stderr in $T/NAME.err; its PID in NAME_PID.
spawn() {
	local name=$1
	shift
	# Emptied here, not in the child: a reused NAME must not show old lines.
	: >"$T/$name.out"
	: >"$T/$name.err"
	timeout -k 2 "$BG_LIMIT" "$@" <&0 >>"$T/$name.out" 2>>"$T/$name.err" 3>&- &
	PIDS+=("$!")
	printf -v "${name}_PID" '%s' "$!"
}

# wait_for NAME PATTERN: until $T/NAME.err holds PATTERN (a ucat started
# with -v says "listening on" once it accepts), or fail if NAME died.
wait_for() {
	local name=$1 pattern=$2 pid_var="${1}_PID" i
	for ((i = 0; i < 1000; i++)); do
		grep -q -- "$pattern" "$T/$name.err" 2>/dev/null && return 0
		if ! kill -0 "${!pid_var}" 2>/dev/null; then
			grep -q -- "$pattern" "$T/$name.err" 2>/dev/null && return 0
			echo "$name exited before '$pattern':" >&2
			cat "$T/$name.err" >&2
			return 1
		fi
		sleep 0.01
	done
	echo "timed out waiting for '$pattern' from $name" >&2
	return 1
}

# listen NAME ARGS...: start "ucat -v -l ARGS" as NAME, wait until it listens.
listen() {
	local name=$1
	shift
	spawn "$name" "$UCAT" -v -l "$@"
	wait_for "$name" 'listening on'
}

# relay NAME ARGS...: start "ucat -v ARGS" as NAME and wait until it
# listens (ARGS has -l).
relay() {
	local name=$1
	shift
	spawn "$name" "$UCAT" -v "$@"
	wait_for "$name" 'listening on'
}

# connections NAME: how many clients NAME (a ucat -v listener) saw.
connections() {
	grep -c 'connection from' "$T/$1.err" || true
}

# ucat_of NAME: the PID of the ucat that spawn started as NAME: the one
# child of the timeout that spawn puts on top (found by parent alone, so
# that a ucat run by valgrind is found too).  Call it once NAME has said
# something.
ucat_of() {
	local pid_var="${1}_PID"
	pgrep -P "${!pid_var}"
}

# zombies PID: how many children of PID are zombies.
zombies() {
	ps --ppid "$1" -o stat= | grep -c '^Z' || true
}

# ready PATH: until something accepts on PATH (for servers that say
# nothing useful when they listen).  The probe connects and closes.
ready() {
	timeout 60 "$UCAT" -z --wait 30 "$1"
}

# nginx_start: nginx serving $T/www on $T/nginx.sock, everything it
# writes under $T.
nginx_start() {
	local user=
	mkdir -p "$T/www" "$T/tmp"
	# As root, nginx's workers would drop to www-data, which cannot
	# enter $T (mode 700).
	[ "$(id -u)" != 0 ] || user='user root;'
	cat >"$T/nginx.conf" <<-EOF
		$user
		worker_processes 1;
		pid $T/nginx.pid;
		error_log $T/nginx-error.log notice;
		events { worker_connections 256; }
		http {
			access_log $T/nginx-access.log;
			client_body_temp_path $T/tmp/body;
			proxy_temp_path $T/tmp/proxy;
			fastcgi_temp_path $T/tmp/fastcgi;
			uwsgi_temp_path $T/tmp/uwsgi;
			scgi_temp_path $T/tmp/scgi;
			default_type application/octet-stream;
			server {
				listen unix:$T/nginx.sock;
				root $T/www;
			}
		}
	EOF
	spawn nginx nginx -c "$T/nginx.conf" -p "$T/" -e "$T/nginx-error.log" \
		-g 'daemon off;' </dev/null
	ready "$T/nginx.sock"
}

# redis_start: redis-server on $T/redis.sock, no persistence.
redis_start() {
	spawn redis redis-server --port 0 --unixsocket "$T/redis.sock" \
		--save '' --appendonly no --daemonize no --dir "$T" </dev/null
	ready "$T/redis.sock"
}

# full_listener NAME PATH: start, as NAME, a listener on PATH with a
# backlog of 0 that never accepts, and wait until connections to it have
# filled it up: the next connect waits.
full_listener() {
	spawn "$1" python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(0)
held = []
while True:
    c = socket.socket(socket.AF_UNIX)
    c.setblocking(False)
    try:
        c.connect(sys.argv[1])
    except BlockingIOError:
        break
    held.append(c)
print("full after %d" % len(held), file=sys.stderr, flush=True)
time.sleep(60)' "$2"
	wait_for "$1" 'full after [1-9]'
}

# finish NAME: wait for NAME to exit; its status in STATUS.  Its PID is
# then forgotten: teardown must not signal a number the system reused.
finish() {
	local pid_var="${1}_PID" p keep=()
	STATUS=0
	wait "${!pid_var}" || STATUS=$?
	for p in "${PIDS[@]}"; do
		[ "$p" = "${!pid_var}" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# until_gone PATH: wait (bounded) for PATH to disappear.
until_gone() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ -e "$1" ] || [ -L "$1" ] || return 0
		sleep 0.01
	done
	return 1
}

# wait_out NAME PATTERN: until $T/NAME.out holds PATTERN.
wait_out() {
	local i
	for ((i = 0; i < 1000; i++)); do
		grep -q -- "$2" "$T/$1.out" 2>/dev/null && return 0
		sleep 0.01
	done
	echo "timed out waiting for '$2' on $1's stdout:" >&2
	cat "$T/$1.out" "$T/$1.err" >&2
	return 1
}

# wait_sock PATH: until a socket file exists at PATH.
wait_sock() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.01
	done
	echo "timed out waiting for socket $1" >&2
	return 1
}

# stale PATH: leave a socket file that nobody is bound to any more.
stale() {
	python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}

# ident PATH: type, inode, mode, owner and link target of PATH itself
# (not followed).
ident() {
	stat -c '%F %i %a %U' "$1" && { readlink "$1" || true; }
}

# refused_untouched PATH ARGS...: "ucat ARGS" fails with exit 1 and the
# "not a socket" line about PATH, and PATH is still the very same thing.
refused_untouched() {
	local path=$1 before
	shift
	before=$(ident "$path")
	STATUS=0
	timeout 20 "$UCAT" "$@" </dev/null >"$T/out" 2>"$T/err" ||
		STATUS=$?
	check_eq "status of ucat $*" 1 "$STATUS"
	check_eq "stderr of ucat $*" \
		"ucat: $path: exists and is not a socket; not touching it" \
		"$(cat "$T/err")"
	check_eq "what is at $path" "$before" "$(ident "$path")"
}

# A user and group that are not ours, for running a peer as someone else.
NOBODY_UID=$(id -u nobody 2>/dev/null || echo 65534)
NOBODY_GID=$(id -g nobody 2>/dev/null || echo 65534)

# need_nobody: skip unless we are root and can run ucat as nobody.  $T is
# opened up so that nobody can reach what the test puts in it.
need_nobody() {
	[ "$(id -u)" = 0 ] || skip "running a peer as another user needs root"
	need setpriv
	chmod 755 "$T"
	as_nobody test -x "$UCAT" ||
		skip "nobody cannot run $UCAT (a parent directory is closed)"
}

as_nobody() {
	setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups "$@"
}

# race_setup: $T/race, another user's directory, holds a directory d and a
# link x to $T/victim, root's own and closed, holding the file target;
# that user exchanges d and x as fast as it can.
race_setup() {
	need_nobody
	mkdir -m 700 "$T/victim"
	printf 'precious\n' >"$T/victim/target"
	mkdir "$T/race"
	chown "$NOBODY_UID:$NOBODY_GID" "$T/race"
	as_nobody mkdir "$T/race/d"
	as_nobody ln -s "$T/victim" "$T/race/x"
	# The system's python3: one under root's home is not nobody's.
	local py=/usr/bin/python3
	[ -x "$py" ] || py=$(command -v python3) || skip "python3 is not installed"
	as_nobody "$py" -c '' 2>/dev/null || skip "nobody cannot run $py"
	spawn swap setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" \
		--clear-groups "$py" "$TESTS_DIR/swap.py" swap "$T/race/d" \
		"$T/race/x"
	wait_for swap swapping
}

# race_tries N: N runs of ucat -l at $T/race/d/target while the race goes
# on, then N with --keep-file (each leaves a stale socket for the next);
# the victim must be whole and its directory hold no socket.
race_tries() {
	run timeout 600 python3 "$TESTS_DIR/swap.py" tries "$1" "$UCAT" \
		"$T/race/d/target" "$T/victim/target" -l
	check_eq "runs without --keep-file" 0 "$status" || { echo "$output"; false; }
	[ "$output" -gt 0 ]
	run timeout 600 python3 "$TESTS_DIR/swap.py" tries "$1" "$UCAT" \
		"$T/race/d/target" "$T/victim/target" -l --keep-file
	check_eq "runs with --keep-file" 0 "$status" || { echo "$output"; false; }
	[ "$output" -gt 0 ]
	check_eq victim precious "$(cat "$T/victim/target")"
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

# need_feature NAME...: skip unless this ucat was built with each NAME of
# the "features:" line of ucat -V (abstract, peercred, passcred, splice,
# sendfile, mmsg, seccomp, landlock, tap), so that a build without them runs what still applies.
need_feature() {
	local f
	for f in "$@"; do
		has_feature "$f" || skip "this ucat is built without $f"
	done
}

has_feature() {
	: "${UCAT_FEATURES:=$("${UCAT_REAL:-$UCAT}" -V | sed -n 's/^features://p') }"
	[[ "$UCAT_FEATURES " == *" $1 "* ]]
}

# check CONDITION-DESCRIPTION EXPECTED ACTUAL: compare and explain.
check_eq() {
	if [ "$2" != "$3" ]; then
		printf '%s: expected [%s], got [%s]\n' "$1" "$2" "$3" >&2
		return 1
	fi
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}
