#!/usr/bin/env python3
"""held.py - run a server on a listening socket that it does not own.

usage: held.py [HOST:PORT] -- COMMAND [ARG ...]

Binds and listens on HOST:PORT (default 127.0.0.1:0, a free port), then
execs COMMAND with the socket on fd 3 and LISTEN_FDS=1, LISTEN_PID set to
its own pid, as systemd socket activation passes it. single-server then
treats the socket as a supervisor's: max_use, max_idle and SIGHUP end it
instead of re-executing it. The exec keeps this pid, so whoever started
held.py can signal the server by the pid it saved.
"""
import os
import socket
import sys


def main(argv):
    sep = argv.index("--")
    spec = argv[1] if sep > 1 else "127.0.0.1:0"
    host, port = spec.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(128)
    if s.fileno() != 3:
        os.dup2(s.fileno(), 3)
        s.close()
    os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ.pop("LISTEN_FDNAMES", None)
    os.execvp(argv[sep + 1], argv[sep + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
