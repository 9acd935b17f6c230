/*
 * relayd.c - the TLS relay process of a resident server (relayd.h)
 *
 * The channel is a SOCK_SEQPACKET pair: one message per client each way,
 * its descriptors attached, so that nothing has to be framed. A request
 * is the client's id, its ticket and its connection; a result is the id,
 * ok or not, the ticket, then the handler's variables (or why not), and
 * on success the handler's two descriptors. Both ends are the same
 * program, but the server still checks every length it reads.
 *
 * The relay sends blocking: the server reads its channel at once, and
 * a result must not be lost. The server sends without waiting: a relay
 * that is that far behind has the client refused.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdbase.h"
#include "mymalloc.h"
#include "privs.h"
#include "relay.h"
#include "relayd.h"
#include "timer.h"
#include "single_server.h"

#define RELAYD_HEAD	12              /* id, ok, ticket and text lengths */
#define RELAYD_MSG_MAX	(RELAYD_HEAD + RELAYD_TICKET_MAX + TLS_ENV_MAX)

typedef struct RELAYD_JOB {
    uint32_t id;
    size_t  ticket_len;
    char    ticket[RELAYD_TICKET_MAX];
} RELAYD_JOB;

static int relayd_chan = -1;            /* the relay's end */
static TLS_SERVER *relayd_tls;
static long relayd_timeout;
static struct event *relayd_chan_ev;
static struct event *relayd_trim_ev;

#define RELAYD_TRIM_SEC	2               /* after a burst of handshakes */

/* relayd_put - the head of a message */
static void relayd_put(unsigned char *head, uint32_t id, int ok,
                               size_t ticket_len, size_t text_len)
{
    memcpy(head, &id, 4);
    head[4] = (unsigned char) ok;
    head[5] = 0;
    head[6] = (unsigned char) (ticket_len >> 8);
    head[7] = (unsigned char) ticket_len;
    head[8] = (unsigned char) (text_len >> 8);
    head[9] = (unsigned char) text_len;
    head[10] = head[11] = 0;
}

/* relayd_sendmsg - a message, with fds attached (nfd 0, 1 or 2) */
static ssize_t relayd_sendmsg(int chan, struct iovec *iov, int niov,
                                      const int *fds, int nfd, int flags)
{
    union {
        struct cmsghdr align;
        char    buf[CMSG_SPACE(2 * sizeof(int))];
    }       control;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t) niov};
    struct cmsghdr *cm;
    ssize_t n;

    if (nfd > 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE((size_t) nfd * sizeof(int));
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t) nfd * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, (size_t) nfd * sizeof(int));
    }
    while ((n = sendmsg(chan, &msg, flags | MSG_NOSIGNAL)) < 0 && errno == EINTR)
         /* again */ ;
    return (n);
}

/*
 * relayd_recvmsg - a message and the fds it carries (up to 2; -1 for
 * none). A message that carries more, or is cut, has its fds closed and
 * is reported as an error (EBADMSG).
 */
static ssize_t relayd_recvmsg(int chan, unsigned char *buf, size_t len,
                                      int *fds)
{
    union {
        struct cmsghdr align;
        char    buf[CMSG_SPACE(2 * sizeof(int))];
    }       control;
    struct iovec iov = {buf, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *cm;
    ssize_t n;
    size_t  nfd = 0;
    size_t  i;

    fds[0] = fds[1] = -1;
    while ((n = recvmsg(chan, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0
           && errno == EINTR)
         /* again */ ;
    if (n < 0)
        return (n);
    for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < nfd; i++) {
            int     fd;

            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (i < 2)
                fds[i] = fd;
            else
                (void) close(fd);
        }
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfd > 2) {
        for (i = 0; i < 2; i++)
            if (fds[i] >= 0)
                (void) close(fds[i]);
        fds[0] = fds[1] = -1;
        errno = EBADMSG;
        return (-1);
    }
    return (n);
}

/* relayd_done - the relay's side: a handshake ended, the server hears */
static void relayd_done(void *context, int ok, const char *why,
                                const char *env, size_t env_len,
                                int in_fd, int out_fd)
{
    RELAYD_JOB *job = context;
    unsigned char head[RELAYD_HEAD];
    int     fds[2] = {in_fd, out_fd};
    const char *text = ok ? env : why;
    size_t  text_len = ok ? env_len : strlen(why);
    struct iovec iov[3] = {
        {head, sizeof(head)},
        {job->ticket, job->ticket_len},
        {(void *) text, text_len},
    };

    struct timeval trim = {RELAYD_TRIM_SEC, 0};

    relayd_put(head, job->id, ok, job->ticket_len, text_len);
    if (!evtimer_pending(relayd_trim_ev, 0))
        timer_arm(relayd_trim_ev, &trim);
    /* The server gone, the handler never comes: the session then ends. */
    (void) relayd_sendmsg(relayd_chan, iov, 3, fds, ok ? 2 : 0, 0);
    if (ok) {
        (void) close(in_fd);
        (void) close(out_fd);
    }
    myfree(job);
}

/*
 * relayd_trim - a handshake's buffers are freed when it ends, but malloc
 * keeps the pages: a burst of clients that then idle would leave the
 * relay as large as the burst made it. Given back once things calm down.
 */
static void relayd_trim(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
#ifdef HAVE_MALLOC_TRIM
    (void) malloc_trim(0);
#endif
}

/* relayd_child_event - the relay's side: clients from the server */
static void relayd_child_event(evutil_socket_t chan, short what, void *arg)
{
    unsigned char buf[8 + RELAYD_TICKET_MAX];
    RELAYD_JOB *job;
    int     fds[2];
    ssize_t n;
    int     i;

    (void) what;
    (void) arg;
    for (i = 0; i < 64; i++) {
        if ((n = relayd_recvmsg((int) chan, buf, sizeof(buf), fds)) < 0
            && (errno == EAGAIN || errno == EBADMSG))
            return;
        if (n <= 0) {                   /* retired, or the server is gone */
            event_del(relayd_chan_ev);  /* the loop ends with the sessions */
            return;
        }
        if (fds[1] >= 0)
            (void) close(fds[1]);       /* a request carries one */
        if (fds[0] < 0 || n < 8 || (size_t) n != 8 + ((size_t) buf[6] << 8 | buf[7])) {
            if (fds[0] >= 0)
                (void) close(fds[0]);
            ss_msg_warn("TLS relay: a bad request from the server");
            continue;
        }
        job = mymalloc(sizeof(*job));
        memcpy(&job->id, buf, 4);
        job->ticket_len = (size_t) n - 8;
        memcpy(job->ticket, buf + 8, job->ticket_len);
        relay_start(event_get_base(relayd_chan_ev), relayd_tls, fds[0],
                    relayd_timeout, relayd_done, job);
    }
}

/*
 * relayd_close_all - every descriptor but 0-2 and those kept (at most
 * two, and the channel): the gaps between them closed at once where the
 * system can, one by one up to the limit where it cannot
 */
static void relayd_close_all(const int *keep, int nkeep)
{
    int     fds[4] = {relayd_chan, -1, -1, -1};
    int     n = 1;
    int     lo = 3;
    int     i;
    int     j;
    int     max;

    for (i = 0; i < nkeep && i < 2; i++)
        if (keep[i] > 2)
            fds[n++] = keep[i];
    for (i = 1; i < n; i++)             /* in order */
        for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int     tmp = fds[j];

            fds[j] = fds[j - 1];
            fds[j - 1] = tmp;
        }
    fds[n] = INT_MAX;
    for (i = 0; i <= n; i++) {
#ifdef HAVE_CLOSE_RANGE
        if (fds[i] > lo && close_range((unsigned) lo, (unsigned) fds[i] - 1, 0) == 0) {
            if (fds[i] == INT_MAX)      /* the end: no fds[i] + 1 */
                break;
            lo = fds[i] + 1;
            continue;
        }
#endif
        max = fds[i] < INT_MAX ? fds[i] : (int) sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 65536)
            max = 65536;
        for (; lo < max; lo++)
            (void) close(lo);
        if (fds[i] == INT_MAX)
            break;
        lo = fds[i] + 1;
    }
}

/*
 * relayd_child - the relay process: default signals (SIGPIPE ignored),
 * nothing of the server's but what it needs, a loop of its own
 */
static _Noreturn void relayd_child(const int *keep, int nkeep, int devnull,
                                           int keep_stderr)
{
    struct event_base *base;
    sigset_t none;
    int     sig;

    /*
     * Forked with every signal blocked: none of the server's handlers
     * runs here. A hangup or ^C of a terminal (-d) is the server's to
     * act on, not a reason to cut every session; SIGTERM still ends us.
     */
    for (sig = 1; sig < NSIG; sig++)
        (void) signal(sig, sig == SIGPIPE || sig == SIGHUP || sig == SIGINT
                      || sig == SIGUSR1 || sig == SIGUSR2 ? SIG_IGN : SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    privs_dumpable(0);
    /* Not the -1 pipe or a client on 0 and 1: someone reads to their end. */
    if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0
        || (!keep_stderr && dup2(devnull, 2) < 0))
        ss_msg_fatal("TLS relay: dup2 /dev/null: %m");
    relayd_close_all(keep, nkeep);
    if ((base = event_base_new()) == 0)
        ss_msg_fatal("TLS relay: event_base_new failed");
    if ((relayd_chan_ev = event_new(base, relayd_chan, EV_READ | EV_PERSIST,
                                    relayd_child_event, 0)) == 0
        || (relayd_trim_ev = evtimer_new(base, relayd_trim, 0)) == 0
        || event_add(relayd_chan_ev, 0) < 0)
        ss_msg_fatal("TLS relay: cannot watch the channel");
    if (event_base_dispatch(base) < 0)
        ss_msg_fatal("TLS relay: event loop failed");
    _exit(0);
}

/* relayd_server_event - the server's side: results from a relay */
static void relayd_server_event(evutil_socket_t chan, short what, void *arg)
{
    RELAYD *rd = arg;
    unsigned char *buf = mymalloc(RELAYD_MSG_MAX + 1);  /* and a null */
    uint32_t id;
    size_t  tlen;
    size_t  xlen;
    ssize_t n;
    int     fds[2];
    int     i;
    int     k;

    (void) what;
    for (i = 0; i < 64; i++) {
        if ((n = relayd_recvmsg((int) chan, buf, RELAYD_MSG_MAX, fds)) < 0
            && (errno == EAGAIN || errno == EBADMSG))
            break;
        if (n <= 0) {                   /* the relay is gone */
            event_del(rd->ev);
            rd->fn(rd->context, rd, 0, -1, "TLS relay gone", 0, 0, 0, 0, -1, -1);
            break;
        }
        memcpy(&id, buf, 4);
        tlen = (size_t) buf[6] << 8 | buf[7];
        xlen = (size_t) buf[8] << 8 | buf[9];
        if (n < RELAYD_HEAD || (size_t) n != RELAYD_HEAD + tlen + xlen
            || (buf[4] == 1) != (fds[0] >= 0 && fds[1] >= 0)) {
            ss_msg_warn("TLS relay %ld: a bad message", (long) rd->pid);
            for (tlen = 0; tlen < 2; tlen++)
                if (fds[tlen] >= 0)
                    (void) close(fds[tlen]);
            continue;
        }
        /* Text without its null: a copy that has one, for why. */
        buf[RELAYD_HEAD + tlen + xlen] = 0;
        for (k = 0; buf[4] != 1 && k < 2; k++)
            if (fds[k] >= 0) {      /* a failure carries none */
                (void) close(fds[k]);
                fds[k] = -1;
            }
        rd->fn(rd->context, rd, id, buf[4], (char *) buf + RELAYD_HEAD + tlen,
               buf + RELAYD_HEAD, tlen, (char *) buf + RELAYD_HEAD + tlen,
               xlen, fds[0], fds[1]);
    }
    myfree(buf);
}

/* relayd_watch - the server's side of a channel */
static RELAYD *relayd_watch(struct event_base *base, pid_t pid, int fd,
                                    RELAYD_FN fn, void *context)
{
    RELAYD *rd = mycalloc(1, sizeof(*rd));

    rd->pid = pid;
    rd->fd = fd;
    rd->fn = fn;
    rd->context = context;
    if ((rd->ev = event_new(base, fd, EV_READ | EV_PERSIST,
                            relayd_server_event, rd)) == 0
        || event_add(rd->ev, 0) < 0)
        ss_msg_fatal("cannot watch the TLS relay");
    return (rd);
}

/* relayd_start - fork the relay */
RELAYD *relayd_start(struct event_base *base, TLS_SERVER *tls, long timeout_ms,
                             int devnull, int keep_stderr, const int *keep,
                             int nkeep, RELAYD_FN fn, void *context)
{
    int     sv[2];
    int     size = 1 << 20;
    sigset_t all;
    sigset_t old;
    pid_t   pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        ss_msg_fatal("TLS relay: socketpair: %m");
    sv[0] = fdbase_lift(sv[0]);
    sv[1] = fdbase_lift(sv[1]);
    (void) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    (void) setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    switch (pid = fork()) {
    case -1:
        ss_msg_fatal("TLS relay: fork: %m");
    case 0:
        relayd_chan = sv[1];
        relayd_tls = tls;
        relayd_timeout = timeout_ms;
        relayd_child(keep, nkeep, devnull, keep_stderr);
    default:
        sigprocmask(SIG_SETMASK, &old, 0);
        (void) close(sv[1]);
        if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
            ss_msg_fatal("TLS relay: fcntl: %m");
        return (relayd_watch(base, pid, sv[0], fn, context));
    }
}

/* relayd_adopt - a relay of a previous image */
RELAYD *relayd_adopt(struct event_base *base, pid_t pid, int fd,
                             RELAYD_FN fn, void *context)
{
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
        ss_msg_fatal("handover: TLS relay channel %d: %m", fd);
    return (relayd_watch(base, pid, fd, fn, context));
}

/* relayd_send - one client to the relay; its descriptor is closed here */
int     relayd_send(RELAYD *rd, unsigned long id, int fd, const void *ticket,
                            size_t len)
{
    unsigned char head[8];
    uint32_t id32 = (uint32_t) id;
    struct iovec iov[2] = {{head, sizeof(head)}, {(void *) ticket, len}};
    ssize_t n;
    int     err;

    memcpy(head, &id32, 4);
    head[4] = head[5] = 0;
    head[6] = (unsigned char) (len >> 8);
    head[7] = (unsigned char) len;
    n = relayd_sendmsg(rd->fd, iov, 2, &fd, 1, MSG_DONTWAIT);
    err = errno;
    (void) close(fd);
    errno = err;
    return (n < 0 ? -1 : 0);
}

/* relayd_retire - no more clients: the relay leaves with its sessions */
void    relayd_retire(RELAYD *rd)
{
    if (!rd->retired)
        (void) shutdown(rd->fd, SHUT_WR);
    rd->retired = 1;
}

/* relayd_free - forget a relay that was reaped */
void    relayd_free(RELAYD *rd)
{
    event_free(rd->ev);
    (void) close(rd->fd);
    myfree(rd);
}
