#!/usr/bin/env python3
"""peer.py: a Unix socket peer for ucat's interop tests, written in Python.

It shares no code with ucat, so what it sees on the wire is an independent
check.  Addresses are written as ucat's: "@name" is the abstract name
b"\\0name" with no padding, anything else is a path.  Address bytes are
reported in hex so that a stray NUL cannot hide.

  server ADDR            listen (stream), accept one connection; stdin goes
                         to it (half-close at EOF), what it sends goes to
                         stdout.  stderr: "listening", then the accepted
                         socket's "sockname HEX" and "peername HEX".
  padded-server @NAME    the same, bound to b"\\0NAME" NUL-padded to the
                         whole 108 bytes of sun_path.
  client ADDR            connect (stream); stdin/stdout as for server.
                         stderr: "peername HEX" (the listener's exact name).
  dgram-echo ADDR COUNT  bind a datagram socket; for each of COUNT messages
                         print it and a newline on stdout, "from HEX" on
                         stderr, and send back b"echo:" + message.
  dgram-client ADDR BIND REPLIES MSG...
                         bind a datagram socket to BIND (or leave it unbound
                         if BIND is "-"), send each MSG to ADDR, then print
                         REPLIES received messages, each with a newline.
  who stream|seqpacket ADDR LABEL
                         listen, and for each connection (a thread each)
                         send one line (a message) "LABEL uid=U gid=G
                         groups=A,B pid=P" of the client as SO_PEERCRED and
                         SO_PEERGROUPS say, then echo what it sends until
                         its end.  stderr: "listening", then "accepted" for
                         each connection.
  hammer ADDR SEND EXPECT STOP
                         connect, send SEND, read until EXPECT came whole,
                         close; again and again until the file STOP exists
                         and 1000 connections were made.  stderr: "done N"
                         every 100; at the end stdout: "total N failed M"
                         and the first failure.
  vsock-mux PATH PORT DELAY ok|garbage
                         a hybrid vsock host socket (Firecracker's): for
                         each connection read "CONNECT N\n"; with ok, if N
                         is PORT and DELAY seconds have passed since the
                         start, answer "OK 1073741824\n" and, in the same
                         send, "guest\n", then echo; else close with no
                         answer.  With garbage, answer "NOPE\n" and close.
                         stderr: "listening", then "asked N" each time.
  burst dgram|seqpacket ADDR COUNT
                         send COUNT messages b"m0", b"m1", ... to ADDR as
                         fast as the kernel takes them, then close.
"""

import os
import socket
import struct
import sys
import threading

CHUNK = 1 << 16
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)


def sockaddr(text, padded=False):
    if text.startswith("@"):
        name = b"\0" + os.fsencode(text[1:])
        # The whole of sun_path, NUL-filled: the other way to spell "@name".
        return name.ljust(108, b"\0") if padded else name
    return text


def hexname(name):
    if isinstance(name, str):
        name = os.fsencode(name)
    return name.hex() if name else "(unnamed)"


def say(*words):
    print(*words, file=sys.stderr, flush=True)


def pump(sock):
    """stdin -> sock (then half-close) beside sock -> stdout, until both end."""
    def up():
        try:
            while True:
                data = os.read(0, CHUNK)
                if not data:
                    break
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass

    sender = threading.Thread(target=up, daemon=True)
    sender.start()
    out = sys.stdout.buffer
    while True:
        try:
            data = sock.recv(CHUNK)
        except ConnectionResetError:
            break
        if not data:
            break
        out.write(data)
    out.flush()
    sender.join()


def server(addr, padded=False):
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sockaddr(addr, padded))
    lsock.listen(1)
    say("listening")
    conn, _ = lsock.accept()
    lsock.close()
    say("sockname", hexname(conn.getsockname()))
    say("peername", hexname(conn.getpeername()))
    pump(conn)
    conn.close()
    if not addr.startswith("@"):
        os.unlink(addr)


def client(addr):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(sockaddr(addr))
    say("peername", hexname(sock.getpeername()))
    pump(sock)
    sock.close()


def dgram_echo(addr, count):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sockaddr(addr))
    say("listening")
    for _ in range(int(count)):
        data, sender = sock.recvfrom(1 << 18)
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.flush()
        say("from", hexname(sender))
        if sender:
            sock.sendto(b"echo:" + data, sender)
    sock.close()
    if not addr.startswith("@"):
        os.unlink(addr)


def dgram_client(addr, bind, replies, *msgs):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if bind != "-":
        sock.bind(sockaddr(bind))
    for msg in msgs:
        sock.sendto(os.fsencode(msg), sockaddr(addr))
    for _ in range(int(replies)):
        data = sock.recv(1 << 18)
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.flush()
    sock.close()
    if bind != "-" and not bind.startswith("@"):
        os.unlink(bind)


def burst(kind, addr, count):
    types = {"dgram": socket.SOCK_DGRAM, "seqpacket": socket.SOCK_SEQPACKET}
    sock = socket.socket(socket.AF_UNIX, types[kind])
    sock.connect(sockaddr(addr))
    for i in range(int(count)):
        sock.send(b"m%d" % i)
    sock.close()


def echo(conn):
    """Sends back what conn sends until its end, then closes it."""
    while True:
        data = conn.recv(CHUNK)
        if not data:
            break
        conn.sendall(data)
    conn.close()


def serve_each(sock, serve, note=None):
    """Each connection accepted on sock served by a thread of its own."""
    while True:
        conn, _ = sock.accept()
        if note:
            say(note)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def who(kind, addr, label):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET
                         if kind == "seqpacket" else socket.SOCK_STREAM)
    sock.bind(sockaddr(addr))
    sock.listen(64)
    say("listening")

    def serve(conn):
        pid, uid, gid = struct.unpack(
            "3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        try:
            raw = conn.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, 1024)
            groups = struct.unpack("%dI" % (len(raw) // 4), raw)
        except OSError:
            groups = ()
        conn.sendall(("%s uid=%d gid=%d groups=%s pid=%d\n" % (
            label, uid, gid, ",".join(map(str, sorted(groups))),
            pid)).encode())
        echo(conn)

    serve_each(sock, serve, "accepted")


def hammer(addr, send, expect, stop):
    send, expect = send.encode(), expect.encode()
    n = failed = 0
    first = ""
    while not (os.path.exists(stop) and n >= 1000):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sockaddr(addr))
                s.sendall(send)
                data = b""
                while len(data) < len(expect):
                    more = s.recv(CHUNK)
                    if not more:
                        break
                    data += more
                if data != expect:
                    raise OSError("got %r" % data)
        except OSError as e:
            failed += 1
            first = first or "connection %d: %s" % (n, e)
        n += 1
        if n % 100 == 0:
            say("done %d" % n)
    print("total %d failed %d %s" % (n, failed, first), flush=True)


def vsock_mux(path, port, delay, mode):
    import time
    start = time.monotonic()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    sock.listen(16)
    say("listening")

    def serve(conn):
        line = b""
        while not line.endswith(b"\n"):
            more = conn.recv(1)
            if not more:
                conn.close()
                return
            line += more
        say("asked %s" % line.decode(errors="replace").strip())
        if mode == "garbage":
            conn.sendall(b"NOPE\n")
        elif (line == b"CONNECT %s\n" % port.encode() and
              time.monotonic() - start >= float(delay)):
            conn.sendall(b"OK 1073741824\nguest\n")
            echo(conn)
        conn.close()

    serve_each(sock, serve)


COMMANDS = {
    "server": (server, 1),
    "padded-server": (lambda addr: server(addr, True), 1),
    "client": (client, 1),
    "dgram-echo": (dgram_echo, 2),
    "dgram-client": (dgram_client, 3),
    "burst": (burst, 3),
    "who": (who, 3),
    "hammer": (hammer, 4),
    "vsock-mux": (vsock_mux, 4),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        say("usage: peer.py", "|".join(COMMANDS), "ARGS...")
        return 2
    func, nargs = COMMANDS[argv[1]]
    if len(argv) - 2 < nargs:
        say("peer.py %s: %d arguments expected" % (argv[1], nargs))
        return 2
    func(*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
