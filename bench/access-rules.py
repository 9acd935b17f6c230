#!/usr/bin/env python3
"""access-rules.py - what access rules cost per connection: 10 against 100,000.

    access-rules.py BINARY [ROUNDS]

Writes two rules files, 10 and 100,000 random networks (IPv4 and IPv6,
host bits zero) plus "127.0.0.1 allow" and "* deny", and for each runs
"BINARY -d -1 -L 127.0.0.1:0 -m 0 -z -o access_rules=FILE /bin/echo x",
then makes 2000 connections, 4 at a time, each read to end of file.
ROUNDS (default 3) alternate the two files. Prints start-up time (the
file is parsed then), connections a second and the median latency.
"""
import ipaddress
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOTAL = 2000
CONCURRENCY = 4


def rules_file(directory, count):
    """count random distinct networks, then the two that decide here"""
    rng = random.Random(count)
    seen = set()
    lines = []
    while len(lines) < count:
        if rng.random() < 0.5:
            bits = rng.randint(8, 32)
            net = ipaddress.ip_network((rng.getrandbits(32), bits), strict=False)
        else:
            bits = rng.randint(16, 128)
            net = ipaddress.ip_network((rng.getrandbits(128), bits), strict=False)
        if net in seen or net.overlaps(ipaddress.ip_network("127.0.0.0/8")):
            continue
        seen.add(net)
        lines.append("%s deny\n" % net)
    lines.append("127.0.0.1 allow\n* deny\n")
    path = os.path.join(directory, "rules-%d" % count)
    with open(path, "w") as f:
        f.writelines(lines)
    return path


def run(binary, rules):
    start = time.monotonic()
    server = subprocess.Popen(
        [binary, "-d", "-1", "-L", "127.0.0.1:0", "-m", "0", "-z",
         "-o", "access_rules=" + rules, "/bin/echo", "x"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL)
    host, port = server.stdout.readline().decode().strip().rsplit(":", 1)
    ready = time.monotonic() - start
    latencies = []

    def client(count):
        for _ in range(count):
            t = time.monotonic()
            with socket.create_connection((host, int(port)), 10) as sock:
                while sock.recv(100):
                    pass
            latencies.append(time.monotonic() - t)

    threads = [threading.Thread(target=client, args=(TOTAL // CONCURRENCY,))
               for _ in range(CONCURRENCY)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    server.terminate()
    server.wait(10)
    latencies.sort()
    return ready, len(latencies) / elapsed, latencies[len(latencies) // 2]


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as directory:
        files = {n: rules_file(directory, n) for n in (10, 100000)}
        for _ in range(rounds):
            for n, path in files.items():
                ready, rate, p50 = run(binary, path)
                print("%6d rules: ready in %5.0f ms, %5.0f conn/s, p50 %.2f ms"
                      % (n, ready * 1000, rate, p50 * 1000))


if __name__ == "__main__":
    main()
