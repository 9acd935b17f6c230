#!/usr/bin/env python3
"""tls-ops.py - TLS clients for t/tls-ops.bats (python's ssl module).

usage: tls-ops.py once ADDR [--bind IP] [--tls 1.2|1.3] [--send TEXT]
       tls-ops.py load ADDR STOP OUT
       tls-ops.py session ADDR DIR

The certificate is not verified: each client prints or logs the SHA-256
of the server's certificate (lower-case hex), which the tests compare
with the file's (t/tls.bash's tls_fingerprint). Every end of a session
must be a close_notify: an end of file without one is an error here.

once     one connection (from IP when given, at most TLS 1.2 with --tls
         1.2, at least 1.3 with 1.3); prints "port N" (its own port),
         "fp HEX", "version TLSv1.x", then "--" and everything it
         received until the server's close_notify, after sending TEXT
         (\\n is a newline). Status 1 and "error: ..." on a failure.
load     connections one after the other until the file STOP exists (90 s
         at most): each sends "N\\n", expects "N\\n" back then the
         server's close_notify, and appends "ok HEX" (the certificate's
         fingerprint) or "fail N REASON" to OUT. At the end it prints
         "ok X failed Y"; status 0 when nothing failed.
session  one long session against a handler that echoes "session\\n" and
         then everything (cat): 64 KB echoed, then the file DIR/phase1;
         once DIR/go exists (90 s at most), 1 MB more echoed in 16 KB
         pieces, then close_notify both ways. Writes "fp HEX" to
         DIR/session.fp at the start; prints "ok SENT RECEIVED" or
         "error: ...".
"""
import hashlib
import os
import socket
import ssl
import sys
import time

TIMEOUT = 10


def context(tls=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if tls == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif tls == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def connect(addr, bind=None, tls=None):
    host, port = addr.rsplit(":", 1)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(TIMEOUT)
    if bind:
        raw.bind((bind, 0))
    raw.connect((host, int(port)))
    # an end of file without close_notify raises SSLEOFError
    s = context(tls).wrap_socket(raw, suppress_ragged_eofs=False)
    return s


def fingerprint(s):
    return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def recv_all(s):
    """everything until the server's close_notify"""
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            return got
        got += b


def recv_exactly(s, n):
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise EOFError("close_notify after %d of %d bytes" % (len(got), n))
        got += b
    return got


def once(args):
    addr, bind, tls, send = args[0], None, None, ""
    rest = args[1:]
    while rest:
        opt, val, rest = rest[0], rest[1], rest[2:]
        if opt == "--bind":
            bind = val
        elif opt == "--tls":
            tls = val
        elif opt == "--send":
            send = val.replace("\\n", "\n")
        else:
            sys.exit("tls-ops.py: unknown option " + opt)
    try:
        s = connect(addr, bind, tls)
        print("port", s.getsockname()[1])
        print("fp", fingerprint(s))
        print("version", s.version())
        print("--", flush=True)
        s.sendall(send.encode())
        sys.stdout.buffer.write(recv_all(s))
        sys.stdout.flush()
    except (OSError, ssl.SSLError, EOFError) as e:
        print("error:", repr(e))
        return 1
    return 0


def load(args):
    addr, stop, out = args
    ok = failed = n = 0
    end = time.monotonic() + 90
    with open(out, "a") as log:
        while not os.path.exists(stop) and time.monotonic() < end:
            n += 1
            line = b"%d\n" % n
            try:
                s = connect(addr)
                fp = fingerprint(s)
                s.sendall(line)
                got = recv_all(s)
                s.close()
                if got != line:
                    raise ValueError("reply %r" % got)
                ok += 1
                log.write("ok %s\n" % fp)
            except (OSError, ssl.SSLError, ValueError) as e:
                failed += 1
                log.write("fail %d %r\n" % (n, e))
            log.flush()
    print("ok", ok, "failed", failed)
    return 0 if failed == 0 else 1


def echo(s, data, piece):
    for i in range(0, len(data), piece):
        chunk = data[i:i + piece]
        s.sendall(chunk)
        if recv_exactly(s, len(chunk)) != chunk:
            raise ValueError("echo differs at byte %d" % i)
    return len(data)


def session(args):
    addr, d = args
    sent = 0
    try:
        s = connect(addr)
        with open(os.path.join(d, "session.fp"), "w") as f:
            f.write("fp %s\n" % fingerprint(s))
        sent += echo(s, b"session\n", 8)
        sent += echo(s, os.urandom(64 * 1024), 16 * 1024)
        open(os.path.join(d, "phase1"), "w").close()
        end = time.monotonic() + 90
        while not os.path.exists(os.path.join(d, "go")):
            if time.monotonic() > end:
                raise TimeoutError("never told to go on")
            time.sleep(0.05)
        sent += echo(s, os.urandom(1024 * 1024), 16 * 1024)
        # close_notify from us; cat then reads its end of file, exits,
        # and the server's close_notify comes back: nothing else may
        raw = s.unwrap()
        if raw.recv(1):
            raise ValueError("bytes after close_notify")
    except (OSError, ssl.SSLError, ValueError, EOFError) as e:
        print("error: after %d bytes echoed: %r" % (sent, e))
        return 1
    print("ok", sent, sent)
    return 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"once": once, "load": load, "session": session}.get(cmd)
    if fn is None:
        sys.exit(__doc__)
    sys.exit(fn(args))


if __name__ == "__main__":
    main()
