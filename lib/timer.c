/*
 * timer.c - arm a libevent timer, or die trying
 */
#include "config.h"

#include "msg.h"
#include "timer.h"

/* timer_arm - add a timer; one that cannot be armed is fatal */
void    timer_arm(struct event *ev, const struct timeval *tv)
{
    if (event_add(ev, tv) < 0)
        ss_msg_fatal("cannot arm a timer: out of memory");
}
