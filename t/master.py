#!/usr/bin/env python3
"""master.py - play Postfix's master(8) for a command, for tests.

usage: master.py --report FILE [--transport inet|unix|pass] [--procs N]
                 [--listeners N] [--path PATH] [--pipe] [--blocking]
                 [--generation STR] [--grace SECONDS] [--timeout SECONDS]
                 -- COMMAND [ARG ...]
       master.py --pass unix:PATH [--send TEXT] [--unix] [--greeted]
                 [--attr NAME=VALUE]...
                 [--plain] [--expect-close] [--timeout SECONDS]

The first form makes the listeners (--listeners, default 1): inet is
127.0.0.1, port 0; unix and pass are unix stream sockets at PATH (PATH.2,
PATH.3 ... for more; default: in a new directory under /tmp). Like
Postfix, it makes them non-blocking unless --blocking. It starts --procs
copies (default 1) of COMMAND, each with fds 0 and 1 /dev/null, fd 2
inherited, fds 3 and 4 the two ends of a "flow" pipe, fd 5 the child end
of the status channel they all share (a socketpair; with --pipe the write
end of a pipe), fd 6 and up the listeners, and GENERATION=STR in the
environment (default 17, octal as Postfix writes it; passed raw).

It prints each listener's address on stdout (127.0.0.1:PORT or
unix:PATH), then each child's pid, one a line, and closes stdout: reading
to end-of-file is the readiness signal. It appends to FILE, one line each
and flushed at once: every 12-byte status message as it arrives
(struct {int pid; unsigned gen; int avail} in native byte order) as
"PID GEN AVAIL"; bytes left over when the channel ends inside a message
as "partial HEX"; each child's end as "exit PID STATUS MS" (STATUS 128+N
when killed by signal N; MS the milliseconds since the disconnect below,
"-" before it). It exits when every child has ended.

SIGUSR1: close our end of the status channel (the children see end of
file on fd 5: the master is gone), wait for every child at most --grace
seconds (default 5), then SIGKILL what is left ("timeout PID" in FILE)
and exit. SIGTERM: SIGKILL the children ("killed PID"), exit. After
--timeout seconds (default 60) in all: as at the end of --grace.

The second form is a client of a pass service: it connects a TCP pair
through a throwaway listener on 127.0.0.1, port 0 (with --unix a unix
socketpair), passes one end to the service at PATH as Postfix 3.7's
postscreen does (unix_send_fd: the descriptor with SCM_RIGHTS and one
byte "\\0"; then attr_print0: "NAME\\0VALUE\\0" for each --attr and a
"\\0" that ends the list; with --plain attr_print_plain instead:
"NAME=VALUE\\n" lines and an empty line). With --expect-close it then
waits for the service to close that connection, as postscreen does, and
fails (exit 4) when it does not. The passed socket is non-blocking, as
postscreen's are. With --greeted it reads the handler's first line before
it sends anything. Then it sends TEXT on the other end,
half-closes, and prints what comes back until end of file. Exit status
0, 2 when connecting failed, 3 on timeout.
"""
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import tempfile
import time

STATUS = struct.Struct("=iIi")
flags = set()
made = []                       # a directory of ours, to remove at the end


def on_signal(signum, frame):
    flags.add(signum)


def listeners(transport, count, path, blocking):
    """the listening sockets and their addresses as -1 would print them"""
    socks, addrs = [], []
    if transport != "inet" and not path:
        path = os.path.join(tempfile.mkdtemp(prefix="master-"), "s")
        made.append(os.path.dirname(path))
    for n in range(count):
        if transport == "inet":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            addrs.append("127.0.0.1:%d" % s.getsockname()[1])
        else:
            p = path if n == 0 else "%s.%d" % (path, n + 1)
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(p)
            addrs.append("unix:" + p)
        s.listen(128)
        s.setblocking(blocking)
        socks.append(s)
    return socks, addrs


def spawn(argv, fds, generation):
    """fork argv with fds[k] on fd 3 + k; its pid"""
    pid = os.fork()
    if pid:
        return pid
    try:
        # out of the way of fds 3 and up first
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 200) for fd in fds]
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        for k, fd in enumerate(high):
            os.dup2(fd, 3 + k)
        os.closerange(3 + len(high), 65536)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        for s in (signal.SIGPIPE, signal.SIGINT, signal.SIGCHLD,
                  signal.SIGUSR1, signal.SIGTERM):
            signal.signal(s, signal.SIG_DFL)
        os.environ["GENERATION"] = generation
        os.execvp(argv[0], argv)
    except BaseException as e:
        os.write(2, ("master.py: %s: %s\n" % (argv[0], e)).encode())
    os._exit(127)


def serve(opts, argv):
    out = open(opts["report"], "a", buffering=1)

    def report(line):
        out.write(line + "\n")
        out.flush()

    socks, addrs = listeners(opts["transport"], opts["listeners"],
                             opts["path"], opts["blocking"])
    if opts["pipe"]:
        ours, theirs = os.pipe()
    else:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours, theirs = a.detach(), b.detach()
    flow_r, flow_w = os.pipe()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    for s in (signal.SIGCHLD, signal.SIGUSR1, signal.SIGTERM):
        signal.signal(s, on_signal)
    fds = [flow_r, flow_w, theirs] + [s.fileno() for s in socks]
    children = [spawn(argv, fds, opts["generation"])
                for _ in range(opts["procs"])]
    os.close(theirs)
    for a in addrs:
        print(a)
    for pid in children:
        print(pid)
    sys.stdout.flush()
    os.close(1)
    sys.stdout = None

    running = set(children)
    buf = b""
    closed_at = None            # time of the disconnect
    deadline = time.monotonic() + opts["timeout"]
    status_open = True

    def drain():
        nonlocal buf, status_open
        while status_open:
            r, _, _ = select.select([ours], [], [], 0)
            if not r:
                return
            data = os.read(ours, 4096)
            if not data:
                status_open = False
                break
            buf += data
            while len(buf) >= STATUS.size:
                report("%d %d %d" % STATUS.unpack(buf[:STATUS.size]))
                buf = buf[STATUS.size:]
        if buf:                 # the channel ended inside a message
            report("partial " + buf.hex())
            buf = b""

    def reap():
        for pid in list(running):
            got, st = os.waitpid(pid, os.WNOHANG)
            if got != pid:
                continue
            drain()
            running.discard(pid)
            code = (128 + os.WTERMSIG(st) if os.WIFSIGNALED(st)
                    else os.WEXITSTATUS(st))
            ms = ("%d" % ((time.monotonic() - closed_at) * 1000)
                  if closed_at is not None else "-")
            report("exit %d %d %s" % (pid, code, ms))

    def kill_all(why):
        for pid in running:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            report("%s %d" % (why, pid))
        for pid in running:
            os.waitpid(pid, 0)

    while running:
        now = time.monotonic()
        if signal.SIGTERM in flags:
            kill_all("killed")
            break
        if now > deadline:
            kill_all("timeout")
            break
        if signal.SIGUSR1 in flags and closed_at is None:
            drain()
            if buf:
                report("partial " + buf.hex())
            os.close(ours)
            status_open = False
            closed_at = time.monotonic()
            deadline = min(deadline, closed_at + opts["grace"])
        flags.discard(signal.SIGCHLD)
        drain()
        reap()
        if not running:
            break
        watch = [wake_r] + ([ours] if status_open else [])
        r, _, _ = select.select(watch, [], [], 0.1)
        if wake_r in r:
            os.read(wake_r, 512)
    if status_open:
        drain()
    for s in socks:
        if s.family == socket.AF_UNIX:
            try:
                os.unlink(s.getsockname())
            except OSError:
                pass
    for d in made:
        os.rmdir(d)
    return 0


def attr_list(attrs, plain):
    """an attribute list as Postfix's attr_print0 (or attr_print_plain)"""
    out = b""
    for a in attrs:
        name, value = a.split("=", 1)
        out += (b"%s=%s\n" if plain else b"%s\0%s\0") % (
            name.encode(), value.encode())
    return out + (b"\n" if plain else b"\0")


def pass_client(target, send, unix, timeout, attrs=(), plain=False,
                expect_close=False, greeted=False):
    """the second form: pass a connection to the service, be its client"""
    if unix:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        mine = socket.create_connection(lsock.getsockname(), timeout)
        theirs, _ = lsock.accept()
        lsock.close()
    mine.settimeout(timeout)
    try:
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.settimeout(timeout)
        ctl.connect(target[len("unix:"):] if target.startswith("unix:")
                    else target)
        theirs.setblocking(False)       # as postscreen's are
        socket.send_fds(ctl, [b"\0"], [theirs.fileno()])
        ctl.sendall(attr_list(attrs, plain))
    except OSError as e:
        print("connect: %s" % e, file=sys.stderr)
        return 2
    theirs.close()
    if expect_close:
        try:
            if ctl.recv(1) != b"":
                print("pass connection: data from the service",
                      file=sys.stderr)
                return 4
        except socket.timeout:
            print("pass connection: not closed by the service",
                  file=sys.stderr)
            return 4
    out = bytearray()
    try:
        while greeted and b"\n" not in out:
            chunk = mine.recv(65536)
            if not chunk:
                break
            out += chunk
        if send:
            mine.sendall(send)
        mine.shutdown(socket.SHUT_WR)
        while True:
            chunk = mine.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        sys.stdout.buffer.write(bytes(out))
        print("client: timeout", file=sys.stderr)
        return 3
    sys.stdout.buffer.write(bytes(out))
    ctl.close()
    return 0


def main(argv):
    opts = {"report": None, "transport": "inet", "procs": 1, "listeners": 1,
            "path": None, "pipe": False, "blocking": False,
            "generation": "17", "grace": 5.0, "timeout": 60.0,
            "pass": None, "send": b"", "unix": False, "plain": False,
            "expect-close": False, "greeted": False, "attr": []}
    args = argv[1:]
    while args and args[0] != "--":
        opt = args.pop(0)
        key = opt[2:]
        if key in ("pipe", "blocking", "unix", "plain", "expect-close",
                   "greeted"):
            opts[key] = True
        elif key == "attr":
            opts[key].append(args.pop(0))
        elif key in ("procs", "listeners"):
            opts[key] = int(args.pop(0))
        elif key in ("grace", "timeout"):
            opts[key] = float(args.pop(0))
        elif key == "send":
            opts[key] = args.pop(0).encode().decode(
                "unicode_escape").encode("latin-1")
        elif key in ("report", "transport", "path", "generation", "pass"):
            opts[key] = args.pop(0)
        else:
            print("master.py: unknown option " + opt, file=sys.stderr)
            return 64
    if opts["pass"]:
        return pass_client(opts["pass"], opts["send"], opts["unix"],
                           opts["timeout"] if "--timeout" in argv else 10.0,
                           opts["attr"], opts["plain"], opts["expect-close"],
                           opts["greeted"])
    if (not args or len(args) < 2 or not opts["report"]
            or opts["transport"] not in ("inet", "unix", "pass")):
        print(__doc__, file=sys.stderr)
        return 64
    return serve(opts, args[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
