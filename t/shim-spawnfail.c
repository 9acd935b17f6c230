/*
 * shim-spawnfail.c - an LD_PRELOAD shim for t/faults.bats: make a
 * handler's start fail as it does when the system is out of processes,
 * memory or descriptors, a given number of times, then work again.
 *
 *	LD_PRELOAD=t/.libs/shim-spawnfail.so SHIM_SPAWN_FAILS=N \
 *	SHIM_SPAWN_ERRNO=NAME single-server ...
 *
 * The first N calls of execve() (default 1) fail with NAME (EAGAIN,
 * ENOMEM, EMFILE or ENFILE; default EAGAIN; or, for a program that
 * cannot be run, ENOENT, EACCES, ENOEXEC or ETXTBSY) without running
 * anything;
 * the later ones go to the C library. single-server starts every handler
 * with vfork() and execve() (lib/spawn_cmd.c): the call fails in the
 * child, which shares the count with the server until it exits, and the
 * server sees the error as spawn_cmd_start()'s, as it would see the
 * kernel's (EAGAIN at RLIMIT_NPROC, ENOMEM, ENFILE), on the first try
 * and with an exact count. vfork() itself cannot be wrapped: a wrapper
 * would return twice from one frame.
 *
 * At load time the shim takes LD_PRELOAD and its own two variables out
 * of the environment, before single-server copies it for its handlers:
 * handlers, --check runs and re-executions run without the shim.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef int (*shim_exec_fn) (const char *, char *const[], char *const[]);

static long shim_fails_left;
static shim_exec_fn shim_real_execve;   /* found at load: dlsym() is no */
                                        /* call for a vfork() child */
static int shim_errno = EAGAIN;

/* shim_errno_named - the error number a name stands for; 0 if unknown */
static int shim_errno_named(const char *name)
{
    static const struct {
        const char *name;
        int     err;
    }       table[] = {
        {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"EMFILE", EMFILE},
        {"ENFILE", ENFILE}, {"ENOENT", ENOENT}, {"EACCES", EACCES},
        {"ENOEXEC", ENOEXEC}, {"ETXTBSY", ETXTBSY},
    };
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(name, table[i].name) == 0)
            return (table[i].err);
    return (0);
}

/* shim_init - read the settings once, then leave no trace for children */
__attribute__((constructor))
static void shim_init(void)
{
    const char *cp;
    char   *end;

    shim_fails_left = 1;
    if ((cp = getenv("SHIM_SPAWN_FAILS")) != 0) {
        shim_fails_left = strtol(cp, &end, 10);
        if (*cp == 0 || *end != 0 || shim_fails_left < 0)
            abort();                    /* a broken test, not a fault */
    }
    if ((cp = getenv("SHIM_SPAWN_ERRNO")) != 0
        && (shim_errno = shim_errno_named(cp)) == 0)
        abort();
    shim_real_execve = (shim_exec_fn) dlsym(RTLD_NEXT, "execve");
    unsetenv("LD_PRELOAD");
    unsetenv("SHIM_SPAWN_FAILS");
    unsetenv("SHIM_SPAWN_ERRNO");
}

/* execve - fail while failures are left, then the real one */
int     execve(const char *path, char *const argv[], char *const envp[])
{
    if (shim_fails_left > 0) {
        shim_fails_left--;
        errno = shim_errno;
        return (-1);
    }
    if (shim_real_execve == 0) {
        errno = ENOSYS;
        return (-1);
    }
    return (shim_real_execve(path, argv, envp));
}
