/*
 * shim-clockstep.c - an LD_PRELOAD shim for t/reexec.bats: step the wall
 * clock of a running server, as an administrator or NTP would, without
 * touching the machine's clock or the monotonic one.
 *
 *	LD_PRELOAD=t/.libs/shim-clockstep.so SHIM_CLOCK_STEP=SECONDS \
 *	SHIM_CLOCK_FILE=PATH single-server ...
 *
 * Once PATH exists, every wall clock reading (gettimeofday(), time(),
 * clock_gettime() of CLOCK_REALTIME and CLOCK_REALTIME_COARSE) is moved
 * by SECONDS (negative: back); before, and for every other clock, the C
 * library answers. The file is looked at in each reading until it is
 * there (one access(2)); a server reads the wall clock seldom. A private
 * time namespace (unshare -T) cannot do this: it moves only the
 * monotonic and boot-time clocks. The variables stay in the environment:
 * a re-executed image (and a handler) sees the same stepped clock.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*shim_clock_fn) (clockid_t, struct timespec *);

static shim_clock_fn shim_real_clock_gettime;
static const char *shim_file;
static long shim_step;
static int shim_stepped;

/* shim_init - read the settings once */
__attribute__((constructor))
static void shim_init(void)
{
    const char *cp = getenv("SHIM_CLOCK_STEP");
    char   *end;

    shim_real_clock_gettime = (shim_clock_fn) dlsym(RTLD_NEXT, "clock_gettime");
    shim_file = getenv("SHIM_CLOCK_FILE");
    if (shim_real_clock_gettime == 0 || cp == 0 || shim_file == 0)
        abort();                        /* a broken test */
    shim_step = strtol(cp, &end, 10);
    if (*cp == 0 || *end != 0 || shim_step < -100000 || shim_step > 100000)
        abort();
}

/* shim_offset - the step, once the trigger file is there */
static long shim_offset(void)
{
    if (!shim_stepped && access(shim_file, F_OK) == 0)
        shim_stepped = 1;
    return (shim_stepped ? shim_step : 0);
}

/* clock_gettime - the wall clocks stepped */
int     clock_gettime(clockid_t id, struct timespec *ts)
{
    int     ret = shim_real_clock_gettime(id, ts);

    if (ret == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += shim_offset();
    return (ret);
}

/* gettimeofday - the wall clock, stepped */
int     gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec ts;

    (void) tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return (-1);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return (0);
}

/* time - the wall clock, stepped */
time_t  time(time_t *tp)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return ((time_t) -1);
    if (tp)
        *tp = ts.tv_sec;
    return (ts.tv_sec);
}
