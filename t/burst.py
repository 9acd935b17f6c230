#!/usr/bin/env python3
"""burst.py - N connections at once from one process, each one timed.

usage: burst.py ADDRESS N [--send TEXT] [--timeout SECONDS] [--bind LIST]

For timing assertions that must measure the server, not how fast a test
starts its clients (a python start costs a quarter of a second or more):
one process makes all N connections (ADDRESS as client.py takes it),
sends TEXT on each (default: nothing) and half-closes it, then reads all
of them at once until each one ends. The clock starts once the process
is ready, just before the first connect. --bind A,B,...: the first
connection is made from source address A, the second from B, and so on,
the last one given for all the rest (127.0.0.0/8 is all loopback).

Prints one line per connection, in the order they were made: the
milliseconds from the first connect to that connection's end of file,
a space, and what the server sent (newlines shown as "|"). Then a last
line "max MS": when the slowest one ended.
Exit status: 0, or 2 when a connection failed, 3 on timeout.
"""
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import connect  # noqa: E402  (ADDRESS forms as -1 prints them)


def main(argv):
    addr, n = argv[1], int(argv[2])
    send, timeout, binds = b"", 10.0, [None]
    i = 3
    while i < len(argv):
        if argv[i] == "--send":
            send = argv[i + 1].encode().decode("unicode_escape").encode("latin-1")
        elif argv[i] == "--timeout":
            timeout = float(argv[i + 1])
        elif argv[i] == "--bind":
            binds = argv[i + 1].split(",")
        i += 2
    t0 = time.monotonic()
    socks, out, done = [], [], []
    try:
        for k in range(n):
            s = connect(addr, timeout, binds[min(k, len(binds) - 1)])
            if send:
                s.sendall(send)
            s.shutdown(socket.SHUT_WR)
            s.setblocking(False)
            socks.append(s)
            out.append(bytearray())
            done.append(None)
    except OSError as e:
        print("connect: %s" % e, file=sys.stderr)
        return 2
    deadline = t0 + timeout
    while None in done:
        left = deadline - time.monotonic()
        if left <= 0:
            print("burst: timeout", file=sys.stderr)
            return 3
        live = [s for s, d in zip(socks, done) if d is None]
        readable, _, _ = select.select(live, [], [], left)
        for s in readable:
            k = socks.index(s)
            try:
                chunk = s.recv(65536)
            except OSError as e:
                print("burst: %s" % e, file=sys.stderr)
                return 2
            if chunk:
                out[k] += chunk
            else:
                done[k] = int((time.monotonic() - t0) * 1000)
                s.close()
    for k in range(n):
        text = out[k].decode("latin-1").rstrip("\n").replace("\n", "|")
        print("%d %s" % (done[k], text))
    print("max %d" % max(done))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
