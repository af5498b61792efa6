#!/usr/bin/env bats
# ns:PID:ADDR and netns:NAME:ADDR: only the socket is made in the other
# namespace; ucat stays in its own.  The namespaces are made here, with
# unshare and ip netns, and removed after.

load helpers

setup_file() {
	export NS_SKIP=
	if [ "$(id -u)" != 0 ]; then
		NS_SKIP="making namespaces needs root"
	elif ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null; then
		NS_SKIP="unshare and nsenter are not installed"
	elif ! unshare -n true 2>/dev/null; then
		NS_SKIP="this machine does not let unshare make a namespace"
	fi
}

# ip netns delete for what a test added, then the usual teardown.
eval "$(declare -f teardown | sed '1s/teardown/helpers_teardown/')"
teardown() {
	[ -z "${NETNS:-}" ] || ip netns delete "$NETNS" 2>/dev/null || true
	helpers_teardown
}

# inside NAME CMD...: CMD in a network namespace of its own (lo up), as
# NAME; its pid (that of the namespace) in NAME_NS once it said "listening".
inside() {
	local name=$1
	shift
	spawn "$name" unshare -n sh -c 'ip link set lo up 2>/dev/null; exec "$@"' sh "$@"
	wait_for "$name" listening
	printf -v "${name}_NS" '%s' "$(ucat_of "$name")"
}

@test "ns:PID:@name: a container's abstract name, from the host, and a relay's every upstream" {
	[ -z "$NS_SKIP" ] || skip "$NS_SKIP"
	need_feature abstract
	inside srv python3 "$TESTS_DIR/peer.py" who stream "@ucat-ns-$$" inside
	run timeout 20 "$UCAT" "@ucat-ns-$$" </dev/null
	check_eq "the host's own @name" 1 "$status"
	out=$(timeout 20 "$UCAT" "ns:$srv_NS:@ucat-ns-$$" </dev/null)
	[[ "$out" == "inside uid=0 "* ]]
	relay r -lk "$T/front" "ns:$srv_NS:@ucat-ns-$$"
	for i in 1 2; do
		out=$(echo "hi $i" | timeout 20 "$UCAT" "$T/front")
		check_eq "client $i" "hi $i" "$(tail -n 1 <<<"$out")"
	done
	check_eq "the server's clients" 3 "$(grep -c accepted "$T/srv.err")"
	if has_feature seccomp && [ -z "${UCAT_VALGRIND:-}" ]; then
		grep -q '^Seccomp:[[:space:]]*2' "/proc/$(ucat_of r)/status"
	fi
}

@test "ns:PID:tcp: a port only the container's loopback has; listening inside, with -e" {
	[ -z "$NS_SKIP" ] || skip "$NS_SKIP"
	local port=$((20000 + RANDOM % 20000))
	inside srv "$UCAT" -v -lk -c cat "tcp:127.0.0.1:$port"
	run timeout 20 "$UCAT" -z "tcp:127.0.0.1:$port"
	check_eq "the host's own port" 1 "$status"
	check_eq echo hello "$(echo hello | timeout 20 "$UCAT" "ns:$srv_NS:tcp:127.0.0.1:$port")"
	# The host listens on an @name inside the namespace; a client there
	# reaches it, one on the host does not.
	has_feature abstract || return 0
	listen l -k -e cat "ns:$srv_NS:@ucat-in-$$"
	check_eq "a client inside" inside "$(echo inside | timeout 20 nsenter -t "$srv_NS" -n "$UCAT" "@ucat-in-$$")"
	run timeout 20 "$UCAT" "@ucat-in-$$" </dev/null
	check_eq "a client on the host" 1 "$status"
}

@test "ns:PID:PATH: a path as the process sees it, under its root, relative ones too" {
	[ -z "$NS_SKIP" ] || skip "$NS_SKIP"
	mkdir "$T/m"
	spawn srv unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs "$1" && exec python3 "$2" who stream "$1/s" mounted' \
		sh "$T/m" "$TESTS_DIR/peer.py"
	wait_for srv listening
	pid=$(ucat_of srv)
	[ ! -e "$T/m/s" ]
	[[ "$(timeout 20 "$UCAT" "ns:$pid:$T/m/s" </dev/null)" == "mounted uid="* ]]
	[[ "$(timeout 20 "$UCAT" "ns:$pid:${T#/}/m/s" </dev/null)" == "mounted uid="* ]]
	run "$UCAT" -l "ns:$pid:$T/m/t"
	check_eq "listening there" 2 "$status"
	check_eq message "ucat: -l: address 'ns:$pid:$T/m/t': a path in another mount namespace is only connected to; listen on an @name or tcp: there" "$output"
}

@test "ns:PID:tcp: redis-server on a loopback port only its namespace has" {
	[ -z "$NS_SKIP" ] || skip "$NS_SKIP"
	need redis-server
	local port=$((20000 + RANDOM % 20000))
	spawn redis unshare -n sh -c 'ip link set lo up && exec redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$2"' sh "$port" "$T" </dev/null
	pid=$(for ((i = 0; i < 1000; i++)); do
		p=$(ucat_of redis) && [ -n "$p" ] && echo "$p" && break
		sleep 0.01
	done)
	[ -n "$pid" ]
	run timeout 60 "$UCAT" --wait 30 -z "ns:$pid:tcp:127.0.0.1:$port"
	check_eq "redis listens inside" 0 "$status"
	check_eq PING "+PONG" "$(printf 'PING\n' | timeout 20 "$UCAT" -C "ns:$pid:tcp:127.0.0.1:$port" | tr -d '\r')"
	run timeout 20 "$UCAT" -z "tcp:127.0.0.1:$port"
	check_eq "the host's own port" 1 "$status"
}

@test "netns:NAME: the namespace ip netns made" {
	[ -z "$NS_SKIP" ] || skip "$NS_SKIP"
	need_feature abstract
	need ip
	NETNS=ucat-test-$$-$RANDOM
	ip netns add "$NETNS" || skip "ip netns add is not permitted here"
	spawn srv ip netns exec "$NETNS" python3 "$TESTS_DIR/peer.py" who stream "@ucat-nn-$$" named
	wait_for srv listening
	[[ "$(timeout 20 "$UCAT" "netns:$NETNS:@ucat-nn-$$" </dev/null)" == "named uid="* ]]
	relay r -lk "$T/front" "netns:$NETNS:@ucat-nn-$$"
	[[ "$(timeout 20 "$UCAT" "$T/front" </dev/null)" == "named uid="* ]]
}

@test "ns:, netns: what cannot be entered is one line, exit 1 or 2, nothing made" {
	[ -z "$NS_SKIP" ] || skip "$NS_SKIP"
	expect() {
		local want=$1 msg=$2
		shift 2
		run timeout 20 "$UCAT" "$@" </dev/null
		check_eq "status of ucat $*" "$want" "$status"
		check_eq "message of ucat $*" "$msg" "$output"
	}
	expect 1 "ucat: ns:2147483646: no such process" ns:2147483646:tcp:9
	expect 2 "ucat: address 'ns:abc:x': expected ns:PID:ADDRESS, PID a process id" ns:abc:x
	expect 2 "ucat: address 'ns::x': expected ns:PID:ADDRESS, PID a process id" ns::x
	expect 2 "ucat: address 'ns:1': expected ns:PID:ADDRESS, PID a process id" ns:1
	expect 2 "ucat: address 'netns:a/b:x': expected netns:NAME:ADDRESS, NAME as ip netns names it" netns:a/b:x
	expect 1 "ucat: netns:ucat-none-$$: no such network namespace (see ip netns list)" "netns:ucat-none-$$:tcp:9"
	expect 2 "ucat: address 'ns:1:fd:3': a namespace takes an address, not an inherited socket or another namespace" ns:1:fd:3
	expect 2 "ucat: address 'ns:1:ns:2:x': a namespace takes an address, not an inherited socket or another namespace" ns:1:ns:2:x
	expect 2 "ucat: address 'ns:1:tcp:x': the port must be 1 to 65535" ns:1:tcp:x
	expect 2 "ucat: -s: address 'ns:1:tcp:9': a source is bound in ucat's own namespace" -s ns:1:tcp:9 tcp:10
	# Root's namespace is not nobody's to enter.
	need_nobody
	inside srv python3 "$TESTS_DIR/peer.py" who stream "@ucat-no-$$" inside
	run as_nobody "$UCAT" "ns:$srv_NS:tcp:127.0.0.1:9" </dev/null
	check_eq "nobody into root's" 1 "$status"
	[[ "$output" == "ucat: ns:$srv_NS: "* ]]
	check_eq "files made" "" "$(ls -A "$T" | grep -v '^srv\.' || true)"
}
