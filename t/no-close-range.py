#!/usr/bin/env python3
"""no-close-range.py - run a command where close_range(2) is refused.

usage: no-close-range.py ERRNO -- COMMAND [ARG ...]

Installs a seccomp filter that makes close_range fail with ERRNO (EPERM,
as some container profiles answer, or ENOSYS, as a kernel before 5.9
does) and lets every other system call through, then execs COMMAND,
which keeps the filter and this pid. x86_64 only: on another
architecture it exits 77 (a skip).
"""
import ctypes
import errno
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
AUDIT_ARCH_X86_64 = 0xC000003E
NR_CLOSE_RANGE = 436                    # x86_64
BPF_LD_W_ABS = 0x20                     # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15                        # BPF_JMP | BPF_JEQ | BPF_K
BPF_RET_K = 0x06                        # BPF_RET | BPF_K


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def insn(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.exit("usage: no-close-range.py ERRNO -- COMMAND [ARG ...]")
    if platform.machine() != "x86_64":
        sys.exit(77)
    err = getattr(errno, argv[1])
    prog = [
        insn(BPF_LD_W_ABS, 4),                          # seccomp_data.arch
        insn(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        insn(BPF_RET_K, SECCOMP_RET_ALLOW),
        insn(BPF_LD_W_ABS, 0),                          # seccomp_data.nr
        insn(BPF_JEQ_K, NR_CLOSE_RANGE, 0, 1),
        insn(BPF_RET_K, SECCOMP_RET_ERRNO | err),
        insn(BPF_RET_K, SECCOMP_RET_ALLOW),
    ]
    code = ctypes.create_string_buffer(b"".join(prog))
    fprog = SockFprog(len(prog), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                          ctypes.byref(fprog), 0, 0) != 0):
        sys.exit("no-close-range.py: seccomp: "
                 + os.strerror(ctypes.get_errno()))
    os.execvp(argv[3], argv[3:])


if __name__ == "__main__":
    main(sys.argv)
