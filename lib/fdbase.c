/*
 * fdbase.c - the tool's own descriptors, above a base fixed at start
 *
 * Why a base rather than moving things out of the way when needed: a
 * re-execution dup2()s the listeners onto fds 3.. right before execve(),
 * and what it would clobber there (the log socket that the failed
 * execve() is logged to, the event loop's epoll instance, /dev/null)
 * is whatever happened to be opened first. Moving each of those aside
 * at that moment needs every module to be asked, and one forgotten
 * descriptor loses a listener when the execve() fails and the old image
 * carries on. With every descriptor of ours at or above the base, and
 * the base above every number a listener can be given, nothing needs
 * moving.
 *
 * Why the base does not depend on how many listeners there turn out to
 * be: /dev/null and the log socket are opened before the options are
 * parsed (a usage error is logged too). argc bounds the count of -L
 * options (each takes at least one word of argv), and a re-execution
 * passes on only those.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fdbase.h"
#include "mymalloc.h"

static int fdbase;                      /* 0: not fixed, no constraint */
static int *fdbase_held;                /* fdbase_hold()'s placeholders */
static int fdbase_nheld;

/* fdbase_init - fix the base, once, before anything is opened */
void    fdbase_init(int argc)
{
    struct rlimit rl;
    long    need = 3 + (long) (argc > 0 ? argc : 0);
    long    base = (need + FDBASE_MIN - 1) / FDBASE_MIN * FDBASE_MIN;

    /* Room above it for the loop, the log, and a stderr pipe per handler. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
        && base > (long) (rl.rlim_cur / 2))
        base = (long) (rl.rlim_cur / 2);
    if (base < need)
        base = need;
    fdbase = base > INT_MAX / 2 ? INT_MAX / 2 : (int) base;
}

/* fdbase_get - the base; 0 before fdbase_init() */
int     fdbase_get(void)
{
    return (fdbase);
}

/* fdbase_dup - another descriptor of fd's file, at or above the base */
int     fdbase_dup(int fd)
{
    int     copy;

    if ((copy = fcntl(fd, F_DUPFD_CLOEXEC, fdbase)) < 0 && errno == EINVAL)
        errno = EMFILE;                 /* the limit is at or below the base */
    return (copy);
}

/* fdbase_lift - fd moved to at or above the base; the original closed */
int     fdbase_lift(int fd)
{
    int     moved;
    int     saved_errno;

    if (fd < 0 || fd >= fdbase)
        return (fd);
    moved = fdbase_dup(fd);
    saved_errno = errno;
    (void) close(fd);
    errno = saved_errno;
    return (moved);
}

/*
 * fdbase_hold - copies of fd on every free descriptor from 3 below the
 * base, so that what a library opens for itself now lands above it
 */
void    fdbase_hold(int fd)
{
    int     copy;

    fdbase_release();
    if (fdbase <= 3)
        return;
    fdbase_held = mymalloc((size_t) (fdbase - 3) * sizeof(int));
    while (fdbase_nheld < fdbase - 3
           && (copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)) >= 0) {
        if (copy >= fdbase) {           /* every one below is taken */
            (void) close(copy);
            break;
        }
        fdbase_held[fdbase_nheld++] = copy;
    }
}

/* fdbase_release - the placeholders closed again */
void    fdbase_release(void)
{
    while (fdbase_nheld > 0)
        (void) close(fdbase_held[--fdbase_nheld]);
    myfree(fdbase_held);
    fdbase_held = 0;
}
