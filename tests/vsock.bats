#!/usr/bin/env bats
# vsock-mux:PATH:PORT: a VM's vsock port through a Firecracker or
# cloud-hypervisor host socket: CONNECT PORT, the OK line, then payload.
# The host here is a fake that answers OK only for the right port, and
# only once its delay has passed.

load helpers

# host NAME PATH PORT DELAY MODE: the fake hybrid vsock host socket.
host() {
	spawn "$1" python3 "$TESTS_DIR/peer.py" vsock-mux "$2" "$3" "$4" "$5"
	wait_for "$1" listening
}

@test "vsock-mux: only the payload reaches stdout, the bytes after OK included; half-close passes" {
	host h "$T/v.sock" 5000 0 ok
	run timeout 20 "$UCAT" "vsock-mux:$T/v.sock:5000" <<<hello
	check_eq status 0 "$status"
	check_eq output "guest
hello" "$output"
	grep -qx 'asked CONNECT 5000' "$T/h.err"
}

@test "vsock-mux: a port the guest does not listen on, and a host that answers garbage: exit 1 naming the port" {
	host h "$T/v.sock" 5000 0 ok
	run timeout 20 "$UCAT" "vsock-mux:$T/v.sock:5001" </dev/null
	check_eq status 1 "$status"
	check_eq message "ucat: connect vsock-mux:$T/v.sock:5001: port 5001: closed with no answer (does the guest listen on it?)" "$output"
	host g "$T/g.sock" 5000 0 garbage
	run timeout 20 "$UCAT" "vsock-mux:$T/g.sock:5000" </dev/null
	check_eq status 1 "$status"
	check_eq message "ucat: connect vsock-mux:$T/g.sock:5000: port 5000: the host's answer is not OK" "$output"
}

@test "vsock-mux: --wait asks again until the guest listens" {
	host h "$T/v.sock" 5000 1 ok
	run timeout 20 "$UCAT" --wait 15 "vsock-mux:$T/v.sock:5000" </dev/null
	check_eq status 0 "$status"
	check_eq output guest "$output"
	[ "$(grep -c 'asked CONNECT 5000' "$T/h.err")" -gt 1 ]
}

@test "vsock-mux: -z probes the guest's port; -w bounds a host that never answers" {
	host h "$T/v.sock" 5000 0 ok
	run timeout 20 "$UCAT" -z "vsock-mux:$T/v.sock:5000"
	check_eq "-z, listening port" 0 "$status"
	run timeout 20 "$UCAT" -z "vsock-mux:$T/v.sock:7"
	check_eq "-z, another port" 1 "$status"
	# A host that takes the connection and says nothing.
	spawn mute python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("listening", file=sys.stderr, flush=True)
c, _ = s.accept()
time.sleep(60)' "$T/m.sock"
	wait_for mute listening
	run timeout 20 "$UCAT" -w 1 "vsock-mux:$T/m.sock:5000" </dev/null
	check_eq "-w, a mute host" 1 "$status"
	check_eq message "ucat: connect vsock-mux:$T/m.sock:5000: timed out" "$output"
}

@test "vsock-mux: a relay leg: each client of FRONT reaches the guest's port" {
	host h "$T/v.sock" 5000 0 ok
	relay r -lk "$T/front" "vsock-mux:$T/v.sock:5000"
	for i in 1 2; do
		check_eq "client $i" "guest
hi $i" "$(echo "hi $i" | timeout 20 "$UCAT" "$T/front")"
	done
	check_eq "clients of the relay" 2 "$(connections r)"
	check_eq "asks of the host" 2 "$(grep -c 'asked CONNECT 5000' "$T/h.err")"
}

@test "vsock-mux: bad addresses and flags are usage errors naming them" {
	expect() {
		run timeout 20 "$UCAT" "${@:2}" </dev/null
		check_eq "status of ucat ${*:2}" 2 "$status"
		check_eq "message of ucat ${*:2}" "$1" "$output"
	}
	local want=": expected vsock-mux:PATH:PORT, PORT a number 0 to 4294967295"
	expect "ucat: address 'vsock-mux:$T/v.sock'$want" "vsock-mux:$T/v.sock"
	expect "ucat: address 'vsock-mux::5'$want" "vsock-mux::5"
	expect "ucat: address 'vsock-mux:$T/v:'$want" "vsock-mux:$T/v:"
	expect "ucat: address 'vsock-mux:$T/v:x1'$want" "vsock-mux:$T/v:x1"
	expect "ucat: address 'vsock-mux:$T/v:4294967296'$want" "vsock-mux:$T/v:4294967296"
	expect "ucat: -l: address 'vsock-mux:$T/v:5' is a VM's port, reached by connecting; it cannot be listened on" -l "vsock-mux:$T/v:5"
	expect "ucat: -u: address 'vsock-mux:$T/v:5' is a VM's port, a stream" -u "vsock-mux:$T/v:5"
	expect "ucat: --seqpacket: address 'vsock-mux:$T/v:5' is a VM's port, a stream" -l --seqpacket "$T/f" "vsock-mux:$T/v:5"
	expect "ucat: -s: address 'vsock-mux:$T/v:5' is a VM's port, connected to, never bound" -s "vsock-mux:$T/v:5" "$T/x"
	[ ! -e "$T/v" ] && [ ! -e "$T/f" ]
}
