#!/usr/bin/env bats
# tcp: and unix: addresses: TCP on loopback in every mode that takes a
# stream (listen, connect, -e with UCSPI's TCP variables, a relay either
# way), what a TCP address does not take, and unix:PATH as a plain path.

load helpers

# free_port: a TCP port on 127.0.0.1 that nobody listens on just now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

setup_file() {
	command -v python3 >/dev/null || skip "python3 is not installed"
}

@test "tcp: listen on tcp:PORT, loopback only, and connect to it" {
	local port
	port=$(free_port)
	echo from-listener >"$T/in"
	listen srv "tcp:$port" <"$T/in"
	grep -q "listening on 127.0.0.1:$port" "$T/srv.err"
	run timeout 20 "$UCAT" -v "tcp:127.0.0.1:$port" <<<"from-client"
	check_eq status 0 "$status"
	check_eq output "ucat: connected to tcp:127.0.0.1:$port
from-listener" "$(sed '$d' <<<"$output")"
	[[ ${lines[2]} =~ ^ucat:\ sent\ 12\ bytes,\ received\ 14\ bytes\ in\ [0-9.]+\ s$ ]]
	finish srv
	check_eq "listener got" from-client "$(cat "$T/srv.out")"
	grep -q "connection from 127.0.0.1:[0-9]*$" "$T/srv.err"
}

@test "tcp: a host name and an IPv6 address" {
	local port
	port=$(free_port)
	listen srv "tcp:localhost:$port" </dev/null
	echo by-name | timeout 20 "$UCAT" "tcp:localhost:$port"
	finish srv
	check_eq "by name" by-name "$(cat "$T/srv.out")"
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
		2>/dev/null || skip "no IPv6 loopback here"
	listen srv6 "tcp:[::1]:$port" </dev/null
	grep -q "listening on \[::1\]:$port" "$T/srv6.err"
	echo by-v6 | timeout 20 "$UCAT" "tcp:[::1]:$port"
	finish srv6
	check_eq "over IPv6" by-v6 "$(cat "$T/srv6.out")"
}

@test "tcp: -e programs get PROTO=TCP and the TCP variables" {
	local port
	port=$(free_port)
	listen srv "tcp:$port" -c 'env | grep -E "^(PROTO|TCP|UNIX)" | sort'
	run timeout 20 "$UCAT" "tcp:$port" </dev/null
	check_eq status 0 "$status"
	[[ ${lines[0]} == "PROTO=TCP" ]]
	[[ ${lines[1]} == "TCPLOCALIP=127.0.0.1" ]]
	[[ ${lines[2]} == "TCPLOCALPORT=$port" ]]
	[[ ${lines[3]} == "TCPREMOTEIP=127.0.0.1" ]]
	[[ ${lines[4]} =~ ^TCPREMOTEPORT=[0-9]+$ ]]
	check_eq "variables" 5 "${#lines[@]}"
}

@test "tcp: a relay from tcp: to a Unix socket, and back" {
	local port port2
	port=$(free_port)
	listen back -k "$T/back" -c 'tr a-z A-Z'
	spawn rel "$UCAT" -v -lk "tcp:$port" "$T/back"
	wait_for rel 'listening on'
	run timeout 20 "$UCAT" "tcp:$port" <<<"over tcp"
	check_eq "through tcp: to the socket" "OVER TCP" "$output"
	# And a Unix socket in front of a TCP server.
	port2=$(free_port)
	listen tback -k "tcp:$port2" -c 'tr a-z A-Z'
	spawn rel2 "$UCAT" -v -lk "$T/front" "tcp:127.0.0.1:$port2"
	wait_for rel2 'listening on'
	run timeout 20 "$UCAT" "$T/front" <<<"to tcp"
	check_eq "through the socket to tcp:" "TO TCP" "$output"
	grep -q "connected to tcp:127.0.0.1:$port2" "$T/rel2.err"
}

@test "tcp: a port in use is exit 1; a refused connect names the address" {
	local port
	port=$(free_port)
	listen srv "tcp:$port" </dev/null
	run timeout 20 "$UCAT" -l "tcp:$port" </dev/null
	check_eq status 1 "$status"
	check_eq output "ucat: tcp:$port: address in use" "$output"
	"$UCAT" -z "tcp:$port"
	finish srv
	run timeout 20 "$UCAT" "tcp:$port" </dev/null
	check_eq status 1 "$status"
	check_eq output "ucat: connect tcp:$port: Connection refused" "$output"
}

@test "tcp: what a tcp: address does not take is a usage error" {
	local args want
	while IFS='|' read -r args want; do
		# shellcheck disable=SC2086 # the words are the arguments
		run timeout 20 "$UCAT" $args </dev/null
		check_eq "status of ucat $args" 2 "$status"
		check_eq "ucat $args" "ucat: $want" "$output"
	done <<-'EOF'
		tcp:0|address 'tcp:0': the port must be 1 to 65535
		tcp:65536|address 'tcp:65536': the port must be 1 to 65535
		tcp:http|address 'tcp:http': the port must be 1 to 65535
		tcp:::1:80|address 'tcp:::1:80': expected tcp:HOST:PORT, tcp:[IPV6]:PORT or tcp:PORT
		-u tcp:80|-u: address 'tcp:80' is TCP, a stream
		--seqpacket -l tcp:80|--seqpacket: address 'tcp:80' is TCP, a stream
		--seqpacket /tmp/x tcp:80|--seqpacket: address 'tcp:80' is TCP, a stream
		-l --allow-uid 0 tcp:80|--allow-uid, --allow-gid: a TCP peer has no credentials
		-l -m 600 tcp:80|-m: address 'tcp:80' has no file to give a mode
		-s /tmp/x tcp:80|-s: address '/tmp/x' is not of the kind of 'tcp:80'
	EOF
}

@test "tcp: a host name that does not resolve is a failure naming it, not a usage error" {
	# As in nc: the name may resolve a minute later.
	run timeout 20 "$UCAT" tcp:no-such-host.invalid:80 </dev/null
	check_eq status 1 "$status"
	check_eq output "ucat: address 'tcp:no-such-host.invalid:80': unknown host 'no-such-host.invalid'" \
		"$output"
	run timeout 20 "$UCAT" -l "$T/s" tcp:no-such-host.invalid:80 </dev/null
	check_eq "target status" 1 "$status"
	check_eq "target output" "ucat: target 'tcp:no-such-host.invalid:80': unknown host 'no-such-host.invalid'" \
		"$output"
	[ ! -e "$T/s" ]
}

@test "tcp: TCP: in capitals is TCP" {
	local port
	port=$(free_port)
	listen srv "TCP:$port" </dev/null
	echo caps | timeout 20 "$UCAT" "Tcp:127.0.0.1:$port"
	finish srv
	check_eq "through TCP:" caps "$(cat "$T/srv.out")"
}

@test "tcp: unix:PATH is a path, whatever it starts with" {
	listen srv "unix:$T/tcp:x" </dev/null
	[ -S "$T/tcp:x" ]
	echo plain | timeout 20 "$UCAT" "unix:$T/tcp:x"
	finish srv
	check_eq "over unix:" plain "$(cat "$T/srv.out")"
	# Relative: the file @x in the current directory, not an abstract name.
	cd "$T"
	listen srv2 unix:@x </dev/null
	[ -S "$T/@x" ]
}
