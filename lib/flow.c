/*
 * flow.c - in-flow delay: a token bucket shared by every process of a service
 *
 * Postfix pauses a client when its queue manager has not handed out a
 * token; here the token bucket is a small file, so that the many short
 * stream-mode processes of one service (one per client under inetd or
 * systemd Accept=yes) share the budget with resident ones.
 *
 * The file holds one line, rewritten in place at a fixed width:
 *	"ssflow1 TOKENS STAMP\n"
 * An empty or unreadable line means a full bucket (a new service).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdbase.h"
#include "flow.h"
#include "msg.h"
#include "mymalloc.h"
#include "state.h"

struct FLOW {
    int     fd;
    char   *path;
    long    rate;
    long    burst;
    int64_t stuck_us;                   /* the lock was stuck: until then, */
                                        /* no waiting for it; 0: it works */
};

#define FLOW_FORMAT "ssflow1 %20" PRId64 " %20" PRId64 "\n"
#define FLOW_LINE   (8 + 20 + 1 + 20 + 1)
#define FLOW_LOCK_TRIES 50              /* about 50 ms in all */
#define FLOW_STUCK_US   1000000         /* then this long without waiting */

/* flow_bucket_take - refill for the elapsed time, then take one token */
void    flow_bucket_take(FLOW_BUCKET *b, int64_t now_us, long rate, long burst)
{
    int64_t cap = (int64_t) burst * FLOW_UNIT;
    int64_t elapsed;

    /* A damaged file may hold anything: start from sane values. */
    if (b->stamp_us < 0 || b->stamp_us > now_us)
        b->stamp_us = now_us;           /* also: the clock went backwards */
    elapsed = now_us - b->stamp_us;
    if (b->tokens > cap)
        b->tokens = cap;
    if (b->tokens < -cap)
        b->tokens = -cap;
    /* Clamp the gap first: elapsed * rate could overflow after years. */
    if (elapsed > 0 && rate > 0)
        b->tokens = elapsed >= (cap - b->tokens) / rate + 1 ? cap
            : b->tokens + elapsed * rate;
    b->stamp_us = now_us;
    b->granted = b->tokens >= FLOW_UNIT;

    /*
     * A client without a token still uses one: it borrows from the next
     * refill, so that the clients after it wait too until the rate has
     * caught up. The debt is bounded by the burst, so a flood is
     * forgotten after at most 2 * burst / rate seconds.
     */
    b->tokens -= FLOW_UNIT;
    if (b->tokens < -cap)
        b->tokens = -cap;
}

/* flow_open - the service's bucket file, checked */
FLOW   *flow_open(const char *dir, const char *service, long rate, long burst,
                          char **err)
{
    FLOW   *flow;
    char   *path;
    int     fd;

    if ((fd = state_open(dir, service, "flow", &path, err)) < 0)
        return (0);
    flow = mycalloc(1, sizeof(*flow));
    flow->fd = fd;
    flow->path = path;
    flow->rate = rate;
    flow->burst = burst;
    return (flow);
}

/* flow_adopt - a bucket file that a previous image of this process opened */
FLOW   *flow_adopt(int fd, const char *dir, const char *service, long rate,
                           long burst)
{
    FLOW   *flow = mycalloc(1, sizeof(*flow));
    int     moved;

    /* An image before the descriptor base may have left it low. */
    if ((moved = fdbase_lift(fd)) < 0 || fcntl(moved, F_SETFD, FD_CLOEXEC) < 0)
        ss_msg_fatal("in-flow state fd %d: %m", fd);
    flow->fd = moved;
    flow->path = state_path(dir, service, "flow");
    flow->rate = rate;
    flow->burst = burst;
    return (flow);
}

/* flow_fd - the descriptor of the bucket file, to pass it on */
int     flow_fd(const FLOW *flow)
{
    return (flow->fd);
}

/* flow_read - the bucket from the file; a full one when there is none */
static void flow_read(FLOW *flow, FLOW_BUCKET *b, int64_t now_us)
{
    char    line[FLOW_LINE + 1];
    ssize_t n = pread(flow->fd, line, FLOW_LINE, 0);

    if (n > 0) {
        line[n] = 0;
        if (sscanf(line, "ssflow1 %" SCNd64 " %" SCNd64, &b->tokens,
                   &b->stamp_us) == 2)
            return;
    }
    b->tokens = (int64_t) flow->burst * FLOW_UNIT;
    b->stamp_us = now_us;
}

/* flow_now - microseconds on the clock that every process shares */
static int64_t flow_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/*
 * flow_lock - the lock, without waiting long: a process of the service
 * that was stopped (SIGSTOP, a debugger) while holding it must not stall
 * every other one. The update under the lock takes microseconds. Once
 * the lock was found stuck, it is tried without waiting for a second:
 * every client waiting 50 ms would slow a server to 20 clients a second.
 */
static int flow_lock(FLOW *flow, int64_t now)
{
    struct timespec ms = {0, 1000000};
    int     tries = now < flow->stuck_us ? FLOW_LOCK_TRIES - 1 : 0;

    for (; tries < FLOW_LOCK_TRIES; tries++) {
        if (flock(flow->fd, LOCK_EX | LOCK_NB) == 0)
            return (0);
        if (errno != EWOULDBLOCK && errno != EINTR)
            return (-1);
        nanosleep(&ms, 0);
    }
    errno = EWOULDBLOCK;
    return (-1);
}

/* flow_take - take a token under the lock: 1 taken, 0 none */
int     flow_take(FLOW *flow)
{
    FLOW_BUCKET b;
    char    line[FLOW_LINE + 1];
    int64_t now;

    now = flow_now();
    if (flow_lock(flow, now) < 0) {
        /* Said once, until the lock works again. */
        if (flow->stuck_us == 0)
            ss_msg_warn("lock %s: %m -- serving without in-flow delay",
                        flow->path);
        flow->stuck_us = flow_now() + FLOW_STUCK_US;
        return (1);
    }
    if (flow->stuck_us != 0) {
        ss_msg_info("lock %s works again -- in-flow delay back on", flow->path);
        flow->stuck_us = 0;
    }
    now = flow_now();
    flow_read(flow, &b, now);
    flow_bucket_take(&b, now, flow->rate, flow->burst);
    snprintf(line, sizeof(line), FLOW_FORMAT, b.tokens, b.stamp_us);
    if (pwrite(flow->fd, line, FLOW_LINE, 0) != FLOW_LINE)
        ss_msg_warn("write %s: %m", flow->path);
    (void) flock(flow->fd, LOCK_UN);
    return (b.granted);
}

