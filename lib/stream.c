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
 * The one client is a CLIENT in the skeleton's table (client.h), moved on
 * by the machine resident mode uses: its PROXY header and its in-flow
 * pause are waits in the event loop, and a signal meanwhile is taken as
 * resident mode takes it for a client in that state (a paused client is
 * served at once, one still sending its header has until the end of the
 * drain). Once the handler runs, signals are the handler's.
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
#include "fdbase.h"
#include "msg.h"
#include "skeleton.h"
#include "spawn_cmd.h"
#ifdef HAVE_TLS
#include "relay.h"
#endif
#include "timer.h"
#include "watchdog.h"

#define P single_server_params

#define STREAM_LINGER_MS    1000        /* a refused client's end of file */

/* Stream mode's own state: one client, one process. */
typedef struct STREAM {
    SKELETON *sk;
    CLIENT *client;                     /* until it is done */
    int     status;                     /* the exit status: the handler's */
    int     leaving;                    /* a signal came before the handler */
    int     nostart_err;                /* the handler could not start */
    const char *nostart_program;        /* ... this program, or null */
    struct event *drain_ev;             /* drain_timeout, for a header */
} STREAM;

static STREAM stream;

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

/* stream_fd - the client's connection: fd 3 from systemd, or fds 0 and 1 */
static int stream_fd(void)
{
    int     fd = stream_systemd_fd();

    if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        ss_msg_fatal("fcntl fd %d: %m", fd);
    return (fd);
}

/* stream_client - the client's address and its environment */
static void stream_client(SKELETON *sk, SINGLE_SERVER_CLIENT *client, int fd)
{
    struct stat st;

    client->in_fd = fd >= 0 ? fd : 0;
    client->out_fd = fd >= 0 ? fd : 1;
    client_env_from_fd(&client->env, client->in_fd);
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
    STREAM *st = context;

    st->status = WIFEXITED(status) ? WEXITSTATUS(status)
        : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : SS_MSG_EXIT_SYSTEM;
    client_reaped(&st->sk->clients, pid);
    event_base_loopbreak(st->sk->base);
}

/*
 * stream_spawn_failed - exit as a shell would when the handler could not
 * be run: 127 not found, 126 any other reason; 111 for want of
 * processes, memory or descriptors, which is the system's failure, not
 * the program's. The connection was closed first, lingering as any
 * refused client's does (client.h): an end of file, not a reset.
 */
static _Noreturn void stream_spawn_failed(const STREAM *st)
{
    int     err = st->nostart_err;
    int     status;

    if (err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE)
        status = SS_MSG_EXIT_SYSTEM;
    else
        status = err == ENOENT ? 127 : 126;
    ss_msg_fatal_status(status, "cannot start handler%s%s: %s",
                        st->nostart_program ? " " : "",
                        st->nostart_program ? st->nostart_program : "",
                        strerror(err));
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

/*
 * stream_start - the hook that starts the handler (or runs the service):
 * our copies of the connection go, so that the client sees the end of
 * file when the handler closes it
 */
static pid_t stream_start(CLIENT *cl, void *context)
{
    STREAM *st = context;
    SKELETON *sk = st->sk;
    const SINGLE_SERVER_APP *app = sk->app;
    pid_t   pid;

    watchdog_start(sk->base, P.daemon_timeout);
    if (app->service) {
        stream_signals(sk, 0);          /* its own, as if we were not here */
        app->service(&cl->c, app->context);
        return (0);
    }
    if ((pid = skeleton_spawn(sk, &cl->c)) < 0)
        return (-1);
    stream_release(sk, &cl->c);
    cl->c.in_fd = -1;                   /* released: not closed again */
    if (!sk->opts.log_stderr)
        ss_msg_stderr(SS_MSG_STDERR_NONE);    /* stderr may be the client's */
    return (pid);
}

/*
 * stream_nostart - the hook for a handler that could not start: no
 * retry; the client is refused, and stream_run() exits once it is gone
 */
static long stream_nostart(CLIENT *cl, int err, void *context)
{
    STREAM *st = context;

    (void) cl;
    st->nostart_err = err;
    st->nostart_program = spawn_cmd_failed();
    return (-1);
}

/* stream_changed - the client moved on in the loop: done, or not yet */
static void stream_changed(void *context)
{
    STREAM *st = context;

    if (st->sk->clients.head == 0)      /* refused, dropped, or served */
        event_base_loopbreak(st->sk->base);
}

static const CLIENT_HOOKS stream_hooks = {
    stream_start, 0, stream_nostart, 0, stream_changed,
};

/* stream_drain_event - the drain is over: drop a client still sending */
static void stream_drain_event(evutil_socket_t fd, short what, void *arg)
{
    STREAM *st = arg;

    (void) fd;
    (void) what;
    if (st->sk->clients.head && st->client->state == CLIENT_HEADER)
        client_drop(st->client, "the client still sending its PROXY header");
    else if (st->sk->clients.head && st->client->state == CLIENT_LOOKUP)
        client_drop(st->client, "the client still waiting for its host name");
    stream_changed(st);
}

/* stream_drain - a signal during the header's wait: the drain's time only */
static void stream_drain(STREAM *st, int sig)
{
    struct timeval tv = {P.drain_timeout, 0};

    if (P.drain_timeout == 0) {
        ss_msg_info("signal %d -- exiting", sig);
        stream_drain_event(-1, 0, st);
        return;
    }
    ss_msg_info("signal %d -- exiting after the client's %s, %lds at most",
                sig, st->client->state == CLIENT_LOOKUP ? "host name lookup"
                : "PROXY header", P.drain_timeout);
    if ((st->drain_ev = evtimer_new(st->sk->base, stream_drain_event,
                                    st)) == 0)
        ss_msg_fatal("evtimer_new: out of memory");
    timer_arm(st->drain_ev, &tv);
}

/*
 * stream_leave - SIGTERM, SIGINT, SIGHUP: the handler's, once it runs;
 * before, a paused client is served at once and one still sending its
 * header has until the drain's end, as in resident mode
 */
void    stream_leave(SKELETON *sk, int sig)
{
    STREAM *st = &stream;
    CLIENT *cl = sk->clients.head ? st->client : 0;

    if (cl == 0 || cl->state == CLIENT_STARTED) {
        ss_msg_info("signal %d -- passing it to the handler", sig);
        child_signal_all(sig);
        return;
    }
    if (st->leaving) {
        ss_msg_info("signal %d: already leaving", sig);
        return;
    }
    st->leaving = 1;
    if (cl->state == CLIENT_PAUSED) {
        ss_msg_info("signal %d -- serving the paused client now", sig);
        client_start_now(cl);
        /* Served in-process: done, and only the watchdog's timer is left. */
        stream_changed(st);
    } else if (cl->state == CLIENT_HEADER || cl->state == CLIENT_LOOKUP) {
        stream_drain(st, sig);
    }                                   /* else refused: it is leaving */
}

#ifdef HAVE_TLS

/* stream_tls_done - the handshake's outcome */
static void stream_tls_done(void *context, int ok, const char *why,
                                    const char *env, size_t env_len,
                                    int in_fd, int out_fd)
{
    STREAM *st = context;

    if (ok)
        client_handshaken(st->client, in_fd, out_fd, env, env_len);
    else
        client_handshake_failed(st->client, why);
    stream_changed(st);
}

/*
 * stream_tls_handshake - the table's handshake: this process is the
 * relay. The connection moves off fds 0-2 (they become /dev/null, as
 * when a handler starts), so that the handler's fds 0 and 1 are the
 * plaintext and nothing of ours can write on the connection.
 */
static int stream_tls_handshake(CLIENT *cl, int fd, void *context)
{
    STREAM *st = context;
    SKELETON *sk = st->sk;
    SINGLE_SERVER_CLIENT moved = {.in_fd = fd};
    int     conn;

    (void) cl;
    if ((conn = fdbase_dup(fd)) < 0) {
        (void) close(fd);
        return (-1);
    }
    stream_release(sk, &moved);
    relay_start(sk->base, sk->tls, conn, sk->tls_timeout_ms, stream_tls_done,
                st);
    return (0);
}

/* stream_tls_flush - after the handler: the relay's last bytes go out */
static void stream_tls_flush(SKELETON *sk)
{
    while (relay_count() > 0)
        if (event_base_loop(sk->base, EVLOOP_ONCE) != 0)
            break;
}

#else
#define stream_tls_flush(sk)	((void) 0)
#endif

/* stream_run - serve the one client and leave */
int     stream_run(SKELETON *sk, int argc, char **argv)
{
    const SINGLE_SERVER_APP *app = sk->app;
    STREAM *st = &stream;
    int     fd = stream_fd();

    st->sk = sk;
    skeleton_admit_open(sk);
    skeleton_flow_open(sk, -1);
    skeleton_clients(sk, &stream_hooks, st);
    sk->clients.linger_ms = STREAM_LINGER_MS;
    st->client = client_new(&sk->clients, fd >= 0 ? fd : 0, 0);
    stream_client(sk, &st->client->c, fd);
    skeleton_init_process(sk, argc, argv);
#ifdef HAVE_TLS
    if (sk->tls) {
        admit_no_messages();
        sk->clients.handshake = stream_tls_handshake;
        sk->clients.handshake_context = st;
        sk->clients.handshake_ms = sk->tls_timeout_ms + 1000;
    }
#endif
    stream_signals(sk, 1);
    child_init(sk->base, P.command_time_limit, stream_child_exit, st);
    /* Refused or denied: no token, no handler, exit 0. */
    client_run(st->client, 0);
    if (sk->clients.head && event_base_dispatch(sk->base) < 0)
        ss_msg_fatal("event loop failed");
    stream_tls_flush(sk);
    if (st->nostart_err)
        stream_spawn_failed(st);
    child_log_flush();
    if (app->pre_exit)
        app->pre_exit(app->context);
    return (st->status);
}
