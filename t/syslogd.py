#!/usr/bin/env python3
"""syslogd.py - a syslog receiver for tests.

usage: syslogd.py SOCKET OUT [--idle SECONDS] [--paused] [--stream]

Binds a unix datagram socket at SOCKET (what t/syslog-ns makes /dev/log
point at) and appends each message to OUT as one line:

    FACILITY.SEVERITY TAG[PID]: TEXT

for example "daemon.err single-server/echo[1234]: fatal: no handler".
The priority is decoded and the timestamp dropped, from RFC 3164 lines
(glibc's syslog(): "<PRI>Mmm dd hh:mm:ss TAG[PID]: TEXT"), bare
"<PRI>TAG[PID]: TEXT" lines and RFC 5424 lines ("<PRI>1 TIME HOST APP
PROCID MSGID SD TEXT"). Newlines inside a message become spaces, so that
one message is one line. Each line is written and flushed at once.
SOCKET exists once the receiver is ready. It exits after --idle seconds
(default 120) without a message, and on SIGTERM. With --paused it reads
nothing until SIGUSR1: a syslog daemon that does not read, whose socket
fills up (net.unix.max_dgram_qlen datagrams). With --stream SOCKET is a
stream socket, as some syslog daemons make /dev/log: any number of
connections, each message ended by a NUL (as syslog(3) sends them) or a newline;
a last message cut short by the end of the connection is written too,
after "PARTIAL ".
"""
import os
import re
import selectors
import signal
import socket
import sys

FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
              "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security",
              "console", "solaris-cron"] + ["local%d" % n for n in range(8)]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info",
              "debug"]

RFC3164 = re.compile(r"^<(\d{1,3})>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?(.*)$",
                     re.S)
RFC5424 = re.compile(r"^<(\d{1,3})>1 \S+ \S+ (\S+) (\S+) \S+ (?:-|\[.*?\]) ?(.*)$",
                     re.S)


def decode(data):
    text = data.decode("utf-8", "replace").rstrip("\n\0")
    m = RFC5424.match(text)
    if m:
        pri, app, procid, msg = m.groups()
        if msg.startswith("\ufeff"):
            msg = msg[1:]
        tag = app if procid == "-" else "%s[%s]" % (app, procid)
        body = "%s: %s" % (tag, msg)
    else:
        m = RFC3164.match(text)
        if not m:
            return "unknown.unknown " + text.replace("\n", " ")
        pri, body = m.groups()
    pri = int(pri)
    fac, sev = pri >> 3, pri & 7
    fac = FACILITIES[fac] if fac < len(FACILITIES) else str(fac)
    return "%s.%s %s" % (fac, SEVERITIES[sev], body.replace("\n", " "))


def main(argv):
    path, out = argv[1], argv[2]
    idle = 120.0
    if "--idle" in argv:
        idle = float(argv[argv.index("--idle") + 1])
    paused = "--paused" in argv
    if paused:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stream = "--stream" in argv
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM if stream else socket.SOCK_DGRAM)
    tmp = path + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    s.bind(tmp)
    if stream:
        s.listen(8)
    os.chmod(tmp, 0o666)
    s.settimeout(idle)
    with open(out, "a", encoding="utf-8") as f:
        os.rename(tmp, path)        # SOCKET appears only once bound: ready
        if paused:
            if signal.sigwait({signal.SIGUSR1, signal.SIGTERM}) != signal.SIGUSR1:
                return 0
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        if "--stream" in argv:
            return serve_stream(s, f)
        while True:
            try:
                data = s.recv(65536)
            except socket.timeout:
                return 0
            f.write(decode(data) + "\n")
            f.flush()


def serve_stream(s, f):
    """Every connection at once, messages split at NUL or newline."""
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    rest = {}
    while True:
        ready = sel.select(s.gettimeout())
        if not ready:
            return 0
        for key, _ in ready:
            if key.fileobj is s:
                c, _ = s.accept()
                sel.register(c, selectors.EVENT_READ)
                rest[c] = b""
                continue
            c = key.fileobj
            data = c.recv(65536)
            if not data:
                if rest[c]:
                    f.write("PARTIAL " + decode(rest[c]) + "\n")
                sel.unregister(c)
                c.close()
                del rest[c]
            else:
                *msgs, rest[c] = re.split(rb"[\0\n]", rest[c] + data)
                for m in msgs:
                    if m:
                        f.write(decode(m) + "\n")
            f.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
