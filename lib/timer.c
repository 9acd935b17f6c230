/*
 * timer.c - arm a libevent timer, or die trying
 */
#include "config.h"

#include <time.h>

#include "msg.h"
#include "timer.h"

/* timer_arm - add a timer; one that cannot be armed is fatal */
void    timer_arm(struct event *ev, const struct timeval *tv)
{
    if (event_add(ev, tv) < 0)
        ss_msg_fatal("cannot arm a timer: out of memory");
}

/* timer_deadline - ms from now on the monotonic clock */
void    timer_deadline(struct timespec *deadline, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (ms % 1000) * 1000000;
    if (deadline->tv_nsec >= 1000000000) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000;
    }
}

/* timer_left - milliseconds to a deadline on the monotonic clock */
long    timer_left(const struct timespec *deadline)
{
    struct timespec now;
    long    ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long) (deadline->tv_sec - now.tv_sec) * 1000
        + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return (ms < 0 ? 0 : ms);
}

/* timer_until - wait with ev for the time that is left: 0 none is */
int     timer_until(struct event *ev, const struct timespec *deadline)
{
    long    ms = timer_left(deadline);
    struct timeval left = {ms / 1000, (ms % 1000) * 1000};

    /* Each wake-up would restart the event's timer: give it what is left. */
    if (ms > 0)
        timer_arm(ev, &left);
    return (ms > 0);
}
