#!/usr/bin/env python3
# swap.py: the two halves of the swapped-directory race (tests/security.bats).
#
#   swap.py swap A B            exchange A and B (renameat2 RENAME_EXCHANGE)
#                               again and again, until killed
#   swap.py tries N UCAT PATH VICTIM [ARGS...]
#                               N times: run "UCAT ARGS --ready-fd F PATH",
#                               wait until it is ready (or has exited), end
#                               it with SIGTERM; after each, VICTIM (a file)
#                               must still be there and its directory hold
#                               no socket.  Prints how many runs listened.
import ctypes
import os
import signal
import stat
import subprocess
import sys


def swap(a, b):
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, rename_exchange = -100, 2
    a, b = a.encode(), b.encode()
    print("swapping", file=sys.stderr, flush=True)
    while True:
        libc.renameat2(at_fdcwd, a, at_fdcwd, b, rename_exchange)


def tries(n, ucat, path, victim, args):
    vdir = os.path.dirname(victim)
    ready = 0
    for i in range(n):
        r, w = os.pipe()
        p = subprocess.Popen([ucat] + args + ["--ready-fd", str(w), path],
                             pass_fds=[w], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        os.close(w)
        # A newline once it listens; nothing if it exited first.
        ready += len(os.read(r, 1))
        os.close(r)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        if not os.path.isfile(victim):
            sys.exit("try %d: %s is gone" % (i, victim))
        for name in os.listdir(vdir):
            if stat.S_ISSOCK(os.lstat(os.path.join(vdir, name)).st_mode):
                sys.exit("try %d: a socket %s appeared in %s" %
                         (i, name, vdir))
    print(ready)


if sys.argv[1] == "swap":
    swap(sys.argv[2], sys.argv[3])
else:
    tries(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5],
          sys.argv[6:])
