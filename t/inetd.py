#!/usr/bin/env python3
"""inetd.py - run a command the way inetd runs a service, for tests.

usage: inetd.py nowait|wait [--stderr socket|closed|FILE] [--timeout SECONDS]
                -- COMMAND [ARG ...]

Listens on 127.0.0.1, port 0, and prints the bound address (127.0.0.1:PORT)
on stdout: the readiness signal. Then, as inetd does:

  nowait  accepts ONE connection and runs COMMAND with fds 0, 1 and 2 the
          accepted socket (closing its own copy at once);
  wait    runs COMMAND with fds 0, 1 and 2 the listening socket itself,
          without accepting anything.

--stderr changes fd 2 only: "closed" leaves it closed, a FILE makes it the
write end of a pipe whose output is copied to FILE (a log collector).
Every other fd above 2 is closed in COMMAND, the signal mask and
dispositions are the defaults. When COMMAND is running, "pid N" is
printed; when it has ended, "exit N" or "signal N". --timeout bounds the
wait for the connection and for COMMAND (default 30 s): COMMAND then gets
SIGTERM (and SIGKILL 2 s later) and "timeout" is printed. SIGTERM sent to
inetd.py is passed on to COMMAND, so killing inetd.py by its pid stops both.
"""
import os
import select
import signal
import socket
import sys
import time

child = 0


def on_term(signum, frame):
    if child:
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass
    sys.exit(143)


def spawn(argv, fd, stderr):
    """fork COMMAND with fds 0, 1, 2 = fd; return (pid, pipe read end)"""
    rfd = wfd = -1
    if stderr not in ("socket", "closed"):
        rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            for n in (0, 1):
                os.dup2(fd, n)
            if stderr == "socket":
                os.dup2(fd, 2)
            elif stderr == "closed":
                os.close(2)
            else:
                os.dup2(wfd, 2)
            os.closerange(3, 65536)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            for s in (signal.SIGTERM, signal.SIGPIPE, signal.SIGINT):
                signal.signal(s, signal.SIG_DFL)
            os.execvp(argv[0], argv)
        except BaseException:
            pass                # fd 2 may be the client: say nothing
        os._exit(127)
    if wfd >= 0:
        os.close(wfd)
    return pid, rfd


def collect(pid, rfd, path, deadline):
    """copy the stderr pipe to path until COMMAND ends; its status"""
    out = open(path, "ab", buffering=0) if rfd >= 0 else None
    status = None
    while status is None:
        if time.monotonic() > deadline:
            print("timeout", flush=True)
            os.kill(pid, signal.SIGTERM)
            time.sleep(2)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = float("inf")
        if rfd >= 0:
            r, _, _ = select.select([rfd], [], [], 0.05)
            if r:
                data = os.read(rfd, 65536)
                if data:
                    out.write(data)
                else:
                    os.close(rfd)
                    rfd = -1
        else:
            time.sleep(0.02)
        got, st = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            status = st
    # what is left in the pipe; descendants may hold it open: bounded
    end = time.monotonic() + 0.5
    while rfd >= 0 and time.monotonic() < end:
        r, _, _ = select.select([rfd], [], [], 0.05)
        if r:
            data = os.read(rfd, 65536)
            if not data:
                break
            out.write(data)
    return status


def main(argv):
    global child
    args = argv[1:]
    stderr, timeout = "socket", 30.0
    if not args or args[0] not in ("nowait", "wait"):
        print(__doc__, file=sys.stderr)
        return 64
    mode = args.pop(0)
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--stderr":
            stderr = args.pop(0)
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        else:
            print("inetd.py: unknown option " + opt, file=sys.stderr)
            return 64
    command = args[1:]
    if not command:
        print("inetd.py: no command", file=sys.stderr)
        return 64
    signal.signal(signal.SIGTERM, on_term)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    print("127.0.0.1:%d" % lsock.getsockname()[1], flush=True)
    deadline = time.monotonic() + timeout
    if mode == "nowait":
        lsock.settimeout(timeout)
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            print("timeout", flush=True)
            return 1
        lsock.close()
        conn.setblocking(True)
        child, rfd = spawn(command, conn.fileno(), stderr)
        conn.close()
    else:
        child, rfd = spawn(command, lsock.fileno(), stderr)
        lsock.close()
    print("pid %d" % child, flush=True)
    status = collect(child, rfd, stderr, deadline)
    if os.WIFSIGNALED(status):
        print("signal %d" % os.WTERMSIG(status), flush=True)
    else:
        print("exit %d" % os.WEXITSTATUS(status), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
