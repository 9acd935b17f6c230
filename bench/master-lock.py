#!/usr/bin/env python3
"""master-lock.py - what the master(8) accept lock costs per connection.

    master-lock.py BINARY PROCS CONCURRENCY [single-server options...]

Plays Postfix's master(8) just enough: one listener on 127.0.0.1 (fd 6),
one status socket pair (fd 5), GENERATION=1, PROCS copies of
"BINARY -t inet -n lockbench -o max_use=0 [options] /bin/echo x", none
restarted. CONCURRENCY client threads make 2000 connections in all, each
reading the handler's line to end of file. Prints connections a second,
median and 99th percentile latency, and the status messages counted.
Run it with and without -l (no lock), e.g.

    bench/master-lock.py bin/single-server 4 1
    bench/master-lock.py bin/single-server 4 1 -l
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TOTAL = 2000


def main():
    binary, procs, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    extra = sys.argv[4:]
    state = tempfile.mkdtemp(prefix='ss-lockbench.')
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(128)
    ours, theirs = socket.socketpair()

    def layout():
        os.dup2(theirs.fileno(), 5)
        os.dup2(listener.fileno(), 6)
        for fd in 5, 6:             # dup2 onto itself keeps close-on-exec
            os.set_inheritable(fd, True)

    env = dict(os.environ, GENERATION='1')
    cmd = [binary, '-t', 'inet', '-n', 'lockbench', '-o', 'max_use=0',
           '-o', 'state_directory=' + state] + extra + ['/bin/echo', 'x']
    children = [subprocess.Popen(cmd, preexec_fn=layout, close_fds=False,
                                 env=env, stdin=subprocess.DEVNULL)
                for _ in range(procs)]
    theirs.close()
    port = listener.getsockname()[1]
    messages = [0, 0]

    def status():
        while True:
            data = ours.recv(12, socket.MSG_WAITALL)
            if len(data) < 12:
                return
            messages[struct.unpack('=iIi', data)[2]] += 1

    threading.Thread(target=status, daemon=True).start()
    latencies = []

    def client(count):
        for _ in range(count):
            start = time.monotonic()
            with socket.create_connection(('127.0.0.1', port), 10) as sock:
                reply = b''
                while True:
                    data = sock.recv(100)
                    if not data:
                        break
                    reply += data
            latencies.append(time.monotonic() - start)
            if reply != b'x\n':
                sys.exit('bad reply %r' % reply)

    threads = [threading.Thread(target=client, args=(TOTAL // conc,))
               for _ in range(conc)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    # A client sees end of file before its server reports "available".
    limit = time.monotonic() + 5
    while messages[1] < TOTAL and time.monotonic() < limit:
        time.sleep(0.01)
    latencies.sort()
    print('%d procs, %d at a time, %s: %.0f conn/s, p50 %.2f ms, p99 %.2f ms, '
          'taken %d, available %d' % (
              procs, conc, ' '.join(extra) or 'lock', len(latencies) / elapsed,
              latencies[len(latencies) // 2] * 1000,
              latencies[int(len(latencies) * 0.99)] * 1000,
              messages[0], messages[1]))
    ours.shutdown(socket.SHUT_RDWR)     # end of file on fd 5: they leave
    for child in children:
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
    for name in os.listdir(state):
        os.unlink(os.path.join(state, name))
    os.rmdir(state)


if __name__ == '__main__':
    main()
