#!/usr/bin/env python3
"""load.py - a bounded load client that counts every failure.

usage: load.py ADDRESS COUNT CONCURRENCY [--seconds LIMIT] [--report FILE]
               [--time]

Makes COUNT connections to ADDRESS (HOST:PORT, [IPV6]:PORT or unix:PATH),
CONCURRENCY at a time. Each sends "N\\n" (N: the connection's number) and
must read back a reply that contains N before end-of-file. Prints one
line, "ok N failed N", then one line per distinct failure reason with its
count. Exit status 0 when every connection got its reply, 1 otherwise.
Stops starting new connections after LIMIT seconds (default 120).
--report writes one line per connection to FILE: the client's local port
(what the server logs as the peer; "-" when the connect failed before
one was bound), then "ok" or the failure reason.
--time adds a last line, "elapsed MS": the milliseconds from just before
the first connect to the end of the last connection, for timing
assertions that must not count how long the client took to start.
"""
import os
import socket
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import connect  # noqa: E402  (ADDRESS forms as -1 prints them)


def one(addr, n, port):
    """One connection; None when it got its reply, else the reason.
    port[0] is set to the local port once connected."""
    try:
        s = connect(addr, 10)
    except OSError as e:
        return "connect: %s" % e.__class__.__name__
    try:
        if s.family != socket.AF_UNIX:
            port[0] = s.getsockname()[1]
        s.sendall(b"%d\n" % n)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    except OSError as e:
        return "io: %s" % e.__class__.__name__
    finally:
        s.close()
    return None if (b"%d" % n) in out else "bad reply: %r" % out[:40]


def main(argv):
    addr, count, conc = argv[1], int(argv[2]), int(argv[3])
    limit = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 120
    report = open(argv[argv.index("--report") + 1], "w") if "--report" in argv else None
    deadline = time.monotonic() + limit
    lock = threading.Lock()
    state = {"next": 0, "ok": 0}
    failures = Counter()

    def worker():
        while True:
            with lock:
                n = state["next"]
                if n >= count or time.monotonic() > deadline:
                    return
                state["next"] += 1
            port = ["-"]
            why = one(addr, n, port)
            with lock:
                if report:
                    report.write("%s %s\n" % (port[0], why or "ok"))
                if why is None:
                    state["ok"] += 1
                else:
                    failures[why] += 1

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = int((time.monotonic() - t0) * 1000)
    if report:
        report.close()
    failed = count - state["ok"]
    print("ok %d failed %d" % (state["ok"], failed))
    for why, n in failures.most_common():
        print("%6d %s" % (n, why))
    if state["next"] < count:
        print("%6d never started (time limit)" % (count - state["next"]))
    if "--time" in argv:
        print("elapsed %d" % elapsed)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
