#!/usr/bin/env python3
"""client.py - a test client for single-server.

usage: client.py ADDRESS [--send TEXT] [--hold SECONDS] [--no-shutdown]
                 [--timeout SECONDS] [--reset] [--connect-only] [--bind HOST]
                 [--no-read] [--sent FILE]

ADDRESS is what -1 prints: HOST:PORT, [IPV6]:PORT or unix:/path.
Connects, sends TEXT (default: nothing), half-closes the connection unless
--no-shutdown, and prints everything the server sends until end-of-file.
--hold keeps the connection open that long before sending. --reset closes
with an RST at once. --connect-only only tells whether a connection was
accepted by the kernel ("connected" or "refused") and closes. --bind
connects from that local address (127.0.0.2: any of 127/8 is loopback).
--no-read sends, then never reads: it waits --timeout seconds and exits 3
(or is killed first), leaving what the server sent unread.
--sent creates FILE once TEXT is sent (before the half-close): on
loopback the server's socket has it then, whether accepted yet or not.
Exit status: 0, or 2 when connecting failed, 3 on timeout.
"""
import socket
import struct
import sys
import time


def connect(addr, timeout, bind=None):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr[5:]
    elif addr.startswith("["):
        host, port = addr[1:].split("]:")
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        target = (host, int(port))
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    s.settimeout(timeout)
    if bind:
        s.bind((bind, 0))
    s.connect(target)
    return s


def main(argv):
    addr = argv[1]
    send, hold, shut, timeout = b"", 0.0, True, 10.0
    reset = connect_only = no_read = False
    bind = sent = None
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == "--send":
            send = argv[i + 1].encode().decode("unicode_escape").encode("latin-1")
            i += 1
        elif a == "--hold":
            hold = float(argv[i + 1])
            i += 1
        elif a == "--timeout":
            timeout = float(argv[i + 1])
            i += 1
        elif a == "--no-shutdown":
            shut = False
        elif a == "--reset":
            reset = True
        elif a == "--connect-only":
            connect_only = True
        elif a == "--no-read":
            no_read = True
        elif a == "--bind":
            bind = argv[i + 1]
            i += 1
        elif a == "--sent":
            sent = argv[i + 1]
            i += 1
        i += 1
    try:
        s = connect(addr, timeout, bind)
    except OSError as e:
        print("refused" if connect_only else "connect: %s" % e,
              file=sys.stdout if connect_only else sys.stderr)
        return 2
    if connect_only:
        print("connected")
        s.close()
        return 0
    if reset:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return 0
    if hold:
        time.sleep(hold)
    try:
        if send:
            s.sendall(send)
        if sent:
            open(sent, "w").close()
        if shut:
            s.shutdown(socket.SHUT_WR)
        if no_read:
            time.sleep(timeout)
            return 3
        out = bytearray()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        sys.stdout.buffer.write(bytes(out) if 'out' in dir() else b"")
        print("client: timeout", file=sys.stderr)
        return 3
    except OSError as e:
        print("client: %s" % e, file=sys.stderr)
        return 2
    sys.stdout.buffer.write(bytes(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
