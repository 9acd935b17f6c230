/*
 * child.c - track, time-limit and reap handler processes; log their stderr
 *
 * Each tracked child has a slot with its own timer event. Slots are kept
 * on a free list and reused, so starting a child allocates nothing once
 * the pool has grown to the largest number of children seen at once.
 *
 * A child's stderr pipe has a slot of its own (CHILD_LOG), because the
 * two ends are independent: the child may be reaped while something it
 * started still writes to the pipe, or the pipe may close long before
 * the child exits. Each read takes at most one buffer's worth, so a child
 * that floods its stderr gets one turn per pass of the event loop like
 * every other event, and memory stays bounded by the line length.
 *
 * Signals go to the child's process group when it leads one (the
 * skeleton starts handlers that way), so that a shell handler's own
 * children are reached too; getpgid() is asked only when a signal is
 * sent, never per connection.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "child.h"
#include "fdbase.h"
#include "handover.h"
#include "reexec.h"
#include "msg.h"
#include "mymalloc.h"
#include "timer.h"

typedef struct CHILD {
    pid_t   pid;
    int     killing;                    /* SIGTERM sent, SIGKILL is next */
    int     group;                      /* ... to its whole process group */
    int     reaped;                     /* only the group's SIGKILL is left */
    struct event *timer;                /* time limit, then the SIGKILL */
    struct CHILD *next;
} CHILD;

#define CHILD_LOG_FLUSH_READS 64        /* reads per pipe when leaving */
#define CHILD_LOG_RATE  100             /* lines logged per handler per second */

typedef struct CHILD_LOG {
    pid_t   pid;                        /* for the log lines */
    int     fd;                         /* read end of the stderr pipe */
    struct event *ev;
    size_t  len;                        /* bytes of a partial line in buf */
    int     cut;                        /* buf was just logged as a piece */
    time_t  window;                     /* the second lines are counted in */
    int     lines;                      /* lines logged in that second */
    long    suppressed;                 /* lines not logged in it */
    char    buf[CHILD_LOG_LINE];
    struct CHILD_LOG *next;
} CHILD_LOG;

static struct event_base *child_base;
static long child_time_limit;
static CHILD_EXIT_FN child_exit_fn;
static void *child_context;
static CHILD *child_running;
static CHILD *child_lingering;          /* reaped, their group to SIGKILL */
static CHILD *child_free_list;
static int child_nrunning;
static CHILD_LOG *child_logs;
static CHILD_LOG *child_log_free_list;
typedef struct CHILD_KEPT {
    pid_t   pid;                        /* 0: a free slot */
    CHILD_EXIT_FN fn;
    void   *context;
} CHILD_KEPT;

static CHILD_KEPT *child_kept;           /* child_keep(), grows */
static int child_kept_size;
static pid_t child_watch_pid;
static CHILD_EXIT_FN child_watch_fn;
static void *child_watch_context;

/*
 * child_kill - signal a child's process group when it leads one; 1 when
 * the group got it. A child that has exited but is not reaped yet gets
 * nothing: what it left running is left alone.
 */
static int child_kill(pid_t pid, int sig)
{
    siginfo_t si;

    si.si_pid = 0;
    if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0
        && si.si_pid == pid)
        return (0);
    if (getpgid(pid) == pid) {
        (void) kill(-pid, sig);
        return (1);
    }
    (void) kill(pid, sig);
    return (0);
}

/* child_tracked - is pid a running child of ours? */
static int child_tracked(pid_t pid)
{
    CHILD  *cp;

    for (cp = child_running; cp; cp = cp->next)
        if (cp->pid == pid)
            return (1);
    return (0);
}

/*
 * child_linger_end - the second after SIGTERM is over for the group of a
 * handler that was reaped meanwhile: SIGKILL what is left of it, so that
 * no process of the group keeps the client connected past the limit.
 * The group id cannot be reused while a member lives; a pid reused by a
 * new handler of ours is spared.
 */
static void child_linger_end(CHILD *cp)
{
    CHILD **cpp;

    if (!child_tracked(cp->pid) && kill(-cp->pid, 0) == 0) {
        ss_msg_warn("process group %ld still running -- sending SIGKILL",
                 (long) cp->pid);
        (void) kill(-cp->pid, SIGKILL);
    }
    for (cpp = &child_lingering; *cpp != cp; cpp = &(*cpp)->next)
         /* void */ ;
    *cpp = cp->next;
    cp->next = child_free_list;
    child_free_list = cp;
}

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
    if (cp->reaped) {
        child_linger_end(cp);
        return;
    }
    if (cp->killing) {
        ss_msg_warn("handler pid %ld still running -- sending SIGKILL",
                 (long) cp->pid);
        (void) child_kill(cp->pid, SIGKILL);
        return;
    }
    ss_msg_warn("handler pid %ld: time limit of %lds exceeded -- sending SIGTERM",
             (long) cp->pid, child_time_limit);
    cp->group = child_kill(cp->pid, SIGTERM);
    cp->killing = 1;
    timer_arm(cp->timer, &one);
}

/* child_log_suppressed - say how many lines the rate limit held back */
static void child_log_suppressed(CHILD_LOG *lp)
{
    if (lp->suppressed > 0)
        ss_msg_warn("handler %ld: %ld more line(s) not logged (at most %d a "
                 "second)", (long) lp->pid, lp->suppressed, CHILD_LOG_RATE);
    lp->suppressed = 0;
}

/*
 * child_log_emit - log one line (or a piece of a long one). At most
 * CHILD_LOG_RATE a second per handler: logging never waits, but a
 * handler flooding its stderr must not crowd every other line out of a
 * syslog daemon that falls behind, nor keep the event loop formatting.
 */
static void child_log_emit(CHILD_LOG *lp, const char *text, size_t len)
{
    struct timeval now;

    event_base_gettimeofday_cached(child_base, &now);
    if (now.tv_sec != lp->window) {
        child_log_suppressed(lp);
        lp->window = now.tv_sec;
        lp->lines = 0;
    }
    if (++lp->lines > CHILD_LOG_RATE) {
        lp->suppressed++;
        return;
    }
    if (len > 0 && text[len - 1] == '\r')
        len--;
    ss_msg_warn("handler %ld: %.*s", (long) lp->pid, (int) len, text);
}

/* child_log_close - the pipe is done: the rest of a line, then free */
static void child_log_close(CHILD_LOG *lp)
{
    CHILD_LOG **lpp;

    if (lp->len > 0)
        child_log_emit(lp, lp->buf, lp->len);
    child_log_suppressed(lp);
    for (lpp = &child_logs; *lpp != lp; lpp = &(*lpp)->next)
         /* void */ ;
    *lpp = lp->next;
    event_del(lp->ev);
    close(lp->fd);
    lp->fd = -1;
    lp->next = child_log_free_list;
    child_log_free_list = lp;
}

/* child_log_read - one read from a stderr pipe: 1 data, 0 EOF, -1 none now */
static int child_log_read(CHILD_LOG *lp)
{
    ssize_t n = read(lp->fd, lp->buf + lp->len, sizeof(lp->buf) - lp->len);
    char   *start;
    char   *nl;
    char   *end;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return (-1);
    if (n <= 0)
        return (0);                     /* end of file, or nothing to wait for */
    end = lp->buf + lp->len + n;
    for (start = lp->buf; (nl = memchr(start, '\n', end - start)) != 0;
         start = nl + 1) {
        /* The newline right after a piece ends that line: nothing to log. */
        if (!(lp->cut && nl == lp->buf))
            child_log_emit(lp, start, nl - start);
        lp->cut = 0;
    }
    lp->len = end - start;
    lp->cut = lp->len == sizeof(lp->buf);
    if (lp->cut) {                      /* a long line: log this piece */
        child_log_emit(lp, lp->buf, lp->len);
        lp->len = 0;
    } else if (start != lp->buf) {
        memmove(lp->buf, start, lp->len);
    }
    return (1);
}

/* child_log_event - a stderr pipe is readable */
static void child_log_event(evutil_socket_t fd, short what, void *arg)
{
    CHILD_LOG *lp = arg;

    (void) fd;
    (void) what;
    if (child_log_read(lp) == 0)
        child_log_close(lp);
}

/* child_log_add - read a child's stderr pipe from the event loop */
static void child_log_add(pid_t pid, int fd)
{
    CHILD_LOG *lp;

    if ((lp = child_log_free_list) != 0) {
        child_log_free_list = lp->next;
        if (event_assign(lp->ev, child_base, fd, EV_READ | EV_PERSIST,
                         child_log_event, lp) < 0)
            ss_msg_fatal("event_assign: cannot watch a stderr pipe");
    } else {
        lp = mycalloc(1, sizeof(*lp));
        if ((lp->ev = event_new(child_base, fd, EV_READ | EV_PERSIST,
                                child_log_event, lp)) == 0)
            ss_msg_fatal("event_new: out of memory");
    }
    lp->pid = pid;
    lp->fd = fd;
    lp->len = 0;
    lp->cut = 0;
    lp->window = 0;
    lp->lines = 0;
    lp->suppressed = 0;
    lp->next = child_logs;
    child_logs = lp;
    if (event_add(lp->ev, 0) < 0)
        ss_msg_fatal("event_add: cannot watch a stderr pipe");
}

/*
 * child_log_flush - leaving: log what the pipes hold now, then close.
 * Bounded: a process left behind may still be writing.
 */
void    child_log_flush(void)
{
    int     n;

    while (child_logs) {
        for (n = 0; n < CHILD_LOG_FLUSH_READS; n++)
            if (child_log_read(child_logs) <= 0)
                break;
        child_log_close(child_logs);
    }
}

/* child_track - track a child; its timer fires in timer_ms (-1: none) */
static void child_track(pid_t pid, int log_fd, long timer_ms, int killing)
{
    CHILD  *cp;
    struct timeval tv = {timer_ms / 1000, (timer_ms % 1000) * 1000};

    if ((cp = child_free_list) != 0) {
        child_free_list = cp->next;
    } else {
        cp = mycalloc(1, sizeof(*cp));
        if ((cp->timer = evtimer_new(child_base, child_timer_event, cp)) == 0)
            ss_msg_fatal("evtimer_new: out of memory");
    }
    cp->pid = pid;
    cp->killing = killing;
    cp->group = killing;                /* handed over: it was signalled so */
    cp->reaped = 0;
    cp->next = child_running;
    child_running = cp;
    child_nrunning++;
    if (timer_ms >= 0)
        timer_arm(cp->timer, &tv);
    if (log_fd >= 0)
        child_log_add(pid, log_fd);
}

/* child_add - track a child that was just started */
void    child_add(pid_t pid, int log_fd)
{
    child_track(pid, log_fd, child_time_limit > 0 ? child_time_limit * 1000 : -1, 0);
}

/* child_watch - the one non-handler child whose end someone waits for */
void    child_watch(pid_t pid, CHILD_EXIT_FN fn, void *context)
{
    child_watch_pid = pid;
    child_watch_fn = fn;
    child_watch_context = context;
}

/* child_log_export - take a child's stderr pipe off the loop; its fd or -1 */
static int child_log_export(pid_t pid)
{
    CHILD_LOG *lp;
    int     fd;

    for (lp = child_logs; lp && lp->pid != pid; lp = lp->next)
         /* void */ ;
    if (lp == 0)
        return (-1);
    if (lp->len > 0)                    /* the next image starts afresh */
        child_log_emit(lp, lp->buf, lp->len);
    lp->len = 0;
    fd = fdbase_dup(lp->fd);            /* child_log_close() closes lp->fd */
    child_log_close(lp);
    if (fd < 0)
        ss_msg_fatal("dup stderr pipe: %m");
    return (fd);
}

/* child_export - every handler and stderr pipe, for the next image */
void    child_export(HANDOVER *state)
{
    HANDOVER_CHILD hc;
    CHILD  *cp;

    for (cp = child_running; cp; cp = cp->next) {
        hc = (HANDOVER_CHILD) {cp->pid, reexec_ms_left(child_base, cp->timer),
            cp->killing, child_log_export(cp->pid), 0};
        handover_add_child(state, &hc);
    }
    while (child_logs) {                /* their handlers were reaped */
        hc = (HANDOVER_CHILD) {child_logs->pid, -1, 0, 0, 1};
        hc.log_fd = child_log_export(child_logs->pid);
        handover_add_child(state, &hc);
    }
    for (cp = child_lingering; cp; cp = cp->next) {
        hc = (HANDOVER_CHILD) {cp->pid, reexec_ms_left(child_base, cp->timer), 1, -1, 1};
        handover_add_child(state, &hc);
    }
}

static int child_forget(pid_t);

/* child_linger - the group of a reaped handler gets SIGKILL in ms */
static void child_linger(pid_t pgid, long ms)
{
    child_track(pgid, -1, ms, 1);
    (void) child_forget(pgid);          /* killing, group: it lingers */
}

/* child_import - what a previous image of this process was tracking */
void    child_import(const HANDOVER *state)
{
    const HANDOVER_CHILD *hc;
    size_t  i;
    int     log_fd;

    for (i = 0; i < state->nchildren; i++) {
        hc = state->children + i;
        /* An image before the descriptor base may have left it low. */
        if ((log_fd = hc->log_fd) >= 0
            && ((log_fd = fdbase_lift(log_fd)) < 0
                || fcntl(log_fd, F_SETFD, FD_CLOEXEC) < 0))
            ss_msg_fatal("handover: stderr pipe fd %d: %m", hc->log_fd);
        if (hc->reaped && log_fd >= 0)
            child_log_add(hc->pid, log_fd);
        else if (hc->reaped)
            child_linger(hc->pid, hc->timer_ms);
        else
            child_track(hc->pid, log_fd, hc->timer_ms, hc->killing);
    }
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
            child_nrunning--;
            if (cp->killing && cp->group && evtimer_pending(cp->timer, 0)
                && kill(-pid, 0) == 0) {    /* the group lives on */
                cp->reaped = 1;         /* its group's SIGKILL is still due */
                cp->next = child_lingering;
                child_lingering = cp;
            } else {
                evtimer_del(cp->timer);
                cp->next = child_free_list;
                child_free_list = cp;
            }
            return (1);
        }
    }
    return (0);
}

/* child_ended - a handler was reaped: log, forget, tell the skeleton */
static void child_ended(pid_t pid, int status)
{
    char    text[64];

    /* Text only when it is logged: a normal end is the common case. */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        child_status_text(status, text, sizeof(text));
        ss_msg_warn("handler pid %ld %s", (long) pid, text);
    } else if (ss_msg_verbose) {
        ss_msg_info("handler pid %ld exit status 0", (long) pid);
    }
    if (child_forget(pid) && child_exit_fn)
        child_exit_fn(pid, status, child_context);
}

/* child_keep - a long-lived child that is not a handler (a TLS relay) */
void    child_keep(pid_t pid, CHILD_EXIT_FN fn, void *context)
{
    int     i;

    for (i = 0; i < child_kept_size && child_kept[i].pid > 0; i++)
         /* void */ ;
    if (i == child_kept_size) {
        child_kept_size = child_kept_size ? 2 * child_kept_size : 8;
        child_kept = myrealloc(child_kept, child_kept_size * sizeof(*child_kept));
        memset(child_kept + i, 0, (child_kept_size - i) * sizeof(*child_kept));
    }
    child_kept[i].pid = pid;
    child_kept[i].fn = fn;
    child_kept[i].context = context;
}

/* child_kept_find - the slot of a kept child, or null */
static CHILD_KEPT *child_kept_find(pid_t pid)
{
    int     i;

    for (i = 0; i < child_kept_size; i++)
        if (child_kept[i].pid == pid)
            return (child_kept + i);
    return (0);
}

/* child_collected - a child of ours was waited for */
static void child_collected(pid_t pid, int status)
{
    CHILD_KEPT *kp;
    CHILD_KEPT kept;

    if ((kp = child_kept_find(pid)) != 0) {
        kept = *kp;
        kp->pid = 0;
        kept.fn(pid, status, kept.context);
    } else if (pid == child_watch_pid) {
        child_watch_pid = 0;
        child_watch_fn(pid, status, child_watch_context);
    } else {
        child_ended(pid, status);
    }
}

/*
 * child_reap - collect every child of ours that has ended. Never
 * waitpid(-1): an application that links the library may have children
 * of its own, whose status is theirs to take. waitid(WNOWAIT) shows
 * which child ended without taking it; while that is one of ours it is
 * reaped by its pid (the common case, a system call per child). Only a
 * child of someone else's, left for them, makes us ask for each of ours
 * by name.
 */
void    child_reap(void)
{
    CHILD  *cp;
    CHILD  *next;
    siginfo_t si;
    pid_t   pid;
    int     status;
    int     i;

    for (;;) {
        si.si_pid = 0;
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0
            || si.si_pid == 0)
            return;                     /* nothing (more) has ended */
        if (si.si_pid != child_watch_pid && !child_tracked(si.si_pid)
            && child_kept_find(si.si_pid) == 0)
            break;                      /* not ours: ask by name below */
        if (waitpid(si.si_pid, &status, WNOHANG) == si.si_pid)
            child_collected(si.si_pid, status);
    }
    if (child_watch_pid > 0
        && waitpid(child_watch_pid, &status, WNOHANG) == child_watch_pid)
        child_collected(child_watch_pid, status);
    for (i = 0; i < child_kept_size; i++)
        if ((pid = child_kept[i].pid) > 0
            && waitpid(pid, &status, WNOHANG) == pid)
            child_collected(pid, status);
    for (cp = child_running; cp; cp = next) {
        next = cp->next;                /* cp may be forgotten below */
        if ((pid = waitpid(cp->pid, &status, WNOHANG)) == cp->pid)
            child_ended(pid, status);
        else if (pid < 0 && errno != EINTR)
            ss_msg_warn("waitpid %ld: %m", (long) cp->pid);
    }
}

/* child_log_count - stderr pipes being read */
int     child_log_count(void)
{
    CHILD_LOG *lp;
    int     n = 0;

    for (lp = child_logs; lp; lp = lp->next)
        n++;
    return (n);
}

/* child_lingering_count - groups whose SIGKILL is still due */
int     child_lingering_count(void)
{
    CHILD  *cp;
    int     n = 0;

    for (cp = child_lingering; cp; cp = cp->next)
        n++;
    return (n);
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
        (void) child_kill(cp->pid, sig);
}

/* child_terminate_all - SIGTERM now, SIGKILL in a second */
void    child_terminate_all(void)
{
    CHILD  *cp;
    struct timeval one = {1, 0};

    for (cp = child_running; cp; cp = cp->next) {
        cp->group = child_kill(cp->pid, SIGTERM);
        cp->killing = 1;
        timer_arm(cp->timer, &one);
    }
}
