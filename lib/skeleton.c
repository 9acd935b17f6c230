/*
 * skeleton.c - what both modes use while they serve
 *
 * skeleton_spawn() starts a handler with its stderr and process group as
 * configured (child.c then tracks it); skeleton_signals() takes every
 * signal the tool handles into the event loop, in one place;
 * skeleton_clients() sets up the client table (client.h) with what every
 * mode shares; skeleton_counters() says what STATUS= and SIGUSR1 say.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "fdbase.h"
#include "msg.h"
#include "skeleton.h"

#define P single_server_params

/* skeleton_stderr_pipe - a pipe for a handler's stderr: we read fds[0] */
static int skeleton_stderr_pipe(int fds[2])
{
    int     saved_errno;

    /* Only our end is non-blocking: the handler's writes must block. */
    if (pipe2(fds, O_CLOEXEC) < 0)
        return (-1);
    /* Ours until the handover: above the base (fdbase.h). */
    if ((fds[0] = fdbase_lift(fds[0])) < 0) {
        saved_errno = errno;            /* EMFILE: the caller's case */
        close(fds[1]);
        errno = saved_errno;
        return (-1);
    }
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
        ss_msg_fatal("fcntl O_NONBLOCK on a stderr pipe: %m");
    return (0);
}

/* skeleton_spawn - the application's spawn, its stderr as configured */
pid_t   skeleton_spawn(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    int     fds[2] = {-1, -1};
    pid_t   pid;
    int     saved_errno;

    client->new_group = sk->new_group;
    client->err_fd = -1;
    if (sk->handler_stderr == SKELETON_STDERR_NULL)
        client->err_fd = sk->devnull;
    else if (sk->handler_stderr == SKELETON_STDERR_LOG) {
        if (skeleton_stderr_pipe(fds) == 0) {
            client->err_fd = fds[1];
            sk->pipe_warned = 0;
        } else if (errno == EMFILE || errno == ENFILE) {
            /* Two more fds per client would wedge a server at its limit. */
            if (!sk->pipe_warned)
                ss_msg_warn("no pipe for a handler's stderr: %m -- it goes to "
                         "/dev/null until pipes can be made again");
            sk->pipe_warned = 1;
            client->err_fd = sk->devnull;
        } else {
            return (-1);
        }
    }
    pid = sk->app->spawn(client, sk->app->context);
    saved_errno = errno;
    if (fds[1] >= 0)
        close(fds[1]);                  /* the handler has it now */
    if (pid < 0) {
        if (fds[0] >= 0)
            close(fds[0]);
        errno = saved_errno;
        return (-1);
    }
    child_add(pid, fds[0]);
    return (pid);
}

/*
 * skeleton_counters - the counters as STATUS= and SIGUSR1 say them: the
 * client table's, in either mode
 */
void    skeleton_counters(SKELETON *sk, char *buf, size_t len)
{
    const CLIENT_TABLE *t = &sk->clients;

    snprintf(buf, len, "served %ld, running %d, paused %d, refused %ld",
             t->served, client_count(t, CLIENT_STARTED),
             client_count(t, CLIENT_PAUSED), t->refused);
}

/* skeleton_pause - the in-flow bucket's say, for the client table */
static int skeleton_pause(void *context)
{
    return (skeleton_flow_pause(context));
}

/* skeleton_clients - the client table, with what every mode shares */
void    skeleton_clients(SKELETON *sk, const CLIENT_HOOKS *hooks,
                                 void *context)
{
    CLIENT_TABLE *t = &sk->clients;

    client_table_init(t, sk->base, hooks, context);
    t->read_how = upstream_may_peek(sk->base) ? UPSTREAM_MAY_PEEK : 0;
    t->admit = sk->admit;
    t->upstream = sk->upstream;
    t->pause = skeleton_pause;
    t->pause_context = sk;
    t->pause_ms = P.in_flow_delay * 1000;
    t->service_name = P.service_name;
    t->dns = sk->dns;
    t->host_lookup = sk->host_lookup;
    t->dns_ms = sk->dns_ms;
    t->local_host = sk->local_host;
}

/*
 * skeleton_started - this image's start, RFC 3339: formatted only when
 * asked, so that a start pays nothing for the time zone
 */
static void skeleton_started(const SKELETON *sk, char *buf, size_t len)
{
    struct tm tm;
    size_t  n;

    if (localtime_r(&sk->started, &tm) == 0
        || (n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm)) < 5) {
        snprintf(buf, len, "%lld (epoch)", (long long) sk->started);
        return;
    }
    /* +0100 becomes +01:00 */
    memmove(buf + n - 1, buf + n - 2, 3);
    buf[n - 2] = ':';
}

/* skeleton_status_log - SIGUSR1: the counters, for those without systemd */
static void skeleton_status_log(SKELETON *sk)
{
    char    counters[100];
    char    started[40];

    skeleton_counters(sk, counters, sizeof(counters));
    skeleton_started(sk, started, sizeof(started));
    ss_msg_info("status: %s; this image started %s, %ld re-execution(s) "
                "before it", counters, started, sk->re.count);
}

/*
 * skeleton_signal_event - every signal we handle, in one place. Stream
 * mode passes what would end a process to the handler, whose client it
 * is; SIGUSR1 and SIGUSR2 are the tool's own in every mode.
 */
static void skeleton_signal_event(evutil_socket_t sig, short what, void *arg)
{
    SKELETON *sk = arg;

    (void) what;
    switch (sig) {
    case SIGCHLD:
        child_reap();
        break;
    case SIGTERM:
    case SIGINT:
    case SIGHUP:
        if (sk->opts.stream)
            stream_leave(sk, (int) sig);
        else
            resident_leave(sk, (int) sig);
        break;
    case SIGUSR1:
        skeleton_status_log(sk);
        break;
    case SIGUSR2:
        if (ss_msg_verbose)
            ss_msg_info("signal %d (SIGUSR2) -- ignored", (int) sig);
        break;
    }
}

/* skeleton_signals - the signals of skeleton_signal_event() into the loop */
void    skeleton_signals(SKELETON *sk)
{
    static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1,
    SIGUSR2};
    size_t  i;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if ((sk->signal_ev[i] = evsignal_new(sk->base, sigs[i],
                                             skeleton_signal_event, sk)) == 0
            || event_add(sk->signal_ev[i], 0) < 0)
            ss_msg_fatal("cannot watch signal %d", sigs[i]);
}
