#!/usr/bin/env bats
# Shell completion: bash's function driven as bash runs it (COMP_WORDS,
# COMP_CWORD, COMPREPLY), fish's through complete -C, zsh's parsed; every
# option of ucat --help known to each, and nothing more; what each kind
# of argument is offered; and make install putting each where its shell
# looks, DESTDIR honoured.

load helpers

COMPLETIONS=$BATS_TEST_DIRNAME/../completions

# offers WORDS...: what bash's completion offers for the command line
# WORDS (the last one being completed), one per line, sorted.
offers() {
	bash -c 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_ucat; printf "%s\n" "${COMPREPLY[@]}"' \
		"$COMPLETIONS/bash/ucat" ucat "$@" | sort
}

# The options of ucat --help, one per line, sorted.
help_options() {
	"$UCAT" --help | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-z-]*' |
		sed 's/^[ ,]*//' | sort -u
}

@test "completion: bash offers exactly the options of --help" {
	run help_options
	[ "${#lines[@]}" -gt 30 ]
	check_eq "bash's options" "$output" "$(offers -)"
}

@test "completion: zsh and fish know every option of --help" {
	local opt missing=
	for opt in $(help_options); do
		case $opt in
		--*)
			# _arguments: --opt[ , --opt=[ , --opt} , --opt=}
			grep -qE -- "$opt=?(\[|\})" "$COMPLETIONS/zsh/_ucat" ||
				missing+=" zsh:$opt"
			grep -q -- "-l ${opt#--} " "$COMPLETIONS/fish/ucat.fish" ||
				missing+=" fish:$opt"
			;;
		-?)
			# _arguments: {-x, , {-x+, , '-x[
			grep -qE -- "(\{$opt\+?,|'$opt\[)" \
				"$COMPLETIONS/zsh/_ucat" || missing+=" zsh:$opt"
			grep -q -- "-s ${opt#-} " "$COMPLETIONS/fish/ucat.fish" ||
				missing+=" fish:$opt"
			;;
		esac
	done
	check_eq "options missing" "" "$missing"
}

@test "completion: zsh's and fish's files parse; fish completes an option" {
	need zsh fish
	zsh -n "$COMPLETIONS/zsh/_ucat"
	fish -n "$COMPLETIONS/fish/ucat.fish"
	run fish -c "source '$COMPLETIONS/fish/ucat.fish'; complete -C 'ucat --pcap-'"
	check_eq "fish" "--pcap-port	The server port in the capture" "$output"
}

@test "completion: an address offers the sockets there first, else files" {
	need python3
	mkdir "$T/dir" "$T/plain"
	touch "$T/file" "$T/plain/one" "$T/plain/two"
	stale "$T/a.sock"
	stale "$T/dir/b.sock"
	check_eq "sockets and directories" "$T/a.sock
$T/dir/
$T/plain/" "$(offers "$T/")"
	check_eq "as -s's address" "$T/a.sock
$T/dir/
$T/plain/" "$(offers -s "$T/")"
	check_eq "no socket: files" "$T/plain/one
$T/plain/two" "$(offers "$T/plain/")"
	need fish
	check_eq "fish" "$T/a.sock" "$(fish -c "source '$COMPLETIONS/fish/ucat.fish'
		complete -C 'ucat $T/'")"
}

@test "completion: @ offers the abstract names in use" {
	need_feature abstract
	[ -r /proc/net/unix ] || skip "no /proc/net/unix"
	local name=@ucat-completion-$$-$RANDOM
	listen srv "$name"
	offers "${name:0:20}" | grep -qx -- "$name"
}

@test "completion: files for -x and --pcap, users and groups, commands, numbers" {
	touch "$T/dump.txt"
	check_eq "-x" "$T/dump.txt" "$(offers -x "$T/du")"
	check_eq "--pcap" "$T/dump.txt" "$(offers --pcap "$T/du")"
	offers --allow-uid roo | grep -qx root
	offers --allow-uid nobody,roo | grep -qx nobody,root
	offers --allow-gid roo | grep -qx root
	offers -e "ca" | grep -qx cat
	check_eq "-w takes a number" "" "$(offers -w "")"
	check_eq "--send-fd takes a number" "" "$(offers --send-fd "")"
}

@test "completion: make install puts each where its shell looks, under DESTDIR" {
	local build
	build=$(cd "$(dirname "${UCAT_REAL:-$UCAT}")/.." && pwd)
	[ -f "$build/Makefile" ] || skip "no Makefile beside $UCAT"
	need make
	run make -s -C "$build" install-data DESTDIR="$T/inst"
	check_eq "make install-data" 0 "$status"
	run find "$T/inst" -type f -path '*completion*' -o -type f -path '*site-functions*'
	check_eq "installed" 3 "${#lines[@]}"
	grep -q '/bash-completion/completions/ucat$' <<<"$output"
	grep -q '/zsh/site-functions/_ucat$' <<<"$output"
	grep -q '/fish/vendor_completions.d/ucat.fish$' <<<"$output"
}
