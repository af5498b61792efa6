# fish completion for ucat(1): every option of ucat --help, with what its
# argument is: existing sockets first for an address.

function __ucat_addresses
    set -l token (commandline -ct)
    # @name: the abstract names in use (Linux).
    if string match -q -- '@*' $token
        test -r /proc/net/unix
        and awk 'NR > 1 && $8 ~ /^@/ { print $8 }' /proc/net/unix 2>/dev/null
        return
    end
    # unix:PATH: the path after it, unix: kept.
    set -l type ''
    if string match -qi -- 'unix:*' $token
        set type (string sub -l 5 -- $token)
        set token (string sub -s 6 -- $token)
    end
    set -l socks
    for f in $token*
        test -S $f; and set -a socks $type$f
    end
    if test (count $socks) -gt 0
        printf '%s\n' $socks
    else
        __fish_complete_path $token | string replace -r '^' -- $type
    end
end

complete -c ucat -f -a '(__ucat_addresses)'
complete -c ucat -s C -l crlf -d 'Send each newline of stdin as CRLF'
complete -c ucat -s c -l sh-exec -x -a '(__fish_complete_command)' -d 'Run /bin/sh -c CMD per client'
complete -c ucat -s d -l no-stdin -d 'Do not read standard input'
complete -c ucat -s e -l exec -x -a '(__fish_complete_command)' -d 'Run PROG ARGS per client, no shell'
complete -c ucat -s h -l help -d 'Show the help and exit'
complete -c ucat -s k -l keep-open -d 'Serve one client after another'
complete -c ucat -s L -l lines -d 'One line per message'
complete -c ucat -s l -l listen -d 'Listen instead of connecting'
complete -c ucat -s m -l mode -x -d 'Socket file mode (octal)'
complete -c ucat -s N -d 'Half-close at end of input (the default)'
complete -c ucat -s q -l quit-after -x -d 'Quit seconds after end of input'
complete -c ucat -s s -l source -x -a '(__ucat_addresses)' -d 'Bind to this address first'
complete -c ucat -s U -d 'A Unix socket (the default)'
complete -c ucat -s u -l dgram -d 'Datagram socket'
complete -c ucat -s V -l version -d 'Show the version and exit'
complete -c ucat -s v -l verbose -d 'Report addresses, peers and byte counts'
complete -c ucat -s W -l recv-limit -x -d 'Quit once this many messages came'
complete -c ucat -s w -l timeout -x -d 'Connect and idle timeout'
complete -c ucat -s x -l hexdump -r -F -d 'Append a hex dump of the traffic'
complete -c ucat -s z -l probe -d 'Only check that something accepts'
complete -c ucat -l seqpacket -d 'Sequenced-packet socket'
complete -c ucat -l no-shutdown -d 'Do not half-close at end of input'
complete -c ucat -l keep-file -d 'Leave the socket file at exit'
complete -c ucat -l max-conns -x -d 'Clients at once'
complete -c ucat -l allow-uid -x -a '(__fish_complete_users)' -d 'Only peers with these users'
complete -c ucat -l allow-gid -x -a '(__fish_complete_groups)' -d 'Only peers with these groups'
complete -c ucat -l wait -x -d 'Retry until the address accepts'
complete -c ucat -l no-splice -d 'Move data with read and write only'
complete -c ucat -l no-sandbox -d 'Do not confine ucat once its sockets are set up'
complete -c ucat -l pcap -r -F -d 'Append the traffic as a pcap capture'
complete -c ucat -l pcap-port -x -d 'The server port in the capture'
complete -c ucat -l ready-fd -x -d 'Write a newline to N once ready'
complete -c ucat -l send-fd -x -d 'Pass descriptor N to the peer'
complete -c ucat -l tap -x -a '(__ucat_addresses)' -d 'Put ucat in front of the server on this socket file'
complete -c ucat -l untap -x -a '(__ucat_addresses)' -d 'Put back the socket a killed tap left'
complete -c ucat -l as-me -d "With --tap: relay other users' clients as ucat's user"
