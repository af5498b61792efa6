#!/usr/bin/env bats
# The command line: help, version, usage errors (exit 2), runtime failures
# (exit 1) and the -w connect and idle timeouts.

load helpers
bats_require_minimum_version 1.5.0

# ucat_run ARGS...: run ucat in $T with no stdin; STATUS, $T/out, $T/err.
ucat_run() {
	STATUS=0
	(cd "$T" && timeout 20 "$UCAT" "$@") </dev/null >"$T/out" 2>"$T/err" ||
		STATUS=$?
}

# usage_error PATTERN ARGS...: "ucat ARGS" is a usage error (exit 2) whose
# first stderr line is "ucat: ..." and matches PATTERN (grep -E), nothing
# goes to stdout and no file appears in $T.
usage_error() {
	local pattern=$1 before
	shift
	before=$(listing)
	ucat_run "$@"
	check_eq status 2 "$STATUS"
	check_eq stdout "" "$(cat "$T/out")"
	head -n 1 "$T/err" | grep -Eq -- "^ucat: .*$pattern" || {
		echo "stderr does not match '$pattern':" >&2
		cat "$T/err" >&2
		return 1
	}
	check_eq "files in \$T" "$before" "$(listing)"
}

# listing: what $T holds besides ucat_run's own out and err.
listing() {
	ls -A "$T" | grep -vx -e out -e err || true
}

@test "cli: -h and --help print usage naming every long option, exit 0" {
	ucat_run -h
	check_eq status 0 "$STATUS"
	check_eq stderr "" "$(cat "$T/err")"
	grep -q '^usage: ucat' "$T/out"
	# Every option the parser knows (its longopts table), and at least
	# those of the contract.
	opts=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",.*/\1/p' \
		"$BATS_TEST_DIRNAME/../src/main.c")
	[ -n "$opts" ]
	for opt in $opts listen dgram seqpacket no-stdin lines mode quit-after \
	    source timeout no-shutdown keep-file verbose help version; do
		grep -q -- "--$opt\b" "$T/out" || {
			echo "--help does not mention --$opt" >&2
			return 1
		}
	done
	cp "$T/out" "$T/short"
	ucat_run --help
	check_eq status 0 "$STATUS"
	check_eq "--help same as -h" "$(cat "$T/short")" "$(cat "$T/out")"
}

@test "cli: -V and --version print the version and the features, exit 0" {
	ucat_run -V
	check_eq status 0 "$STATUS"
	check_eq version "ucat 0.1.0" "$(head -n 1 "$T/out")"
	check_eq lines 2 "$(wc -l <"$T/out")"
	# Only names the suite knows, each once.
	sed -n 's/^features://p' "$T/out" | tr ' ' '\n' | sed '/^$/d' >"$T/f"
	run ! grep -vxE 'abstract|peercred|passcred|splice|sendfile|mmsg|seccomp|landlock|tap' "$T/f"
	check_eq "each once" "$(sort -u "$T/f" | wc -l)" "$(wc -l <"$T/f")"
	check_eq stderr "" "$(cat "$T/err")"
	cp "$T/out" "$T/short"
	ucat_run --version
	check_eq status 0 "$STATUS"
	check_eq "--version same as -V" "$(cat "$T/short")" "$(cat "$T/out")"
}

@test "cli: a Linux build says it has every feature" {
	[ "$(uname -s)" = Linux ] || skip "not Linux"
	[ -z "${UCAT_PORTABLE:-}" ] || skip "a build with the features off"
	local want="abstract peercred passcred splice sendfile mmsg"
	local u=${UCAT_REAL:-$UCAT} cfg
	cfg=$(dirname "$u")/../config.h
	# The sandbox where configure found its headers (a plain musl-gcc
	# sees none), and never in an ASan build, whose run-time needs
	# calls of its own.
	[ -f "$cfg" ] || skip "no config.h beside $u"
	if ! grep -q __asan_init "$u"; then
		case $(uname -m) in
		x86_64|aarch64|riscv64)
			! grep -q '^#define HAVE_SECCOMP 1' "$cfg" ||
				want+=" seccomp" ;;
		esac
		! grep -q '^#define HAVE_LANDLOCK 1' "$cfg" ||
			want+=" landlock"
	fi
	! grep -q '^#define HAVE_LINUX_UNIX_DIAG_H 1' "$cfg" || want+=" tap"
	ucat_run -V
	check_eq features "features: $want" "$(sed -n 2p "$T/out")"
}

@test "cli: an unknown flag or a missing value is a usage error, 'ucat: ...'" {
	# The first line names the flag and starts "ucat: " however ucat was
	# invoked (here by its path), like every other message.
	usage_error "Z" -Z s
	usage_error "--bogus" --bogus s
	usage_error "w" s -w
	usage_error "--timeout" s --timeout
}

@test "cli: a missing address is a usage error" {
	usage_error "address" -l
	usage_error "address"
}

@test "cli: three addresses are a usage error (two make a relay)" {
	usage_error "at most two addresses" a b c
	usage_error "at most two addresses" -l a b c
}

@test "cli: bad numbers name the flag and the value" {
	usage_error "-w.*'abc'" -w abc s
	usage_error "-w.*'-1'" -w -1 s
	usage_error "-q.*'abc'" -q abc s
	usage_error "-m.*'999'" -l -m 999 s
	usage_error "-m.*'abc'" -l -m abc s
	# A mode is octal digits and nothing else.
	usage_error "-m.*' 755'" -l -m " 755" s
	usage_error "-m.*'[+]755'" -l -m +755 s
	usage_error "-m.*'-0'" -l -m -0 s
	usage_error "-m.*'0x1ff'" -l -m 0x1ff s
	usage_error "-m.*'8'" -l -m 8 s
	usage_error "-m.*''" -l -m "" s
	usage_error "-w.*'1x'" --timeout=1x s
}

@test "cli: -L without -u or --seqpacket is a usage error" {
	usage_error "-L" -L s
	usage_error "-L" -l -L s
}

@test "cli: -m without -l is a usage error" {
	usage_error "-m" -m 600 s
}

@test "cli: -s with -l is a usage error" {
	usage_error "-s" -l -s c s
}

@test "cli: connecting to a missing path fails naming it" {
	ucat_run "$T/missing"
	check_eq status 1 "$STATUS"
	check_eq stderr "ucat: connect $T/missing: No such file or directory" \
		"$(cat "$T/err")"
	[ ! -e "$T/missing" ]
}

@test "cli: -w bounds a connect to a listener whose backlog is full" {
	full_listener srv "$T/s"
	start=$(date +%s%N)
	ucat_run -w 1 "$T/s"
	took=$((($(date +%s%N) - start) / 1000000))
	check_eq status 1 "$STATUS"
	check_eq stderr "ucat: connect $T/s: timed out" "$(cat "$T/err")"
	# Not at once; the upper bound is only a hang guard (the status
	# already says that -w, not the guard of ucat_run, ended it).
	[ "$took" -ge 900 ] || { echo "gave up after $took ms" >&2; return 1; }
	[ "$took" -lt 15000 ] || { echo "gave up after $took ms" >&2; return 1; }
}

@test "cli: -w 1 against a silent peer ends idle with exit 1" {
	listen srv -d "$T/s" </dev/null
	start=$(date +%s%N)
	ucat_run -d -w 1 "$T/s"
	took=$((($(date +%s%N) - start) / 1000000))
	check_eq status 1 "$STATUS"
	check_eq stderr "ucat: $T/s: idle for 1 second, giving up" \
		"$(cat "$T/err")"
	[ "$took" -ge 900 ] || { echo "gave up after $took ms" >&2; return 1; }
	[ "$took" -lt 15000 ] || { echo "gave up after $took ms" >&2; return 1; }
	finish srv
	check_eq "listener status" 0 "$STATUS"
}

@test "cli: -q and -w of the same length: -q ends it, with status 0" {
	# Both start at stdin's EOF; at a tie the quit asked for wins.  No
	# half-close, so that the -d listener stays and says nothing.
	listen srv -d "$T/s" </dev/null
	ucat_run --no-shutdown -q 1 -w 1 "$T/s"
	check_eq status 0 "$STATUS"
	check_eq stderr "" "$(cat "$T/err")"
	finish srv
}

@test "cli: -w shorter than -q still gives up first" {
	listen srv -d "$T/s" </dev/null
	ucat_run --no-shutdown -q 30 -w 1 "$T/s"
	check_eq status 1 "$STATUS"
	check_eq stderr "ucat: $T/s: idle for 1 second, giving up" \
		"$(cat "$T/err")"
	finish srv
}

@test "cli: -w idle counts from the last activity, not from the start" {
	# The peer speaks at 1 s and 2 s, then stays silent: with -w 1.9 the
	# client must still be there to hear the second word.  A stall of up
	# to 0.9 s between the words is still no idle time.
	spawn srv python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("ready", file=sys.stderr, flush=True)
c, _ = s.accept()
for word in (b"one\n", b"two\n"):
    time.sleep(1)
    c.sendall(word)
time.sleep(30)' "$T/s"
	wait_for srv ready
	ucat_run -d -w 1.9 "$T/s"
	check_eq status 1 "$STATUS"
	check_eq received "$(printf 'one\ntwo')" "$(cat "$T/out")"
	check_eq stderr "ucat: $T/s: idle for 1.9 seconds, giving up" \
		"$(cat "$T/err")"
}

@test "cli: the manual is clean for mandoc -Tlint -W warning" {
	need mandoc
	run mandoc -Tlint -W warning "$TESTS_DIR/../man/ucat.1"
	check_eq "mandoc says" "" "$output"
	check_eq "mandoc status" 0 "$status"
}
