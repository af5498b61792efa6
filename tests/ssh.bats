#!/usr/bin/env bats
# Other machines are reached through ssh, not a transport of ucat's own:
# ucat -lk FRONT -c 'ssh -T HOST ucat SOCKET' (docker's dial-stdio idea),
# against a real sshd on loopback with a host key and a user key made here.

load helpers

# sshd_start: sshd on a free loopback port, root's key login only, all
# its files in $T; SSH then holds the ssh command that reaches it.
sshd_start() {
	[ "$(id -u)" = 0 ] || skip "sshd with its privilege separation needs root"
	local sshd port
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || skip "sshd is not installed"
	need ssh ssh-keygen
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$T/id"
	cp "$T/id.pub" "$T/authorized_keys"
	port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	cat >"$T/sshd_config" <<-EOF2
		Port $port
		ListenAddress 127.0.0.1
		HostKey $T/host_key
		AuthorizedKeysFile $T/authorized_keys
		PidFile $T/sshd.pid
		StrictModes no
		UsePAM no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
	EOF2
	spawn sshd "$sshd" -D -e -f "$T/sshd_config" </dev/null
	timeout 60 "$UCAT" -z --wait 30 "tcp:127.0.0.1:$port"
	SSH="ssh -F /dev/null -i $T/id -o UserKnownHostsFile=$T/known_hosts"
	SSH+=" -o StrictHostKeyChecking=accept-new -o BatchMode=yes"
	SSH+=" -o LogLevel=ERROR -p $port root@127.0.0.1"
	# The far side runs ucat itself: no wrapper, whose environment ssh
	# does not carry.
	REMOTE_UCAT=${UCAT_REAL:-$UCAT}
}

@test "ssh: a local socket for a remote one, half-close both ways (the answer comes only after EOF)" {
	sshd_start
	# Counts what it got, so it answers only once the client's EOF came
	# through ucat, ssh and the remote ucat.
	listen back -k -c 'wc -c' "$T/back.sock"
	listen front -k "$T/d.sock" -c "$SSH -T $REMOTE_UCAT $T/back.sock"
	check_eq "the remote's count" 6 "$(printf 'hello\n' | timeout 60 "$UCAT" "$T/d.sock" | tr -d ' ')"
	check_eq "clients of the remote socket" 1 "$(connections back)"
}

@test "ssh: a MiB each way, whole, for two clients at once" {
	sshd_start
	head -c 1048576 /dev/urandom >"$T/data"
	listen back -k -c cat "$T/back.sock"
	listen front -k "$T/d.sock" -c "$SSH -T $REMOTE_UCAT $T/back.sock"
	timeout 60 "$UCAT" "$T/d.sock" <"$T/data" >"$T/out1" &
	one=$!
	timeout 60 "$UCAT" "$T/d.sock" <"$T/data" >"$T/out2"
	wait "$one"
	check_eq "first client" "$(sha "$T/data")" "$(sha "$T/out1")"
	check_eq "second client" "$(sha "$T/data")" "$(sha "$T/out2")"
}
