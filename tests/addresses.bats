#!/usr/bin/env bats
# Addresses: paths, @abstract names, "@" autobind, ./@x, length limits and
# the usage errors for addresses that cannot work.

load helpers
bats_require_minimum_version 1.5.0

# abstract_listed NAME: a socket bound to the abstract NAME ("@..."), with
# exactly that length, is in /proc/net/unix.  A name padded with NULs would
# show there as "@name@@@...".
abstract_listed() {
	awk -v n="$1" '$8 == n { found = 1 } END { exit !found }' /proc/net/unix
}

# pad LEN PREFIX: PREFIX followed by "p"s up to LEN bytes in all, in PAD.
pad() {
	local fill
	printf -v fill '%*s' "$(($1 - ${#2}))" ''
	PAD=$2${fill// /p}
}

# nothing_left: the test directory holds nothing ucat could have created.
nothing_left() {
	check_eq "files left in \$T" "" "$(ls -A "$T")"
}

@test "addresses: an absolute path" {
	listen srv "$T/s"
	[ -S "$T/s" ]
	echo over-a-path | timeout 20 "$UCAT" "$T/s"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output over-a-path "$(cat "$T/srv.out")"
	check_eq "socket file after exit" "" "$(ls -A "$T" | grep -v '\.\(out\|err\)$')"
}

@test "addresses: a relative path is taken from the working directory" {
	cd "$T"
	mkdir sub
	listen srv sub/rel
	[ -S "$T/sub/rel" ]
	echo relative | timeout 20 "$UCAT" sub/rel
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output relative "$(cat "$T/srv.out")"
	check_eq "listening line" "ucat: listening on sub/rel" \
	    "$(grep 'listening on' "$T/srv.err")"
	[ ! -e "$T/sub/rel" ]
}

@test "addresses: @name is an abstract name of exactly that length" {
	need_feature abstract
	local name="@ucat-$BATS_TEST_NUMBER-$$-$RANDOM"

	cd "$T"
	listen srv "$name"
	check_eq "listening line" "ucat: listening on $name" \
	    "$(grep 'listening on' "$T/srv.err")"
	abstract_listed "$name" || {
		echo "$name not in /proc/net/unix:" >&2
		grep -- "${name}" /proc/net/unix >&2
		return 1
	}
	# No file: neither "@name" nor "name" appears in the working directory.
	check_eq "files in \$T" "srv.err srv.out" "$(ls -A | tr '\n' ' ' | sed 's/ $//')"
	echo abstract | timeout 20 "$UCAT" "$name"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output abstract "$(cat "$T/srv.out")"
	run ! abstract_listed "$name"
}

@test "addresses: @name interoperates with socat ABSTRACT-CONNECT" {
	need_feature abstract
	need socat
	local name="ucat-$BATS_TEST_NUMBER-$$-$RANDOM"

	listen srv "@$name"
	echo via-socat | timeout 20 socat - "ABSTRACT-CONNECT:$name"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output via-socat "$(cat "$T/srv.out")"
}

@test "addresses: @ with -l autobinds and -v names the chosen name" {
	need_feature abstract
	local name

	listen srv @
	name=$(sed -n 's/^ucat: listening on //p' "$T/srv.err")
	[[ $name =~ ^@[^@]+$ ]] || {
		echo "not an abstract name: [$name]" >&2
		return 1
	}
	abstract_listed "$name"
	echo autobound | timeout 20 "$UCAT" "$name"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output autobound "$(cat "$T/srv.out")"
}

@test "addresses: ./@x is a file literally named @x" {
	# The name is this test's own: /proc/net/unix lists the whole
	# machine's sockets.
	local x=@x-$$-$RANDOM
	cd "$T"
	listen srv "./$x"
	[ -S "$T/$x" ]
	run ! abstract_listed "$x"
	echo literal | timeout 20 "$UCAT" "$T/$x"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output literal "$(cat "$T/srv.out")"
	[ ! -e "$T/$x" ]
}

@test "addresses: a path of 107 bytes works" {
	[ "${#T}" -lt 100 ] || skip "\$T is too long for this test"
	pad 107 "$T/"
	listen srv "$PAD"
	[ -S "$PAD" ]
	echo longest | timeout 20 "$UCAT" "$PAD"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output longest "$(cat "$T/srv.out")"
	[ ! -e "$PAD" ]
}

@test "addresses: a path of 108 bytes is a usage error naming the limit" {
	[ "${#T}" -lt 100 ] || skip "\$T is too long for this test"
	pad 108 "$T/"
	run timeout 20 "$UCAT" -l "$PAD"
	check_eq status 2 "$status"
	check_eq "lines" 1 "${#lines[@]}"
	[[ $output == "ucat: "* ]]
	[[ $output == *"$PAD"* ]]
	[[ $output == *"107"* ]]
	run timeout 20 "$UCAT" "$PAD"
	check_eq "connect status" 2 "$status"
	[[ $output == *"$PAD"*"107"* ]]
	nothing_left
}

@test "addresses: an abstract name of 107 bytes works" {
	need_feature abstract
	# "@ucat-" then the test number, pid and random, then padding.
	pad 108 "@ucat-$BATS_TEST_NUMBER-$$-$RANDOM-"
	listen srv "$PAD"
	abstract_listed "$PAD"
	echo longest-abstract | timeout 20 "$UCAT" "$PAD"
	finish srv
	check_eq status 0 "$STATUS"
	check_eq output longest-abstract "$(cat "$T/srv.out")"
}

@test "addresses: an abstract name of 108 bytes is a usage error" {
	need_feature abstract
	cd "$T"
	pad 109 "@ucat-$BATS_TEST_NUMBER-$$-$RANDOM-"
	run timeout 20 "$UCAT" -l "$PAD"
	check_eq status 2 "$status"
	check_eq "lines" 1 "${#lines[@]}"
	[[ $output == "ucat: "*"$PAD"*"too long"* ]]
	run ! abstract_listed "${PAD:0:108}"
	nothing_left
}

@test "addresses: an empty address is a usage error" {
	cd "$T"
	run timeout 20 "$UCAT" ""
	check_eq status 2 "$status"
	check_eq output "ucat: empty address" "$output"
	run timeout 20 "$UCAT" -l ""
	check_eq "listen status" 2 "$status"
	check_eq "listen output" "ucat: empty address" "$output"
	run timeout 20 "$UCAT" -s "" "$T/s"
	check_eq "-s status" 2 "$status"
	check_eq "-s output" "ucat: -s: empty address" "$output"
	nothing_left
}

@test "addresses: @ without -l is a usage error" {
	need_feature abstract
	cd "$T"
	run timeout 20 "$UCAT" @
	check_eq status 2 "$status"
	check_eq "lines" 1 "${#lines[@]}"
	[[ $output == "ucat: "*"'@'"*"-l"* ]]
	run timeout 20 "$UCAT" -u @
	check_eq "datagram status" 2 "$status"
	nothing_left
}

@test "addresses: without the abstract namespace, @name is a usage error" {
	! has_feature abstract || skip "this ucat has abstract names"
	cd "$T"
	local a
	for a in @name @; do
		run timeout 20 "$UCAT" -l "$a"
		check_eq "$a status" 2 "$status"
		check_eq "$a error" "ucat: address '$a': abstract names are not supported on this system" "$output"
	done
	run timeout 20 "$UCAT" -s @c "$T/s"
	check_eq "-s status" 2 "$status"
	[[ $output == "ucat: -s: "*"'@c'"*"not supported"* ]]
	nothing_left
}

@test "addresses: a too long -s address is a usage error" {
	cd "$T"
	[ "${#T}" -lt 100 ] || skip "\$T is too long for this test"
	pad 108 "$T/"
	run timeout 20 "$UCAT" -u -s "$PAD" "$T/d"
	check_eq status 2 "$status"
	check_eq "lines" 1 "${#lines[@]}"
	[[ $output == "ucat: -s: "*"$PAD"*"107"* ]]
	nothing_left
}

@test "addresses: a type ucat does not know is a usage error naming those it knows" {
	cd "$T"
	local a word
	for a in udp6:x sctp:x tpc:localhost:80 Foo-1:bar; do
		word=${a%%:*}
		run timeout 20 "$UCAT" "$a" </dev/null
		check_eq "$a status" 2 "$status"
		check_eq "$a error" "ucat: address '$a': no address type '$word' (there are unix:, tcp:, udp:, fd:, fdname:, vsock-mux:, ns:, netns:); a file of that name is ./$a or unix:$a" \
			"$output"
	done
	run timeout 20 "$UCAT" -l "$T/s" sctp:x </dev/null
	check_eq "target status" 2 "$status"
	[[ $output == "ucat: target 'sctp:x': no address type 'sctp' "* ]]
	nothing_left
	# Named as the message says, such a file is just a file.
	listen srv ./udp6:x </dev/null
	[ -S "$T/udp6:x" ]
	echo through | timeout 20 "$UCAT" unix:udp6:x
	finish srv
	check_eq "through the file" through "$(cat "$T/srv.out")"
}

@test "addresses: type names are taken in any case" {
	cd "$T"
	listen srv "UNIX:$T/u" </dev/null
	[ -S "$T/u" ]
	echo upper | timeout 20 "$UCAT" "Unix:$T/u"
	finish srv
	check_eq "UNIX:" upper "$(cat "$T/srv.out")"
	# FD:N: a descriptor, not a file named FD:N.
	run timeout 20 "$UCAT" -l FD:x </dev/null
	check_eq "FD: status" 2 "$status"
	[[ $output == "ucat: address 'FD:x': expected fd:N"* ]]
}
