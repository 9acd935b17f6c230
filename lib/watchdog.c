/*
 * watchdog.c - abort a process whose event loop is stuck
 *
 * The alarm is re-armed from a timer in the event loop, not from a
 * callback we trust: if any callback blocks, the timer does not run,
 * the alarm goes off, and the signal handler (async-signal-safe: a line
 * formatted in advance, sent with write and send, then _exit) ends the
 * process. Should that write block, a second alarm a second later kills
 * the process with SIGALRM.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "msg.h"
#include "watchdog.h"

static unsigned watchdog_timeout;

/*
 * watchdog_alarm - the loop is stuck: leave. The last words go to a
 * stderr that may be what wedged the loop (a full pipe nobody reads):
 * a second alarm, with the default action, ends a write() that blocks.
 */
static void watchdog_alarm(int sig)
{
    struct sigaction sa;
    sigset_t alrm;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    (void) sigaction(sig, &sa, 0);
    sigemptyset(&alrm);
    sigaddset(&alrm, sig);
    (void) sigprocmask(SIG_UNBLOCK, &alrm, 0);
    alarm(1);
    ss_msg_emergency();                    /* prepared in watchdog_start() */
    _exit(SS_MSG_EXIT_SYSTEM);
}

/* watchdog_pat - the loop still runs: push the alarm back */
static void watchdog_pat(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
    alarm(watchdog_timeout);
}

/* watchdog_start - arm the alarm and the timer that pats it */
void    watchdog_start(struct event_base *base, long timeout)
{
    struct sigaction sa;
    struct event *ev;
    struct timeval tv;

    if (timeout <= 0)
        return;
    watchdog_timeout = (unsigned) timeout;
    ss_msg_emergency_prepare("watchdog timeout -- exiting");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = watchdog_alarm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, 0) < 0)
        ss_msg_fatal("sigaction SIGALRM: %m");
    tv.tv_sec = timeout / 4;
    tv.tv_usec = timeout < 4 ? 250000 * timeout : 0;
    if ((ev = event_new(base, -1, EV_PERSIST, watchdog_pat, 0)) == 0
        || event_add(ev, &tv) < 0)
        ss_msg_fatal("watchdog timer: cannot create");
    alarm(watchdog_timeout);
}
