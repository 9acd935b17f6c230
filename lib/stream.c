/*
 * stream.c - stream mode: the client is already connected
 *
 * inetd "nowait", systemd Accept=yes and a shell pipe all hand us one
 * client on fds 0 and 1; systemd Accept=yes without StandardInput=socket
 * passes the connection as fd 3 with LISTEN_FDS=1. We run the handler
 * once, give up our own copies of the connection (so that the client
 * sees end-of-file when the handler closes it, not when we exit), and
 * leave with the handler's status.
 *
 * Before the handler the client may wait: for its PROXY header, read by
 * the reader resident mode uses (upstream.h), and for its in-flow pause.
 * Both waits are events in the loop (one for the header, with its
 * deadline on the monotonic clock, one timer for the pause), so that a
 * signal meanwhile is taken as resident mode takes it for a client in
 * that state: a paused client is served at once, one still sending its
 * header has until the end of the drain.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "admit.h"
#include "child.h"
#include "client_env.h"
#include "msg.h"
#include "skeleton.h"
#include "spawn_cmd.h"
#include "timer.h"
#include "watchdog.h"

#define P single_server_params

typedef enum STREAM_STATE {
    STREAM_HEADER,                      /* its PROXY header is awaited */
    STREAM_PAUSE,                       /* its in-flow pause */
    STREAM_SERVE,                       /* admitted: start its handler */
    STREAM_REFUSED,                     /* refused: close, exit 0 */
    STREAM_DROPPED,                     /* the drain ended its header's wait */
} STREAM_STATE;

typedef struct STREAM_WAIT {
    SKELETON *sk;
    SINGLE_SERVER_CLIENT *client;
    STREAM_STATE state;
    UPSTREAM_READ rd;
    struct event *ev;                   /* the header, or the pause */
    struct timespec deadline;           /* the header's: CLOCK_MONOTONIC */
    int     leaving;                    /* a signal came */
    int     drained;                    /* the deadline is the drain's end */
} STREAM_WAIT;

/* stream_systemd_fd - fd 3 when systemd passed one connected socket */
static int stream_systemd_fd(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    char    want[32];
    int     val = 1;
    socklen_t len = sizeof(val);

    snprintf(want, sizeof(want), "%ld", (long) getpid());
    if (pid == 0 || fds == 0 || strcmp(pid, want) != 0 || strcmp(fds, "1") != 0)
        return (-1);
    if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || val)
        return (-1);
    return (3);
}

/* stream_address - --remote or --local: a TCP address (names are looked up) */
static void stream_address(const char *opt, const char *text, ADDR_SPEC *spec)
{
    char   *err;

    /* addr_parse() speaks of listen addresses: say what is wanted here. */
    if (addr_parse(text, spec, &err) < 0 || spec->family == AF_UNIX
        || spec->wildcard)
        ss_msg_usage("%s=%s: expected HOST:PORT or [IPV6]:PORT", opt, text);
}

/*
 * stream_pretend - --remote and --local: a handler tried from a pipe sees
 * the variables of a TCP client at that address, and the access rules
 * judge it as one
 */
static void stream_pretend(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    ADDR_SPEC remote;
    ADDR_SPEC local;
    char    host[INET6_ADDRSTRLEN];
    char    port[8];

    stream_address("--remote", sk->opts.remote ? sk->opts.remote
                   : "127.0.0.1:0", &remote);
    stream_address("--local", sk->opts.local ? sk->opts.local
                   : "127.0.0.1:0", &local);
    memcpy(&client->peer, &remote.sa, remote.len);
    client->peer_len = remote.len;
    if (addr_numeric((struct sockaddr *) &local.sa, local.len, host,
                     sizeof(host), port, sizeof(port)) < 0)
        ss_msg_usage("--local=%s: not a TCP address", sk->opts.local);
    client_env_tcp(&client->env, host, port, (struct sockaddr *) &client->peer,
                   client->peer_len);
    addr_free(&remote);
    addr_free(&local);
}

/* stream_client - where the client is, its address and its environment */
static void stream_client(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    int     fd = stream_systemd_fd();
    struct stat st;

    memset(client, 0, sizeof(*client));
    client->in_fd = fd >= 0 ? fd : 0;
    client->out_fd = fd >= 0 ? fd : 1;
    client->err_fd = -1;
    client->service_name = P.service_name;
    client_env_from_fd(&client->env, client->in_fd);
    if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        ss_msg_fatal("fcntl fd %d: %m", fd);
    if (fstat(client->in_fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
        listener_tune_conn(client->in_fd, &sk->listen_opts);
        client->peer_len = sizeof(client->peer);
        if (getpeername(client->in_fd, (struct sockaddr *) &client->peer,
                        &client->peer_len) < 0)
            client->peer_len = 0;
        if (sk->opts.remote || sk->opts.local)
            ss_msg_warn("--remote and --local ignored: fd %d is a socket, "
                        "whose own addresses count", client->in_fd);
    } else if (sk->opts.remote || sk->opts.local) {
        stream_pretend(sk, client);
    }
}

/* stream_same_file - do two descriptors refer to the same open object? */
static int stream_same_file(int fd1, int fd2)
{
    struct stat st1;
    struct stat st2;

    return (fstat(fd1, &st1) == 0 && fstat(fd2, &st2) == 0
            && st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino);
}

/* stream_release - drop our copies of the connection */
static void stream_release(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    /* inetd "nowait" gives the socket on fd 2 as well. */
    if (stream_same_file(2, client->in_fd) && dup2(sk->devnull, 2) < 0)
        ss_msg_fatal("dup2 /dev/null: %m");
    if (dup2(sk->devnull, 0) < 0 || dup2(sk->devnull, 1) < 0)
        ss_msg_fatal("dup2 /dev/null: %m");
    if (client->in_fd > 2)
        close(client->in_fd);
}

/* stream_child_exit - the handler ended: its status becomes ours */
static void stream_child_exit(pid_t pid, int status, void *context)
{
    SKELETON *sk = context;

    (void) pid;
    sk->stream_status = WIFEXITED(status) ? WEXITSTATUS(status)
        : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : SS_MSG_EXIT_SYSTEM;
    event_base_loopbreak(sk->base);
}

/*
 * stream_close - close the client's connection: an end of file, no reset;
 * at once (now) when we are leaving, after a refusal's message otherwise
 */
static void stream_close(SKELETON *sk, SINGLE_SERVER_CLIENT *client, int now)
{
    int     fd = -1;

    if (client->in_fd == client->out_fd)        /* a socket: fd 3 */
        fd = client->in_fd;
    else if (stream_same_file(0, 1))            /* inetd: fds 0 and 1 */
        fd = 1;
    if (fd >= 0 && now)
        admit_close_now(fd);
    else if (fd >= 0)
        admit_close(sk->admit, fd);
}

/*
 * stream_spawn_failed - exit as a shell would when the handler cannot be
 * run: 127 not found, 126 any other reason; 111 for want of processes,
 * memory or descriptors, which is the system's failure, not the program's
 */
static int stream_spawn_failed(SKELETON *sk, SINGLE_SERVER_CLIENT *client,
                                       int err)
{
    const char *program = spawn_cmd_failed();
    int     status;

    if (err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE)
        status = SS_MSG_EXIT_SYSTEM;
    else
        status = err == ENOENT ? 127 : 126;
    stream_close(sk, client, 0);
    ss_msg_fatal_status(status, "cannot start handler%s%s: %s",
                        program ? " " : "", program ? program : "",
                        strerror(err));
}

/*
 * stream_refused - a denied client (the message was written), or one the
 * drain ended: close
 */
static int stream_refused(SKELETON *sk, SINGLE_SERVER_CLIENT *client,
                                  int now)
{
    const SINGLE_SERVER_APP *app = sk->app;

    stream_close(sk, client, now);
    if (app->pre_exit)
        app->pre_exit(app->context);
    return (0);
}

/* stream_end - the wait is over: serve, refused or dropped */
static void stream_end(STREAM_WAIT *sw, STREAM_STATE state)
{
    sw->state = state;
    if (sw->ev)
        event_free(sw->ev);
    sw->ev = 0;
    upstream_read_end(&sw->rd);
    event_base_loopbreak(sw->sk->base);
}

/* stream_pause_event - the in-flow pause is over */
static void stream_pause_event(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    stream_end(arg, STREAM_SERVE);
}

/* stream_admit - the client as it is now known: admit it, pause it */
static void stream_admit(STREAM_WAIT *sw)
{
    SKELETON *sk = sw->sk;
    struct timeval tv = {P.in_flow_delay, 0};

    if (!admit_client(sk->admit, sw->client, 0)) {
        stream_end(sw, STREAM_REFUSED);
        return;
    }
    /* Leaving already (a header that ended in the drain): no pause. */
    if (!skeleton_flow_pause(sk) || sw->leaving) {
        stream_end(sw, STREAM_SERVE);
        return;
    }
    sw->state = STREAM_PAUSE;
    if ((sw->ev = evtimer_new(sk->base, stream_pause_event, sw)) == 0)
        ss_msg_fatal("evtimer_new: out of memory");
    timer_arm(sw->ev, &tv);
}

/* stream_drop - the drain is over: close a client still sending a header */
static void stream_drop(STREAM_WAIT *sw)
{
    ss_msg_warn("leaving: closing the client still sending its PROXY header");
    stream_end(sw, STREAM_DROPPED);
}

/* stream_header_done - the header was read (status 1), or it was bad */
static void stream_header_done(STREAM_WAIT *sw, int status,
                                       const PROXY_HEADER *hdr, const char *why)
{
    if (sw->ev)
        event_free(sw->ev);
    sw->ev = 0;
    upstream_read_end(&sw->rd);
    if (status > 0) {
        upstream_apply(sw->client, hdr);
        stream_admit(sw);
    } else if (sw->drained) {
        stream_drop(sw);
    } else {
        admit_header_refused(sw->sk->admit, sw->client, why);
        stream_end(sw, STREAM_REFUSED);
    }
}

/* stream_header_event - more came, the peer went, or time is up */
static void stream_header_event(evutil_socket_t fd, short what, void *arg)
{
    STREAM_WAIT *sw = arg;
    PROXY_HEADER hdr;
    const char *why = "timeout";
    int     status;

    (void) fd;
    if ((status = upstream_read_step(&sw->rd, what, &hdr, &why)) == 0) {
        if (timer_until(sw->ev, &sw->deadline))
            return;                     /* not all there yet */
        status = -1;
        why = "timeout";
    }
    stream_header_done(sw, status, &hdr, why);
}

/* stream_header_wait - the header is not all there: wait in the loop */
static void stream_header_wait(STREAM_WAIT *sw)
{
    struct event_base *base = sw->sk->base;
    int     need = EV_FEATURE_ET | EV_FEATURE_EARLY_CLOSE;

    if (sw->rd.peek && (event_base_get_features(base) & need) != need)
        ss_msg_fatal("the event loop's %s backend cannot watch a socket for "
                     "a PROXY header", event_base_get_method(base));
    timer_deadline(&sw->deadline, upstream_timeout_ms(sw->sk->upstream));
    if ((sw->ev = event_new(base, sw->rd.fd, upstream_read_events(&sw->rd),
                            stream_header_event, sw)) == 0)
        ss_msg_fatal("cannot watch the client for its PROXY header");
    (void) timer_until(sw->ev, &sw->deadline);
}

/* stream_header - the PROXY header, when one is due, then admission */
static void stream_header(STREAM_WAIT *sw)
{
    UPSTREAM *up = sw->sk->upstream;
    PROXY_HEADER hdr;
    const char *why = UPSTREAM_UNTRUSTED;
    int     status = -1;

    if (!upstream_on(up)) {
        stream_admit(sw);
        return;
    }
    upstream_read_start(&sw->rd, sw->client->in_fd);
    if (upstream_trusted(up, sw->client)
        && (status = upstream_read_step(&sw->rd, 0, &hdr, &why)) == 0)
        stream_header_wait(sw);
    else
        stream_header_done(sw, status, &hdr, why);
}

/*
 * stream_signals - on: the signals into the loop (once); off: as they
 * were before, for an in-process service
 */
static void stream_signals(SKELETON *sk, int on)
{
    size_t  i;

    if (on) {
        if (sk->signal_ev[0] == 0)
            skeleton_signals(sk);
        return;
    }
    for (i = 0; i < sizeof(sk->signal_ev) / sizeof(sk->signal_ev[0]); i++) {
        if (sk->signal_ev[i])
            event_free(sk->signal_ev[i]);       /* the old handler is back */
        sk->signal_ev[i] = 0;
    }
}

/* stream_wait - the header and the pause, if any: how the wait ended */
static STREAM_STATE stream_wait(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    STREAM_WAIT sw = {.sk = sk, .client = client, .state = STREAM_HEADER};

    stream_header(&sw);
    if (sw.state == STREAM_HEADER || sw.state == STREAM_PAUSE) {
        sk->stream_wait = &sw;          /* for a signal: stream_leave() */
        stream_signals(sk, 1);
        if (event_base_dispatch(sk->base) < 0
            || sw.state == STREAM_HEADER || sw.state == STREAM_PAUSE)
            ss_msg_fatal("event loop failed");
        sk->stream_wait = 0;
    }
    return (sw.state);
}

/* stream_drain - a signal during the header's wait: the drain's time only */
static void stream_drain(STREAM_WAIT *sw, int sig)
{
    long    ms = P.drain_timeout * 1000;

    if (ms == 0) {
        ss_msg_info("signal %d -- exiting", sig);
        stream_drop(sw);
        return;
    }
    ss_msg_info("signal %d -- exiting after the client's PROXY header, "
                "%lds at most", sig, P.drain_timeout);
    if (timer_left(&sw->deadline) > ms) {
        timer_deadline(&sw->deadline, ms);
        sw->drained = 1;
        (void) timer_until(sw->ev, &sw->deadline);
    }
}

/*
 * stream_leave - SIGTERM, SIGINT, SIGHUP: the handler's, once it runs;
 * before, a paused client is served at once and one still sending its
 * header has until the drain's end, as in resident mode
 */
void    stream_leave(SKELETON *sk, int sig)
{
    STREAM_WAIT *sw = sk->stream_wait;

    if (sw == 0) {
        ss_msg_info("signal %d -- passing it to the handler", sig);
        child_signal_all(sig);
        return;
    }
    if (sw->leaving) {
        ss_msg_info("signal %d: already leaving", sig);
        return;
    }
    sw->leaving = 1;
    if (sw->state == STREAM_PAUSE) {
        ss_msg_info("signal %d -- serving the paused client now", sig);
        stream_end(sw, STREAM_SERVE);
    } else if (sw->state == STREAM_HEADER) {
        stream_drain(sw, sig);
    }                                   /* else the wait just ended */
}

/* stream_run - serve the one client and leave */
int     stream_run(SKELETON *sk, int argc, char **argv)
{
    const SINGLE_SERVER_APP *app = sk->app;
    SINGLE_SERVER_CLIENT client;
    STREAM_STATE state;
    pid_t   pid;

    stream_client(sk, &client);
    skeleton_admit_open(sk);
    skeleton_flow_open(sk, -1);
    skeleton_init_process(sk, argc, argv);
    /* Refused or denied: no token, no handler, exit 0. */
    if ((state = stream_wait(sk, &client)) != STREAM_SERVE)
        return (stream_refused(sk, &client, state == STREAM_DROPPED));
    watchdog_start(sk->base, P.daemon_timeout);
    if (app->service) {
        stream_signals(sk, 0);          /* its own, as if we were not here */
        app->service(&client, app->context);
        if (app->pre_exit)
            app->pre_exit(app->context);
        return (0);
    }
    stream_signals(sk, 1);
    child_init(sk->base, P.command_time_limit, stream_child_exit, sk);
    if ((pid = skeleton_spawn(sk, &client)) < 0)
        return (stream_spawn_failed(sk, &client, errno));
    stream_release(sk, &client);
    if (!sk->opts.log_stderr)
        ss_msg_stderr(SS_MSG_STDERR_NONE);    /* stderr may be the client's */
    if (event_base_dispatch(sk->base) < 0)
        ss_msg_fatal("event loop failed");
    child_log_flush();
    if (app->pre_exit)
        app->pre_exit(app->context);
    return (sk->stream_status);
}
