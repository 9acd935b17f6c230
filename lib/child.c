/*
 * child.c - track, time-limit and reap handler processes
 *
 * Each tracked child has a slot with its own timer event. Slots are kept
 * on a free list and reused, so starting a child allocates nothing once
 * the pool has grown to the largest number of children seen at once.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <event2/event.h>

#include "child.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct CHILD {
    pid_t   pid;
    int     killing;                    /* SIGTERM sent, SIGKILL is next */
    struct event *timer;                /* time limit, then the SIGKILL */
    struct CHILD *next;
} CHILD;

static struct event_base *child_base;
static long child_time_limit;
static CHILD_EXIT_FN child_exit_fn;
static void *child_context;
static CHILD *child_running;
static CHILD *child_free_list;
static int child_nrunning;

/* child_init - remember the loop, the limit and the exit function */
void    child_init(struct event_base *base, long time_limit,
                           CHILD_EXIT_FN fn, void *context)
{
    child_base = base;
    child_time_limit = time_limit;
    child_exit_fn = fn;
    child_context = context;
}

/* child_timer_event - the time limit (or the SIGKILL grace) is over */
static void child_timer_event(evutil_socket_t fd, short what, void *arg)
{
    CHILD  *cp = arg;
    struct timeval one = {1, 0};

    (void) fd;
    (void) what;
    if (cp->killing) {
        msg_warn("handler pid %ld still running -- sending SIGKILL",
                 (long) cp->pid);
        (void) kill(cp->pid, SIGKILL);
        return;
    }
    msg_warn("handler pid %ld: time limit of %lds exceeded -- sending SIGTERM",
             (long) cp->pid, child_time_limit);
    (void) kill(cp->pid, SIGTERM);
    cp->killing = 1;
    evtimer_add(cp->timer, &one);
}

/* child_add - track a child that was just started */
void    child_add(pid_t pid)
{
    CHILD  *cp;
    struct timeval limit = {child_time_limit, 0};

    if ((cp = child_free_list) != 0) {
        child_free_list = cp->next;
    } else {
        cp = mycalloc(1, sizeof(*cp));
        if ((cp->timer = evtimer_new(child_base, child_timer_event, cp)) == 0)
            msg_fatal("evtimer_new: out of memory");
    }
    cp->pid = pid;
    cp->killing = 0;
    cp->next = child_running;
    child_running = cp;
    child_nrunning++;
    if (child_time_limit > 0)
        evtimer_add(cp->timer, &limit);
}

/* child_status_text - decode a wait status */
void    child_status_text(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d%s", WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else
        snprintf(buf, len, "wait status 0x%x", (unsigned) status);
}

/* child_forget - stop tracking pid; 1 if it was ours */
static int child_forget(pid_t pid)
{
    CHILD **cpp;
    CHILD  *cp;

    for (cpp = &child_running; (cp = *cpp) != 0; cpp = &cp->next) {
        if (cp->pid == pid) {
            *cpp = cp->next;
            evtimer_del(cp->timer);
            cp->next = child_free_list;
            child_free_list = cp;
            child_nrunning--;
            return (1);
        }
    }
    return (0);
}

/* child_reap - collect every child that has ended */
void    child_reap(void)
{
    pid_t   pid;
    int     status;
    char    text[64];

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        /* Text only when it is logged: a normal end is the common case. */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            child_status_text(status, text, sizeof(text));
            msg_warn("handler pid %ld %s", (long) pid, text);
        } else if (msg_verbose) {
            msg_info("handler pid %ld exit status 0", (long) pid);
        }
        if (child_forget(pid) && child_exit_fn)
            child_exit_fn(pid, status, child_context);
    }
    if (pid < 0 && errno != ECHILD && errno != EINTR)
        msg_warn("waitpid: %m");
}

/* child_count - how many tracked children run */
int     child_count(void)
{
    return (child_nrunning);
}

/* child_signal_all - send a signal to every tracked child */
void    child_signal_all(int sig)
{
    CHILD  *cp;

    for (cp = child_running; cp; cp = cp->next)
        (void) kill(cp->pid, sig);
}

/* child_terminate_all - SIGTERM now, SIGKILL in a second */
void    child_terminate_all(void)
{
    CHILD  *cp;
    struct timeval one = {1, 0};

    for (cp = child_running; cp; cp = cp->next) {
        (void) kill(cp->pid, SIGTERM);
        cp->killing = 1;
        evtimer_add(cp->timer, &one);
    }
}
