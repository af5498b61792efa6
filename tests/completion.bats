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
	# Readline marks the directories with their / (-o filenames).
	check_eq "sockets and directories" "$T/a.sock
$T/dir
$T/plain" "$(offers "$T/")"
	check_eq "as -s's address" "$T/a.sock
$T/dir
$T/plain" "$(offers -s "$T/")"
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

# shell_start SHELL: an interactive bash or zsh of the test's own, in a
# tmux server of its own (killed by PID at teardown), with ucat's
# completion loaded as the shell loads it and $T its working directory.
shell_start() {
	need tmux "$1"
	TMUX_SOCK=ucat-$$-$RANDOM
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -x 200 -y 20 \
		"env -i HOME=$T TERM=xterm PATH=$PATH $1 $([ "$1" = zsh ] &&
		echo -f || echo --norc --noprofile) -i"
	PIDS+=("$(tmux -L "$TMUX_SOCK" display -p '#{pid}')")
	if [ "$1" = zsh ]; then
		tmux -L "$TMUX_SOCK" send-keys "PS1='$ '; fpath=('$COMPLETIONS/zsh' \$fpath); autoload -U compinit; compinit -u -D; cd '$T'" Enter
	else
		tmux -L "$TMUX_SOCK" send-keys \
			"PS1='$ '; source '$COMPLETIONS/bash/ucat'; cd '$T'" Enter
	fi
	# Ready once it has run that and then this.
	tmux -L "$TMUX_SOCK" send-keys "echo shell-rea""dy" Enter
	local i
	for ((i = 0; i < 1000; i++)); do
		tmux -L "$TMUX_SOCK" capture-pane -p | grep -qx 'shell-ready' &&
			break
		sleep 0.01
	done
	TABS=0
}

# tab LINE: the command line the shell shows once LINE was typed and TAB
# pressed: bash's own word splitting and readline's own replacing.  A
# marker typed after the TAB says when readline has done it.
tab() {
	local mark line i
	mark="#done$((++TABS))"
	tmux -L "$TMUX_SOCK" send-keys C-u "$1" Tab
	tmux -L "$TMUX_SOCK" send-keys -l "$mark"
	for ((i = 0; i < 1000; i++)); do
		line=$(tmux -L "$TMUX_SOCK" capture-pane -p |
			grep -- "$mark\$" | tail -n 1)
		[ -n "$line" ] && break
		sleep 0.01
	done
	line=${line%"$mark"}
	echo "${line#\$ }"
}

# sockets_and_shell NAME SHELL: a listener on @NAME, a stale socket
# conc/s.sock, and SHELL started in tmux with ucat's completion loaded.
sockets_and_shell() {
	need_feature abstract
	[ -r /proc/net/unix ] || skip "no /proc/net/unix"
	listen srv "$1" </dev/null
	mkdir "$T/conc"
	stale "$T/conc/s.sock"
	shell_start "$2"
}

@test "completion: a real bash completes @name, unix:PATH, and a directory with one /" {
	local name=@ucat-tab-$$-$RANDOM
	sockets_and_shell "$name" bash
	# A whole word is followed by a space, a directory by its /.
	check_eq "@name" "ucat $name " "$(tab "ucat ${name:0:12}")"
	check_eq "-s @name" "ucat -s $name " "$(tab "ucat -s ${name:0:12}")"
	check_eq "directory" "ucat conc/" "$(tab "ucat con")"
	check_eq "unix:" "ucat unix:conc/" "$(tab "ucat unix:co")"
	check_eq "unix: socket" "ucat -l unix:conc/s.sock " \
		"$(tab "ucat -l unix:conc/")"
	check_eq "a socket" "ucat conc/s.sock " "$(tab "ucat conc/")"
	tmux -L "$TMUX_SOCK" kill-server
}

@test "completion: a real zsh completes @name and unix:PATH" {
	local name=@ucat-zsh-$$-$RANDOM
	sockets_and_shell "$name" zsh
	check_eq "@name" "ucat $name " "$(tab "ucat ${name:0:12}")"
	check_eq "directory" "ucat conc/" "$(tab "ucat con")"
	check_eq "unix:" "ucat unix:conc/" "$(tab "ucat unix:co")"
	check_eq "unix: socket" "ucat -l unix:conc/s.sock " \
		"$(tab "ucat -l unix:conc/")"
	tmux -L "$TMUX_SOCK" kill-server
}

@test "completion: fish completes @name and unix:PATH too" {
	need fish
	need_feature abstract
	[ -r /proc/net/unix ] || skip "no /proc/net/unix"
	local name=@ucat-fish-$$-$RANDOM
	listen srv "$name" </dev/null
	mkdir "$T/conc"
	stale "$T/conc/s.sock"
	cd "$T"
	fish -c "source '$COMPLETIONS/fish/ucat.fish'
		complete -C 'ucat ${name:0:13}'" | grep -qx -- "$name"
	check_eq "unix:" "unix:conc/s.sock" \
		"$(fish -c "source '$COMPLETIONS/fish/ucat.fish'
		complete -C 'ucat unix:conc/'")"
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
