#!/usr/bin/env python3
"""tls-client.py - a TLS test client with precise control (python's ssl).

usage: tls-client.py ADDRESS [options]

ADDRESS is HOST:PORT or [IPV6]:PORT (what -1 prints). Connects, does the
handshake, sends what --send/--send-file give, then ends its sending as
one of --half-close/--shut-wr/--close say (default: it sends nothing more
but neither closes), reads with --recv-all until the server's end, and
closes. Received plaintext goes to stdout (or --out FILE); the report,
lines "KEY: VALUE", to stderr (or --report FILE):

  handshake: ok | failed: REASON     protocol: TLSv1.3    cipher: NAME
  alpn: PROTO | none                 peer-sha256: HEX (lower case)
  sent: N                            received: N
  end: close_notify | eof | reset | timeout | open
       (close_notify: the server sent one before its end of file; eof: a
       plain TCP end of file without one; open: not read to the end)

Options:
  --sni NAME          send SNI NAME (default: no SNI at all)
  --alpn P1,P2        offer these ALPN protocols
  --ca FILE           verify the server's chain against FILE (no name check)
  --cert FILE --key FILE   a client certificate
  --min V, --max V    protocol range: 1.2, 1.3 (or TLSv1.2, TLSv1.3)
  --send TEXT         send TEXT (backslash escapes: \\n, \\r, \\x00)
  --send-file FILE    send the bytes of FILE
  --hold SECONDS      wait that long after the handshake before sending
  --recv-all          read until the server's end of file, reading and
                      writing at the same time (no deadlock on 10 MB)
  --half-close        after sending: send close_notify, keep reading
  --shut-wr           after sending: TCP shutdown(SHUT_WR) without
                      close_notify (a client that just closes its side),
                      keep reading
  --close             after sending: close the TCP connection at once
                      (no close_notify, nothing more read)
  --after-end         send (and then --half-close/--shut-wr/--close) only
                      once the server's side has ended (its close_notify
                      or end of file came): for a server that ends its
                      output while it still reads
  --out FILE          write what is received to FILE, not stdout
  --report FILE       write the report to FILE, not stderr
  --timeout SECONDS   give up after that long without progress (10)
  --after-file FILE   connect only once FILE exists (waiting --timeout at
                      most): started early, the client is ready to go the
                      moment a test says so
  --peer-fingerprint  print only the server certificate's SHA-256 (lower
                      hex) on stdout after the handshake, then close
  --expect TEXT       what must be received (escapes as --send); else a
                      failure (exit 1)
  --count N           N connections one after another in this process,
                      each as above; reports "connections: N" and
                      "failures: F" (and a "failure: ..." line for each);
                      with --peer-fingerprint, a "peer-sha256: HEX" line
                      each time the fingerprint changes
  --until FILE        with --count 0: connect again and again until FILE
                      exists
  --stall nothing|partial|hello   connect and send nothing, the first half
                      of a ClientHello or all of it, then wait (--timeout)
                      for the server to close: reports "sent N bytes",
                      "got N bytes" for what comes, then "closed after
                      S.S s" or "open after S.S s"
  --plain             no TLS: send the --send bytes as they are, read to
                      end of file, report "received: N" and the bytes on
                      stdout (a plaintext client on a TLS port); with
                      --count N, N such connections one after another

Exit status: 0; 1 when the handshake failed, --expect did not match or a
--count connection failed; 2 when connecting failed; 3 on timeout (and a
--stall connection still open).
"""
import hashlib
import selectors
import socket
import ssl
import sys
import time


class Failure(Exception):
    """the connection failed; str() is the reason, .code the exit status"""

    def __init__(self, reason, code=1):
        super().__init__(reason)
        self.code = code


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def parse(argv):
    o = {"sni": None, "alpn": None, "ca": None, "cert": None, "key": None,
         "min": None, "max": None, "send": b"", "hold": 0.0,
         "recv_all": False, "end": None, "out": None, "report": None,
         "timeout": 10.0, "fingerprint": False, "expect": None,
         "count": None, "until": None, "stall": None, "plain": False,
         "after_end": False, "after_file": None}
    valued = {"--sni": "sni", "--alpn": "alpn", "--ca": "ca",
              "--cert": "cert", "--key": "key", "--min": "min",
              "--max": "max", "--out": "out", "--report": "report",
              "--until": "until", "--stall": "stall",
              "--after-file": "after_file"}
    flags = {"--recv-all": "recv_all", "--peer-fingerprint": "fingerprint",
             "--plain": "plain", "--after-end": "after_end"}
    if len(argv) < 2 or argv[1].startswith("-"):
        sys.exit(__doc__)
    o["addr"] = argv[1]
    i = 2
    while i < len(argv):
        a = argv[i]
        val = argv[i + 1] if i + 1 < len(argv) else None
        if a in valued:
            o[valued[a]] = val
            i += 1
        elif a in flags:
            o[flags[a]] = True
        elif a in ("--half-close", "--shut-wr", "--close"):
            o["end"] = a[2:]
        elif a == "--send":
            o["send"] += unescape(val)
            i += 1
        elif a == "--send-file":
            with open(val, "rb") as f:
                o["send"] += f.read()
            i += 1
        elif a == "--expect":
            o["expect"] = unescape(val)
            i += 1
        elif a in ("--hold", "--timeout"):
            o[a[2:]] = float(val)
            i += 1
        elif a == "--count":
            o["count"] = int(val)
            i += 1
        else:
            sys.exit("tls-client.py: unknown option %s\n%s" % (a, __doc__))
        i += 1
    return o


def version(v):
    v = v.replace("TLSv", "")
    return {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3,
            "1.1": ssl.TLSVersion.TLSv1_1, "1.0": ssl.TLSVersion.TLSv1}[v]


def context(o):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if o["ca"]:
        ctx.load_verify_locations(o["ca"])
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if o["cert"]:
        ctx.load_cert_chain(o["cert"], o["key"])
    if o["min"]:
        v = version(o["min"])
        if v < ssl.TLSVersion.TLSv1_2:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = v
    if o["max"]:
        v = version(o["max"])
        if v < ssl.TLSVersion.TLSv1_2:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.maximum_version = v
    if o["alpn"]:
        ctx.set_alpn_protocols(o["alpn"].split(","))
    return ctx


def connect(addr, timeout):
    if addr.startswith("["):
        host, port = addr[1:].split("]:")
        family = socket.AF_INET6
    else:
        host, port = addr.rsplit(":", 1)
        family = socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, int(port)))
    except OSError as e:
        raise Failure("connect: %s" % e, 2)
    return s


class Conn:
    """one TLS connection over a non-blocking socket and memory BIOs: every
    byte in and out passes here, so the client decides when close_notify
    goes and tells close_notify from a plain end of file"""

    def __init__(self, o, ctx):
        self.o = o
        self.sock = connect(o["addr"], o["timeout"])
        self.inc, self.outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.outb, server_side=False,
                                server_hostname=o["sni"])
        self.wire = bytearray()         # ciphertext not yet sent
        self.got = bytearray()          # plaintext received
        self.end = "open"               # how the server's side ended
        self.tcp_eof = False
        self.sock.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)

    def collect(self):
        self.wire += self.outb.read()

    def wait(self, want_read):
        """send pending ciphertext; wait for input when want_read; False
        at the timeout"""
        self.collect()
        ev = selectors.EVENT_READ if want_read and not self.tcp_eof else 0
        if self.wire:
            ev |= selectors.EVENT_WRITE
        if not ev:
            return True
        self.sel.modify(self.sock, ev)
        ready = self.sel.select(self.o["timeout"])
        if not ready:
            return False
        for _, mask in ready:
            if mask & selectors.EVENT_WRITE and self.wire:
                try:
                    n = self.sock.send(self.wire)
                except BlockingIOError:
                    n = 0
                except OSError as e:
                    raise Failure("send: %s" % e)
                del self.wire[:n]
            if mask & selectors.EVENT_READ:
                self.fill()
        return True

    def fill(self):
        try:
            d = self.sock.recv(262144)
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.end = "reset"
            self.tcp_eof = True
            self.inc.write_eof()
            return
        if d:
            self.inc.write(d)
        else:
            self.tcp_eof = True
            self.inc.write_eof()

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self.collect()
                return
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLEOFError:
                raise Failure("failed: %s" % (
                    "connection reset" if self.end == "reset"
                    else "end of file"))
            except ssl.SSLError as e:
                self.flush()
                raise Failure("failed: %s" % reason(e))
            if self.tcp_eof:
                raise Failure("failed: %s" % (
                    "connection reset" if self.end == "reset"
                    else "end of file"))
            if not self.wait(True):
                raise Failure("failed: timeout", 3)

    def flush(self):
        """send what is pending (the handshake's last flight, an alert)"""
        self.collect()
        self.sock.setblocking(True)
        self.sock.settimeout(self.o["timeout"])
        try:
            self.sock.sendall(self.wire)
        except OSError:
            pass
        self.wire.clear()
        self.sock.setblocking(False)

    def drain(self):
        """read the plaintext that the received records hold. python's
        read gives b"" for a close_notify while ours is not sent yet,
        SSLZeroReturnError once it is, SSLEOFError for a plain end of
        file (OpenSSL 3's unexpected EOF)"""
        if self.end not in ("open", "reset"):
            return
        while True:
            try:
                d = self.obj.read(262144)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                d = b""
            except ssl.SSLEOFError:
                if self.end != "reset":
                    self.end = "eof"
                break
            except ssl.SSLError as e:
                if self.end == "reset":
                    break
                raise Failure("read: %s" % reason(e))
            if not d:
                self.end = "close_notify"
                break
            self.got += d
            out_stream.write(d)
        self.collect()

    def run(self):
        """send, end the sending, read (both at once); returns when the
        conversation is over"""
        o = self.o
        if o["hold"]:
            time.sleep(o["hold"])
        data, pos = o["send"], 0
        ended = False                   # the --half-close/--shut-wr is done
        while True:
            self.drain()
            may_send = not o["after_end"] or self.end != "open"
            while may_send and pos < len(data) and len(self.wire) < 1 << 20:
                try:
                    n = self.obj.write(data[pos:pos + 16384])
                except ssl.SSLError as e:
                    raise Failure("write: %s" % reason(e))
                pos += n
                self.collect()
            if may_send and pos >= len(data) and not ended:
                if o["end"] == "half-close":
                    try:
                        self.obj.unwrap()
                    except ssl.SSLError:
                        pass            # want-read: no close_notify yet
                    self.collect()
                    ended = True
                elif o["end"] in ("shut-wr", "close"):
                    if not self.wire:
                        if o["end"] == "close":
                            return
                        self.sock.shutdown(socket.SHUT_WR)
                        ended = True
                else:
                    ended = True
            if self.tcp_eof and self.end == "open":
                self.end = "eof"
            reading = (o["recv_all"] or not may_send) and self.end == "open"
            if ended and not self.wire and not reading:
                return
            if not self.wait(reading):
                self.end = "timeout"
                raise Failure("timeout", 3)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def reason(e):
    return getattr(e, "reason", None) or str(e)


def peer_sha256(conn):
    der = conn.obj.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest() if der else "none"


def one(o, ctx, report, quiet=False):
    """one connection; returns the Conn (raises Failure)"""
    c = Conn(o, ctx)
    try:
        try:
            c.handshake()
        except Failure as f:
            report("handshake: %s" % f)
            raise
        if not quiet:
            report("handshake: ok")
            report("protocol: %s" % c.obj.version())
            report("cipher: %s" % c.obj.cipher()[0])
            report("alpn: %s" % (c.obj.selected_alpn_protocol() or "none"))
            report("peer-sha256: %s" % peer_sha256(c))
        if o["fingerprint"] and o["count"] is None:
            out_stream.write((peer_sha256(c) + "\n").encode())
            return c
        try:
            c.run()
        finally:
            if not quiet:
                report("sent: %d" % len(o["send"]))
                report("received: %d" % len(c.got))
                report("end: %s" % c.end)
        if o["expect"] is not None and bytes(c.got) != o["expect"]:
            raise Failure("expected %r, got %r" % (o["expect"],
                                                   bytes(c.got[:200])))
        return c
    finally:
        c.close()


def stall(o, ctx, report):
    if o["stall"] not in ("nothing", "partial", "hello"):
        sys.exit("tls-client.py: --stall nothing|partial|hello")
    s = connect(o["addr"], o["timeout"])
    start = time.monotonic()
    hello = b""
    if o["stall"] != "nothing":
        inc, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, outb, server_side=False,
                           server_hostname=o["sni"])
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outb.read()
        if o["stall"] == "partial":
            hello = hello[:len(hello) // 2]
        s.sendall(hello)
    report("sent %d bytes" % len(hello))
    try:
        while True:
            left = o["timeout"] - (time.monotonic() - start)
            if left <= 0:
                raise socket.timeout
            s.settimeout(left)
            d = s.recv(4096)
            if not d:
                break
            report("got %d bytes" % len(d))
        report("closed after %.1f s" % (time.monotonic() - start))
        return 0
    except ConnectionResetError:
        report("closed after %.1f s (reset)" % (time.monotonic() - start))
        return 0
    except socket.timeout:
        report("open after %.1f s" % (time.monotonic() - start))
        return 3
    finally:
        s.close()


def plain(o, report):
    s = connect(o["addr"], o["timeout"])
    got = bytearray()
    end = "eof"
    try:
        s.sendall(o["send"])
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    finally:
        s.close()
    out_stream.write(bytes(got))
    report("received: %d" % len(got))
    report("end: %s" % end)
    return 3 if end == "timeout" else 0


def count(o, ctx, report):
    n = failures = 0
    last = None
    global out_stream
    out_stream = Sink()
    while (n < o["count"]) if o["count"] > 0 else not (
            o["until"] and os_exists(o["until"])):
        n += 1
        try:
            c = one(o, ctx, lambda line: None, quiet=True)
            if o["fingerprint"]:
                fp = peer_sha256(c)
                if fp != last:
                    report("peer-sha256: %s" % fp)
                    last = fp
        except Failure as f:
            failures += 1
            report("failure: connection %d: %s" % (n, f))
        except OSError as e:
            failures += 1
            report("failure: connection %d: %s" % (n, e))
    report("connections: %d" % n)
    report("failures: %d" % failures)
    return 1 if failures else 0


def os_exists(path):
    import os
    return os.path.exists(path)


class Sink:
    def write(self, data):
        pass

    def flush(self):
        pass


out_stream = None


def main(argv):
    global out_stream
    o = parse(argv)
    rep = open(o["report"], "w") if o["report"] else sys.stderr

    def report(line):
        print(line, file=rep, flush=True)

    out_stream = open(o["out"], "wb") if o["out"] else sys.stdout.buffer
    if o["after_file"]:
        import os
        limit = time.monotonic() + o["timeout"]
        while not os.path.exists(o["after_file"]):
            if time.monotonic() > limit:
                report("failure: %s never appeared" % o["after_file"])
                return 3
            time.sleep(0.01)
    try:
        if o["plain"]:
            codes = [plain(o, report) for _ in range(o["count"] or 1)]
            return max(codes)
        ctx = context(o)
        if o["stall"]:
            return stall(o, ctx, report)
        if o["count"] is not None:
            return count(o, ctx, report)
        one(o, ctx, report)
        return 0
    except Failure as f:
        if not str(f).startswith("failed:"):
            report("failure: %s" % f)
        return f.code
    finally:
        out_stream.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
