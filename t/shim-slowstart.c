/*
 * shim-slowstart.c - an LD_PRELOAD shim for t/privileges.bats: make the
 * time between a re-execution's execve() and the new image's main() long
 * enough to be seen.
 *
 *	LD_PRELOAD=t/.libs/shim-slowstart.so SHIM_SLOW_MS=N \
 *	    [SHIM_MARK=FILE] single-server ...
 *
 * In an image that a previous one handed over to (SINGLE_SERVER_HANDOVER
 * in the environment), the shim's constructor sleeps N milliseconds
 * (default 200) before main() runs: what the dynamic loader and the C
 * library's start do, made slow. Whatever a process of the same user can
 * do to the new image in that time (ptrace it), it can do in the real,
 * shorter window too, by trying often enough. With SHIM_MARK, each such
 * image first appends a line to FILE (which must exist), so that a test
 * can tell the shim did run. Other processes (the first
 * image, handlers, --check runs) start at the usual speed; the variables
 * stay in the environment, so every re-execution is slowed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* shim_mark - one line in $SHIM_MARK: the shim ran in this image */
static void shim_mark(void)
{
    const char *file = getenv("SHIM_MARK");
    int     fd;

    if (file == 0)
        return;
    if ((fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0
        || write(fd, "slowed\n", 7) != 7)
        abort();                        /* a broken test */
    close(fd);
}

/* shim_init - sleep, in a re-executed image only */
__attribute__((constructor))
static void shim_init(void)
{
    const char *cp = getenv("SHIM_SLOW_MS");
    long    ms = 200;
    char   *end;
    struct timespec ts;

    if (getenv("SINGLE_SERVER_HANDOVER") == 0)
        return;
    shim_mark();
    if (cp != 0) {
        ms = strtol(cp, &end, 10);
        if (*cp == 0 || *end != 0 || ms < 0 || ms > 10000)
            abort();                    /* a broken test */
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        /* void */ ;
}
