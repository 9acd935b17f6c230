/*
 * master.c - Postfix master(8) mode: layout, status channel, accept lock
 * and the "pass" transport
 *
 * Idle processes of one service share the master's listening sockets.
 * Postfix blocks in flock() before each wait for a client; here the event
 * loop must go on meanwhile (reaping, timers, the master's end of file),
 * so a thread of ours blocks in flock() instead and wakes the loop
 * through a socket pair when it has the lock. flock() locks belong to
 * the open file, which the thread shares with the loop: the loop lets
 * the lock go itself after each accept. The kernel wakes the next waiter
 * at once, so the lock costs the wake-up of a thread, not a polling
 * interval.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conv.h"
#include "fdbase.h"
#include "master.h"
#include "msg.h"
#include "mymalloc.h"
#include "state.h"

static const char *const master_transports[] = {"inet", "unix", "pass"};

/* master_init - not under master(8) (yet): no lock, no pass connection */
void    master_init(MASTER *ma)
{
    memset(ma, 0, sizeof(*ma));
    ma->lock_fd = ma->pass_conn = ma->pass_fd = -1;
    ma->lock_sock[0] = ma->lock_sock[1] = -1;
}

/* master_is_channel - fd 5: a pipe, or a socket that does not listen */
static int master_is_channel(int fd)
{
    struct stat st;
    int     val = 0;
    socklen_t len = sizeof(val);

    if (fstat(fd, &st) < 0)
        return (0);
    if (S_ISFIFO(st.st_mode))
        return (1);
    return (S_ISSOCK(st.st_mode)
            && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0
            && !val);
}

/* master_channel_ok - is fd 5 what the master passes? */
int     master_channel_ok(void)
{
    return (master_is_channel(MASTER_STATUS_FD));
}

/* master_detect - are we one of master(8)'s processes? */
int     master_detect(long socket_count, const char *transport)
{
    int     val = 0;
    socklen_t len = sizeof(val);

    if (socket_count >= 0 || transport != 0)
        return (1);
    return (master_is_channel(MASTER_STATUS_FD)
            && getsockopt(MASTER_LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &val,
                          &len) == 0 && val);
}

/* master_transport - -t as a number; without it, what fd 6 is */
int     master_transport(const char *name, int listen_family)
{
    size_t  i;

    if (name == 0)
        return (listen_family == AF_UNIX ? MASTER_UNIX : MASTER_INET);
    for (i = 0; i < sizeof(master_transports) / sizeof(master_transports[0]); i++)
        if (strcmp(name, master_transports[i]) == 0)
            return ((int) i);
    return (-1);
}

/* master_generation - $GENERATION, octal as the master writes it */
int     master_generation(const char *text, unsigned *gen)
{
    unsigned long val;

    if (conv_octal(text, 037777777777UL, &val) != CONV_OK)
        return (-1);
    *gen = (unsigned) val;
    return (0);
}

/*
 * master_postlog - log where Postfix's own daemons do: postlogd(8), when
 * the master exports its socket (only with maillog_file set). Without a
 * host name from the master, ours: the records carry one.
 */
void    master_postlog(void)
{
    const char *path = getenv("POSTLOG_SERVICE");
    const char *host = getenv("POSTLOG_HOSTNAME");
    char    name[256];

    if (path == 0 || *path == 0)
        return;
    if (host == 0 || *host == 0) {
        if (gethostname(name, sizeof(name)) < 0)
            snprintf(name, sizeof(name), "localhost");
        name[sizeof(name) - 1] = 0;
        host = name;
    }
    if (ss_msg_log_server(path, host) < 0)
        ss_msg_warn("POSTLOG_SERVICE: cannot reach postlogd(8) at %s: %m "
                    "-- logging to syslog instead", path);
    else if (ss_msg_verbose)
        ss_msg_info("logging to postlogd(8) at %s", path);
}

/*
 * master_lock_open - the accept lock of this service and transport. Two
 * Postfix instances (postmulti) may have services of the same name: the
 * master's MAIL_CONFIG, when it sets one, tells them apart.
 */
void    master_lock_open(MASTER *ma, const char *dir, const char *service)
{
    const char *config = getenv("MAIL_CONFIG");
    char   *name = config && *config ? myasprintf("%s.%s", config, service)
        : mystrdup(service);
    char   *suffix = myasprintf("%s.lock", master_transports[ma->transport]);
    char   *err;

    if ((ma->lock_fd = state_open(dir, name, suffix, 0, &err)) < 0)
        ss_msg_fatal("accept lock: %s", err);
    myfree(name);
    myfree(suffix);
}

/* master_status_event - fd 5 is readable: the master is gone */
static void master_status_event(evutil_socket_t fd, short what, void *arg)
{
    MASTER *ma = arg;
    char    buf[64];
    ssize_t n;

    (void) what;
    /* The master sends nothing; a pipe's write end says EBADF here. */
    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK)
        n = read(fd, buf, sizeof(buf));
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
        return;
    event_del(ma->status_ev);
    if (!ma->gone) {
        ma->gone = 1;
        ma->gone_fn(ma->context);
    }
}

/*
 * master_lock_thread - wait for the lock whenever the loop asks. Every
 * signal is blocked here: they are the loop's.
 */
static void *master_lock_thread(void *arg)
{
    MASTER *ma = arg;
    unsigned char c;

    while (read(ma->lock_sock[1], &c, 1) == 1) {
        c = 0;
        while (flock(ma->lock_fd, LOCK_EX) < 0) {
            if (errno != EINTR) {
                c = errno > 0 && errno < 256 ? (unsigned char) errno : EIO;
                break;
            }
        }
        if (write(ma->lock_sock[1], &c, 1) != 1)
            break;
    }
    return (0);
}

/* master_lock_event - the thread has the lock, or failed to get it */
static void master_lock_event(evutil_socket_t fd, short what, void *arg)
{
    MASTER *ma = arg;
    unsigned char c;
    ssize_t n;

    (void) what;
    if ((n = read(fd, &c, 1)) < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n != 1)
        ss_msg_fatal("accept lock: the waiting thread is gone");
    if (c != 0) {
        errno = c;
        ss_msg_fatal("accept lock: flock: %m");
    }
    ma->lock_asked = 0;
    if (ma->lock_state != MASTER_LOCK_WAITING) {   /* dropped meanwhile */
        (void) flock(ma->lock_fd, LOCK_UN);
        return;
    }
    ma->lock_state = MASTER_LOCK_HELD;
    ma->locked_fn(ma->context);
}

/* master_lock_thread_start - the thread, with every signal blocked */
static void master_lock_thread_start(MASTER *ma, struct event_base *base)
{
    pthread_t thread;
    sigset_t all;
    sigset_t old;
    int     err;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ma->lock_sock) < 0
        || (ma->lock_sock[0] = fdbase_lift(ma->lock_sock[0])) < 0
        || (ma->lock_sock[1] = fdbase_lift(ma->lock_sock[1])) < 0)
        ss_msg_fatal("accept lock: socketpair: %m");
    if ((ma->lock_ev = event_new(base, ma->lock_sock[0], EV_READ | EV_PERSIST,
                                 master_lock_event, ma)) == 0
        || event_add(ma->lock_ev, 0) < 0)
        ss_msg_fatal("accept lock: cannot watch the waiting thread");
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    err = pthread_create(&thread, 0, master_lock_thread, ma);
    pthread_sigmask(SIG_SETMASK, &old, 0);
    if (err != 0) {
        errno = err;
        ss_msg_fatal("accept lock: pthread_create: %m");
    }
    (void) pthread_detach(thread);
}

/* master_start - watch fd 5; the lock's thread */
void    master_start(MASTER *ma, struct event_base *base, void (*gone) (void *),
                             void (*locked) (void *), void *context)
{
    ma->gone_fn = gone;
    ma->locked_fn = locked;
    ma->context = context;
    /* Handlers must not inherit the master's channel. */
    if (fcntl(MASTER_STATUS_FD, F_SETFD, FD_CLOEXEC) < 0)
        ss_msg_fatal("status channel fd %d: %m", MASTER_STATUS_FD);
    if ((ma->status_ev = event_new(base, MASTER_STATUS_FD, EV_READ | EV_PERSIST,
                                   master_status_event, ma)) == 0
        || event_add(ma->status_ev, 0) < 0)
        ss_msg_fatal("cannot watch the status channel on fd %d",
                     MASTER_STATUS_FD);
    if (ma->lock_fd >= 0)
        master_lock_thread_start(ma, base);
}

/* master_notify - one status message: taken or available */
int     master_notify(MASTER *ma, int avail)
{
    struct {
        int     pid;
        unsigned gen;
        int     avail;
    }       status = {(int) getpid(), ma->generation, avail};
    ssize_t n;

    _Static_assert(sizeof(status) == 12, "the master reads 12 bytes");

    ma->taken = avail == MASTER_TAKEN;
    if (ma->gone)
        return (-1);
    while ((n = write(MASTER_STATUS_FD, &status, sizeof(status))) < 0
           && errno == EINTR)
         /* void */ ;
    if (n == (ssize_t) sizeof(status))
        return (0);
    if (ss_msg_verbose)
        ss_msg_info("status channel: %s", n < 0 ? strerror(errno)
                    : "short write");
    ma->gone = 1;
    event_del(ma->status_ev);
    return (-1);
}

/*
 * master_lock - ask the thread for the lock, unless that is done. A
 * request that was dropped but not answered yet is taken up again: one
 * request at a time, so that no answer is taken for another's.
 */
void    master_lock(MASTER *ma)
{
    unsigned char c = 1;

    if (ma->lock_fd < 0 || ma->lock_state != MASTER_LOCK_NONE)
        return;
    ma->lock_state = MASTER_LOCK_WAITING;
    if (ma->lock_asked)
        return;
    /* One byte into an empty socket buffer: this does not block. */
    if (write(ma->lock_sock[0], &c, 1) != 1)
        ss_msg_fatal("accept lock: cannot wake the waiting thread: %m");
    ma->lock_asked = 1;
}

/* master_unlock - let the next process have the lock */
void    master_unlock(MASTER *ma)
{
    if (ma->lock_state == MASTER_LOCK_HELD && flock(ma->lock_fd, LOCK_UN) < 0)
        ss_msg_fatal("accept lock: unlock: %m");
    /* A request still waiting is dropped when the lock comes. */
    ma->lock_state = MASTER_LOCK_NONE;
}

/* master_may_accept - do we hold the lock (or is there none)? */
int     master_may_accept(const MASTER *ma)
{
    return (ma->lock_fd < 0 || ma->lock_state == MASTER_LOCK_HELD);
}

/*
 * master_attrs_scan - the end of an attribute list, fed piecewise; pure.
 * The first separator tells the format: "\0" for attr_print0 ("name\0
 * value\0 ... \0": an empty name ends it), "\n" for the line formats
 * ("name:value" or "name=value" lines, an empty line ends them).
 */
int     master_attrs_scan(MASTER_ATTRS *st, const char *buf, size_t len)
{
    size_t  i;
    char    c;

    for (i = 0; i < len; i++) {
        if (++st->total > MASTER_ATTRS_MAX)
            return (-1);
        c = buf[i];
        if (st->format == 0 && (c == 0 || c == '\n'))
            st->format = c ? '\n' : 1;
        if (st->format == 1 && c == 0) {
            if (st->token_len == 0 && st->value == 0)
                return (1);             /* an empty name */
            st->value = !st->value;
            st->token_len = 0;
        } else if (st->format == '\n' && c == '\n') {
            if (st->token_len == 0)
                return (1);             /* an empty line */
            st->token_len = 0;
        } else {
            st->token_len++;
        }
    }
    return (0);
}

/* master_pass_end - the passed descriptor, or -1, to the caller */
static void master_pass_end(MASTER *ma, int fd)
{
    event_free(ma->pass_ev);
    event_free(ma->pass_timer);
    ma->pass_ev = ma->pass_timer = 0;
    close(ma->pass_conn);
    ma->pass_conn = -1;
    ma->pass_fd = -1;
    if (ma->pass_done)
        ma->pass_done(fd, ma->pass_context);
}

/* master_pass_fail - log, drop what came, tell the caller */
static void master_pass_fail(MASTER *ma, const char *why)
{
    ss_msg_warn("pass connection: %s", why);
    if (ma->pass_fd >= 0)
        close(ma->pass_fd);
    master_pass_end(ma, -1);
}

/* master_pass_cancel - leaving: drop a connection still being passed */
void    master_pass_cancel(MASTER *ma)
{
    if (ma->pass_conn < 0)
        return;
    ss_msg_warn("leaving: closing a pass connection whose descriptor did not "
                "come in time");
    ma->pass_done = 0;
    if (ma->pass_fd >= 0)
        close(ma->pass_fd);
    master_pass_end(ma, -1);
}

/*
 * master_pass_fd - the descriptor and its byte of data: 1, or 0 for not
 * yet, or -1 (errno 0 for end of file). Every descriptor beyond the first
 * one is closed: a sender must not make us keep what it pushes on us.
 */
static int master_pass_fd(MASTER *ma)
{
    union {
        struct cmsghdr align;
        char    buf[CMSG_SPACE(MASTER_PASS_FDS * sizeof(int))];
    }       control;
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *cmsg;
    char    byte;
    ssize_t n;
    size_t  i;
    int     fd;

    memset(&msg, 0, sizeof(msg));
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    if ((n = recvmsg(ma->pass_conn, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0)
        return (errno == EAGAIN || errno == EINTR ? 0 : -1);
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
            continue;
        for (i = 0; i < (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (ma->pass_fd < 0)
                ma->pass_fd = fd;
            else
                close(fd);
        }
    }
    if (ma->pass_fd < 0) {
        errno = n == 0 ? 0 : EPROTO;
        return (-1);
    }
    /* Postfix's senders pass non-blocking sockets; handlers expect not. */
    if (fcntl(ma->pass_fd, F_SETFL, fcntl(ma->pass_fd, F_GETFL) & ~O_NONBLOCK) < 0)
        return (-1);
    return (1);
}

/* master_pass_attrs - read the attribute list to its end; 1: done */
static int master_pass_attrs(MASTER *ma)
{
    char    buf[512];
    ssize_t n;
    int     status;

    while ((n = recv(ma->pass_conn, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        if ((status = master_attrs_scan(&ma->pass_attrs, buf, (size_t) n)) != 0)
            return (status);
    if (n == 0)
        return (1);                     /* a sender that sent no list */
    return (errno == EAGAIN || errno == EINTR ? 0 : -1);
}

/* master_pass_timeout - the sender took too long */
static void master_pass_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    master_pass_fail(arg, "timeout receiving a descriptor");
}

/* master_pass_event - more of the passed connection */
static void master_pass_event(evutil_socket_t fd, short what, void *arg)
{
    MASTER *ma = arg;
    int     status;

    (void) fd;
    (void) what;
    if (ma->pass_fd < 0) {
        if ((status = master_pass_fd(ma)) < 0) {
            master_pass_fail(ma, errno ? strerror(errno)
                             : "closed before sending a descriptor");
            return;
        }
        if (status == 0)
            return;
    }
    if ((status = master_pass_attrs(ma)) < 0)
        master_pass_fail(ma, "bad attribute list after the descriptor");
    else if (status > 0)
        master_pass_end(ma, ma->pass_fd);
}

/* master_pass_receive - wait for the descriptor on a pass connection */
void    master_pass_receive(MASTER *ma, int conn, void (*done) (int, void *),
                                    void *context)
{
    struct event_base *base = event_get_base(ma->status_ev);
    struct timeval limit = {MASTER_PASS_TIMEOUT, 0};

    if (ma->pass_conn >= 0)
        ss_msg_panic("master_pass_receive: one is being received already");
    ma->pass_conn = conn;
    ma->pass_fd = -1;
    memset(&ma->pass_attrs, 0, sizeof(ma->pass_attrs));
    ma->pass_done = done;
    ma->pass_context = context;
    /* A limit on the whole, not on each silence: no slow drip. */
    if ((ma->pass_ev = event_new(base, conn, EV_READ | EV_PERSIST,
                                 master_pass_event, ma)) == 0
        || (ma->pass_timer = evtimer_new(base, master_pass_timeout, ma)) == 0
        || event_add(ma->pass_ev, 0) < 0
        || evtimer_add(ma->pass_timer, &limit) < 0)
        ss_msg_fatal("cannot watch a pass connection");
    /* It is usually all there already. */
    event_active(ma->pass_ev, EV_READ, 0);
}
