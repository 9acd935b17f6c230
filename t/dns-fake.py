#!/usr/bin/env python3
"""dns-fake.py - a DNS server on loopback that misbehaves as told (t/dns.bats).

usage: dns-fake.py blackhole|servfail|answer [--bind ADDR] [--log FILE]
                   [--idle SECONDS] [--ptr NAME]... [--a NAME=ADDR]...
                   [--aaaa NAME=ADDR]... [--delay SECONDS] [--silent TYPE]...
       dns-fake.py query SERVER TYPE NAME [--timeout SECONDS]

A UDP socket on ADDR (default 127.0.0.1), port chosen by the kernel. Once
it is bound the port is printed on stdout, which is then closed: reading
stdout to its end is the readiness signal (queries sent from then on are
queued by the kernel). Modes:

  blackhole  read every query and never answer (a dead or firewalled
             name server: the client can only time out)
  servfail   answer every query with SERVFAIL
  answer     a PTR query gets one PTR record per --ptr NAME, whatever
             address it asks about (none given: NXDOMAIN); an A or AAAA
             query for a NAME given with --a / --aaaa gets those addresses
             (several --a for one NAME: several records), matched ignoring
             case; anything else NXDOMAIN

answer mode, --delay: each answer is sent that many seconds after its
query came (the other queries are not held up meanwhile); --silent TYPE:
queries of TYPE (A, AAAA, PTR) are never answered, as the black hole does
(a name server that answers the PTR query slowly and never the forward
one: dns_timeout bounds both together).

--log FILE appends one line per query received, "TYPE NAME" (the name as
sent, bytes outside printable ASCII as \\xHH), so a test can count them.
--idle ends the server after that many seconds without a query (default
300): a safety net; tests kill it by its pid.

NAME is written as labels separated by dots, where "\\." is a dot inside a
label, "\\\\" a backslash and "\\xHH" any byte; a final unescaped dot is the
root (as in "Client.TEST."). So "bad name.test" has a space, "a/b.test" a
slash, "\\x80x.test" the byte 0x80, and "Client.TEST\\." the two labels
"Client" and "TEST." (a dot inside the last label: a resolver that joins
labels with dots shows "Client.TEST."). A label is at most 63 bytes (the
wire format has no way to say more); the name as a whole is not limited
here: 5 labels of 63 bytes make a 320-byte name, which RFC 1035 forbids
(255 at most) but a hostile server can send.

query: a client for readiness checks and by-hand debugging: one query
(TYPE A, AAAA or PTR; SERVER as ADDR:PORT or [IPV6]:PORT), prints
"rcode N" and then one line per answer record. Exit 0, or 3 on timeout
or when the query was refused (nothing listening there yet).
"""
import heapq
import ipaddress
import os
import socket
import struct
import sys
import time

TYPES = {"A": 1, "PTR": 12, "AAAA": 28}
NAMES = {v: k for k, v in TYPES.items()}
SERVFAIL, NXDOMAIN = 2, 3


def parse_name(text):
    """Labels (lists of bytes) from NAME's escaped text form."""
    labels, cur, i = [], bytearray(), 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\":
            nxt = raw[i + 1:i + 2]
            if nxt == b"x":
                cur += bytes([int(raw[i + 2:i + 4], 16)])
                i += 4
                continue
            if not nxt:
                raise ValueError("%s: a backslash at the end" % text)
            cur += nxt
            i += 2
            continue
        if c == b".":
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur += c
        i += 1
    if cur:
        labels.append(bytes(cur))
    for label in labels:
        if not label or len(label) > 63:
            raise ValueError("%s: a label of %d bytes" % (text, len(label)))
    return labels


def wire_name(labels):
    out = bytearray()
    for label in labels:
        out += bytes([len(label)]) + label
    return bytes(out + b"\0")


def show(raw):
    """A label as text: anything not printable ASCII, a backslash and a dot
    (inside a label) as \\xHH."""
    return "".join(chr(b) if 0x20 < b < 0x7f and b not in b"\\." else
                   "\\x%02x" % b for b in raw)


def read_name(pkt, j):
    """(labels, index after the name) of the name at j; follows pointers."""
    labels, end, hops = [], None, 0
    while True:
        n = pkt[j]
        if n == 0:
            j += 1
            break
        if n & 0xc0 == 0xc0:
            if end is None:
                end = j + 2
            j = ((n & 0x3f) << 8) | pkt[j + 1]
            hops += 1
            if hops > 64:
                raise ValueError("pointer loop")
            continue
        labels.append(bytes(pkt[j + 1:j + 1 + n]))
        j += 1 + n
    return labels, (end if end is not None else j)


def parse_query(pkt):
    """(id, flags, question bytes, qtype, labels) or None if not a query."""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if flags & 0x8000 or qd != 1:
        return None
    labels, j = read_name(pkt, 12)
    qtype, _ = struct.unpack("!HH", pkt[j:j + 4])
    return qid, flags, pkt[12:j + 4], qtype, labels


def response(qid, flags, question, rcode, answers):
    """A response echoing the question exactly (resolvers that randomize
    the case of a query check it), with answers (type, rdata) for it."""
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | 0x0080 | rcode,
                      1, len(answers), 0, 0)
    body = bytearray(question)
    for rtype, rdata in answers:
        body += struct.pack("!HHHIH", 0xc00c, rtype, 1, 60, len(rdata)) + rdata
    return hdr + bytes(body)


def answer(args, qtype, labels):
    """(rcode, [(type, rdata)]) for the answer mode."""
    if qtype == TYPES["PTR"]:
        recs = [(qtype, wire_name(n)) for n in args["ptr"]]
    else:
        key = b".".join(labels).lower()
        fam = socket.AF_INET if qtype == TYPES["A"] else socket.AF_INET6
        table = args["a"] if qtype == TYPES["A"] else args["aaaa"]
        recs = [(qtype, socket.inet_pton(fam, a)) for a in table.get(key, [])]
    return (0 if recs else NXDOMAIN), recs


def serve(mode, args):
    bind = args["bind"]
    fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    print(s.getsockname()[1], flush=True)
    # the end of file on stdout is the signal: fd 1 itself must go
    # (closing sys.stdout leaves it open)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    log = open(args["log"], "a", buffering=1) if args["log"] else None
    later = []                  # (when, seq, response, peer): --delay
    seq = 0
    idle_end = time.monotonic() + args["idle"]
    while True:
        now = time.monotonic()
        while later and later[0][0] <= now:
            _, _, out, to = heapq.heappop(later)
            s.sendto(out, to)
        if now >= idle_end and not later:
            return 0
        s.settimeout(max(0.0, (later[0][0] if later else idle_end) - now))
        try:
            pkt, peer = s.recvfrom(4096)
        except (socket.timeout, BlockingIOError):
            continue
        idle_end = time.monotonic() + args["idle"]
        try:
            q = parse_query(pkt)
        except (ValueError, IndexError, struct.error):
            q = None
        if q is None:
            continue
        qid, flags, question, qtype, labels = q
        if log:
            log.write("%s %s\n" % (NAMES.get(qtype, str(qtype)),
                                   ".".join(show(x) for x in labels)))
        if mode == "blackhole":
            continue
        if mode == "servfail":
            s.sendto(response(qid, flags, question, SERVFAIL, []), peer)
            continue
        if NAMES.get(qtype) in args["silent"]:
            continue
        rcode, recs = answer(args, qtype, labels)
        out = response(qid, flags, question, rcode, recs)
        if args["delay"] > 0:
            seq += 1
            heapq.heappush(later, (time.monotonic() + args["delay"], seq,
                                   out, peer))
        else:
            s.sendto(out, peer)


def query(server, qtype, name, timeout):
    if server.startswith("["):
        host, port = server[1:].split("]:")
    else:
        host, port = server.rsplit(":", 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    qid = int(time.monotonic() * 1000) & 0xffff
    pkt = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    pkt += wire_name(parse_name(name)) + struct.pack("!HH", TYPES[qtype], 1)
    s.sendto(pkt, (host, int(port)))
    try:
        while True:
            got = s.recv(4096)
            if struct.unpack("!H", got[:2])[0] == qid:
                break
    except socket.timeout:
        print("query: timeout", file=sys.stderr)
        return 3
    except OSError as e:            # nothing bound there yet: refused
        print("query: %s" % e, file=sys.stderr)
        return 3
    _, flags, qd, an = struct.unpack("!HHHH", got[:8])
    print("rcode %d" % (flags & 0xf))
    j = 12
    for _ in range(qd):
        _, j = read_name(got, j)
        j += 4
    for _ in range(an):
        _, j = read_name(got, j)
        rtype, _, _, rdlen = struct.unpack("!HHIH", got[j:j + 10])
        j += 10
        rdata = got[j:j + rdlen]
        if rtype == TYPES["PTR"]:
            text = ".".join(show(x) for x in read_name(got, j)[0])
        elif rtype in (TYPES["A"], TYPES["AAAA"]):
            text = str(ipaddress.ip_address(rdata))
        else:
            text = rdata.hex()
        print("%s %s" % (NAMES.get(rtype, str(rtype)), text))
        j += rdlen
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    mode = argv[1]
    if mode == "query":
        timeout = 2.0
        if len(argv) > 6 and argv[5] == "--timeout":
            timeout = float(argv[6])
        return query(argv[2], argv[3].upper(), argv[4], timeout)
    if mode not in ("blackhole", "servfail", "answer"):
        print("dns-fake.py: unknown mode %s" % mode, file=sys.stderr)
        return 2
    args = {"bind": "127.0.0.1", "log": None, "idle": 300.0,
            "ptr": [], "a": {}, "aaaa": {}, "delay": 0.0, "silent": set()}
    i = 2
    while i < len(argv):
        opt, val = argv[i], argv[i + 1]
        if opt == "--bind":
            args["bind"] = val
        elif opt == "--log":
            args["log"] = val
        elif opt == "--idle":
            args["idle"] = float(val)
        elif opt == "--delay":
            args["delay"] = float(val)
        elif opt == "--silent":
            args["silent"].add(val.upper())
        elif opt == "--ptr":
            args["ptr"].append(parse_name(val))
        elif opt in ("--a", "--aaaa"):
            name, addr = val.rsplit("=", 1)
            key = b".".join(parse_name(name)).lower()
            args[opt[2:]].setdefault(key, []).append(addr)
        else:
            print("dns-fake.py: unknown option %s" % opt, file=sys.stderr)
            return 2
        i += 2
    return serve(mode, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
