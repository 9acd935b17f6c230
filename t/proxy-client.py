#!/usr/bin/env python3
"""proxy-client.py - a client that begins with a PROXY header it writes itself.

usage: proxy-client.py ADDRESS HEADER [--send TEXT] [--split N] [--pause S]
                       [--hold S] [--until FILE] [--bind HOST] [--timeout S]
                       [--print-port]

ADDRESS is what -1 prints (HOST:PORT or [IPV6]:PORT). HEADER is one of:
  v1:REST          "PROXY REST\\r\\n", e.g. v1:"TCP4 203.0.113.7 198.51.100.1 5555 443"
  v2:tcp4:SRC:SPORT:DST:DPORT   a version 2 PROXY command over TCP/IPv4
  v2:tcp6:SRC:SPORT:DST:DPORT   the same over TCP/IPv6 (addresses in
                   brackets: v2:tcp6:[2001:db8::1]:1234:[2001:db8::2]:25)
  v2:local         a version 2 LOCAL command (a health check), no addresses
  hex:BYTES        these bytes, given in hex
with ",tlv" after a v2 header: three TLVs follow the addresses, one of 300
bytes (so that the header is longer than any version 1 header).

The header and TEXT (\\r, \\n and \\0 written as such) go in one write, unless
--split N: then in writes of N bytes with --pause S seconds between them.
--hold S: after the header, wait S seconds before sending TEXT (and with
--split, hold after the first piece instead: a header that never ends).
--until FILE: the same, but wait until FILE exists (--timeout at most),
so that a test decides when the rest comes.
Then the connection is half-closed, and everything the server sends is
printed until end-of-file. --print-port: first print "port N", the local
port of the connection (the server sees it as PROXYREMOTEPORT).
Exit status: 0; 2 when connecting failed; 3 on timeout.
"""
import os
import socket
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def split_addr(text):
    if text.startswith("["):
        host, rest = text[1:].split("]:", 1)
    else:
        host, rest = text.split(":", 1)
    return host, rest


def v2(spec):
    parts = spec.split(",")
    kind = parts[0]
    tlv = b""
    if "tlv" in parts[1:]:
        tlv = (b"\x04" + struct.pack("!H", 3) + b"abc"
               + b"\x05" + struct.pack("!H", 300) + b"u" * 300
               + b"\xee" + struct.pack("!H", 0))
    if kind == "local":
        return SIG + bytes([0x20, 0x00]) + struct.pack("!H", len(tlv)) + tlv
    fam, rest = kind.split(":", 1)
    af, code = ((socket.AF_INET, 0x11) if fam == "tcp4"
                else (socket.AF_INET6, 0x21))
    src, rest = split_addr(rest)
    sport, rest = rest.split(":", 1)
    dst, dport = split_addr(rest)
    body = (socket.inet_pton(af, src) + socket.inet_pton(af, dst)
            + struct.pack("!HH", int(sport), int(dport)) + tlv)
    return SIG + bytes([0x21, code]) + struct.pack("!H", len(body)) + body


def header(spec):
    if spec.startswith("v1:"):
        return b"PROXY " + spec[3:].encode() + b"\r\n"
    if spec.startswith("v2:"):
        return v2(spec[3:])
    if spec.startswith("hex:"):
        return bytes.fromhex(spec[4:])
    raise SystemExit("unknown header: " + spec)


def wait(hold, until, limit):
    """hold seconds, or until the file exists (limit seconds at most)"""
    if hold:
        time.sleep(hold)
        return
    end = time.monotonic() + limit
    while not os.path.exists(until):
        if time.monotonic() > end:
            raise socket.timeout("waited too long for " + until)
        time.sleep(0.02)


def main(argv):
    addr, spec = argv[1], argv[2]
    opts = {"--send": "", "--split": "0", "--pause": "0", "--hold": "0",
            "--bind": None, "--timeout": "10", "--until": None}
    print_port = False
    i = 3
    while i < len(argv):
        if argv[i] == "--print-port":
            print_port = True
            i += 1
            continue
        opts[argv[i]] = argv[i + 1]
        i += 2
    host, port = split_addr(addr)
    af = socket.AF_INET6 if addr.startswith("[") else socket.AF_INET
    s = socket.socket(af, socket.SOCK_STREAM)
    s.settimeout(float(opts["--timeout"]))
    if opts["--bind"]:
        s.bind((opts["--bind"], 0))
    try:
        s.connect((host, int(port)))
    except OSError as e:
        print("connect: %s" % e, file=sys.stderr)
        return 2
    if print_port:
        print("port %d" % s.getsockname()[1], flush=True)
    hdr = header(spec)
    text = (opts["--send"].replace("\\r", "\r").replace("\\n", "\n")
            .replace("\\0", "\0").encode())
    split = int(opts["--split"])
    pause = float(opts["--pause"])
    hold = float(opts["--hold"])
    until = opts["--until"]
    out = b""
    try:
        if split > 0:
            data = hdr + text
            for k in range(0, len(data), split):
                s.sendall(data[k:k + split])
                if hold or until:
                    wait(hold, until, float(opts["--timeout"]))
                    hold = until = 0
                time.sleep(pause)
        elif hold or until:
            s.sendall(hdr)
            wait(hold, until, float(opts["--timeout"]))
            s.sendall(text)
        else:
            s.sendall(hdr + text)
        s.shutdown(socket.SHUT_WR)
        while True:
            got = s.recv(65536)
            if not got:
                break
            out += got
    except socket.timeout:
        sys.stdout.buffer.write(out)
        print("timeout", file=sys.stderr)
        return 3
    except OSError as e:
        # a refused client's connection may be reset: say so, as output
        print("error: %s" % e.strerror)
        return 0
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
