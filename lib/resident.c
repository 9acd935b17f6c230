/*
 * resident.c - resident mode: listen, accept, hand off, and leave in time
 *
 * The semi-resident server: it serves clients until max_use of them were
 * accepted or max_idle passed with nothing to do, then exits 0, and
 * whoever owns the listening socket (systemd, inetd, master(8), a
 * supervisor, or the next start with -L) starts a fresh process.
 *
 * Every client is a CLIENT in the skeleton's table (client.h), moved on
 * by client_run(); this file says where clients come from (accept, or a
 * previous image: reload.c), what starting one means, and when the
 * process leaves. At process_limit the listeners are simply not watched
 * (inetd's "wait" idea, s6-tcpserverd's capacity rule): clients wait in
 * the kernel's backlog instead of being accepted and closed. Every change
 * of state ends in resident_update(), the one place that arms or disarms
 * them. Under master(8) a policy (master_policy.c) adds its rules.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "child.h"
#include "client_env.h"
#include "msg.h"
#include "mymalloc.h"
#include "notify.h"
#include "resident.h"
#include "spawn_cmd.h"
#include "timer.h"
#include "watchdog.h"

#define P single_server_params

#define RESIDENT_ACCEPT_BATCH   16      /* accepts per wake-up, for fairness */
#define RESIDENT_BACKOFF_USEC   100000  /* pause after EMFILE/ENFILE */
#define RESIDENT_RETRY_MS       1000    /* retry after a failed spawn */
#define RESIDENT_LINGER_USEC    100000  /* leaving: look at groups again */
#define RESIDENT_NOSTART_LOG_SEC 1      /* handler start failures: a line */

/* resident_may_accept - are we willing to take one more client now? */
static int resident_may_accept(RESIDENT *rs)
{
    if (rs->stopping || rs->backoff || rs->sk->re.due)
        return (0);
    if (rs->policy)
        return (rs->policy->may_accept(rs));
    return (P.process_limit == 0 || client_busy(rs->clients) < P.process_limit);
}

/* resident_watch - arm or disarm every listener */
static void resident_watch(RESIDENT *rs, int on)
{
    SKELETON *sk = rs->sk;
    size_t  i;
    SS_LISTENER *lp;

    if (rs->watching == on)
        return;
    for (i = 0; i < sk->listeners.count; i++) {
        lp = &sk->listeners.items[i];
        if (lp->ev && (on ? event_add(lp->ev, 0) : event_del(lp->ev)) < 0)
            ss_msg_fatal("cannot %s listener %s", on ? "watch" : "unwatch",
                      lp->display);
    }
    rs->watching = on;
}

/* resident_status_text - the STATUS= line for the service manager */
static void resident_status_text(RESIDENT *rs, char *buf, size_t len)
{
    char    counters[100];

    skeleton_counters(rs->sk, counters, sizeof(counters));
    snprintf(buf, len, "STATUS=%s", counters);
}

/* resident_status_event - send STATUS= if it changed since the last one */
static void resident_status_event(evutil_socket_t fd, short what, void *arg)
{
    RESIDENT *rs = arg;
    char    text[sizeof(rs->status_sent)];

    (void) fd;
    (void) what;
    resident_status_text(rs, text, sizeof(text));
    if (strcmp(text, rs->status_sent) != 0) {
        notify_send(text);
        memcpy(rs->status_sent, text, sizeof(text));
    }
}

/*
 * resident_status_later - the counters may have changed: look in a
 * second. One timer, so STATUS= goes out at most once a second and costs
 * no system call per client.
 */
static void resident_status_later(RESIDENT *rs)
{
    struct timeval one = {1, 0};

    if (rs->status_ev && !evtimer_pending(rs->status_ev, 0))
        timer_arm(rs->status_ev, &one);
}

/*
 * resident_finish - leave the event loop (resident_stop said STOPPING=1).
 * Refused clients still lingering get their end of file now, not a reset
 * at exit.
 */
static void resident_finish(RESIDENT *rs)
{
    const SINGLE_SERVER_APP *app = rs->sk->app;
    CLIENT *cl;
    CLIENT *next;

    if (rs->finished)
        return;
    CLIENT_FOREACH(cl, next, rs->clients) {
        client_drop(cl, 0);             /* only lingering ones are left */
    }
    if (rs->status_ev && evtimer_pending(rs->status_ev, 0))
        resident_status_event(-1, 0, rs);   /* the last change too */
    if (app->pre_exit)
        app->pre_exit(app->context);
    rs->finished = 1;
    event_base_loopbreak(rs->sk->base);
}

/* resident_update - the one place that decides what to watch */
void    resident_update(RESIDENT *rs)
{
    struct timeval tick = {0, RESIDENT_LINGER_USEC};
    int     busy = client_busy(rs->clients);

    if (rs->policy)
        rs->policy->update(rs);
    resident_status_later(rs);
    if (rs->stopping && busy == 0) {
        /* The SIGKILL that follows a group's SIGTERM is still due. */
        if (child_lingering_count() > 0)
            timer_arm(rs->linger_ev, &tick);
        else
            resident_finish(rs);
        return;
    }
    /* Nothing to do since the last client: the idle clock runs. */
    if (busy == 0 && !evtimer_pending(rs->idle_ev, 0))
        resident_idle_start(rs);
    resident_watch(rs, resident_may_accept(rs));
}

/* resident_idle_start - (re)start the idle clock */
void    resident_idle_start(RESIDENT *rs)
{
    struct timeval tv = {P.max_idle, 0};

    /* Leaving would close listeners that nobody else holds. */
    if (P.max_idle > 0 && !rs->stopping && !rs->own)
        timer_arm(rs->idle_ev, &tv);
}

/* resident_stop - accept no more: close the listeners */
void    resident_stop(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;
    size_t  i;
    SS_LISTENER *lp;

    resident_watch(rs, 0);
    rs->stopping = 1;
    if (rs->policy)
        rs->policy->stop(rs);           /* a sibling may want the lock */
    notify_stopping();                  /* the manager may start a successor */
    evtimer_del(rs->idle_ev);
    for (i = 0; i < sk->listeners.count; i++) {
        lp = &sk->listeners.items[i];
        if (lp->ev) {
            event_free(lp->ev);
            lp->ev = 0;
        }
        listener_close(lp);
    }
}

/* resident_client_env - the UCSPI variables, from what is precomputed */
void    resident_client_env(SINGLE_SERVER_CLIENT *client)
{
    const SS_LISTENER *lp = client->listener;
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    char    host[INET6_ADDRSTRLEN];
    char    port[8];

    if (lp->family == AF_UNIX) {
        client_env_unix(&client->env, lp->unix_path, client->in_fd);
    } else if (lp->local_fixed) {
        client_env_tcp(&client->env, lp->local_host, lp->local_port,
                       (struct sockaddr *) &client->peer, client->peer_len);
    } else if (getsockname(client->in_fd, (struct sockaddr *) &local, &len) == 0
               && addr_numeric((struct sockaddr *) &local, len, host,
                               sizeof(host), port, sizeof(port)) == 0) {
        client_env_tcp(&client->env, host, port,
                       (struct sockaddr *) &client->peer, client->peer_len);
    } else {
        client_env_clear(&client->env);
    }
}

/* resident_log_client - -v: who connected where */
static void resident_log_client(const SINGLE_SERVER_CLIENT *client, pid_t pid)
{
    char   *peer = addr_display((struct sockaddr *) &client->peer,
                                client->peer_len);

    if (pid > 0)
        ss_msg_info("connect from %s to %s: handler pid %ld", peer,
                 client->listener->display, (long) pid);
    else
        ss_msg_info("connect from %s to %s: served in-process", peer,
                 client->listener->display);
    myfree(peer);
}

/*
 * Handlers that could not be started, logged at most once a second: a
 * program being replaced fails every client that comes meanwhile, and
 * the log must not take the brunt. The timer is made at the first
 * failure: a server whose handlers start pays nothing for it.
 */
static struct {
    struct event *ev;                   /* the second after a line logged */
    long    held;                       /* failures not logged since */
    const char *program;                /* the last one's, or null */
    int     err;                        /* the last one's errno */
} resident_nostart;

/*
 * resident_nostart_event - a second after a line: log what was held back
 * meanwhile, and hold back again for a second; or, with nothing held,
 * log the next failure at once
 */
static void resident_nostart_event(evutil_socket_t fd, short what, void *arg)
{
    struct timeval one = {RESIDENT_NOSTART_LOG_SEC, 0};
    const char *program = resident_nostart.program;

    (void) fd;
    (void) what;
    (void) arg;
    if (resident_nostart.held == 0)
        return;
    ss_msg_warn("cannot start handler%s%s: %s -- %ld more connection(s) "
                "closed since, not logged", program ? " " : "",
                program ? program : "", strerror(resident_nostart.err),
                resident_nostart.held);
    resident_nostart.held = 0;
    timer_arm(resident_nostart.ev, &one);
}

/* resident_nostart_log - a handler could not be started: say so, or count */
static void resident_nostart_log(SKELETON *sk,
                                         const SINGLE_SERVER_CLIENT *client,
                                         const char *program, int err)
{
    struct timeval one = {RESIDENT_NOSTART_LOG_SEC, 0};

    resident_nostart.program = program;
    resident_nostart.err = err;
    if (resident_nostart.ev == 0
        && (resident_nostart.ev = evtimer_new(sk->base, resident_nostart_event,
                                              0)) == 0)
        ss_msg_fatal("evtimer_new: out of memory");
    if (evtimer_pending(resident_nostart.ev, 0)) {
        resident_nostart.held++;
        return;
    }
    ss_msg_warn("cannot start handler%s%s for a client of %s: %s -- closing "
                "the connection", program ? " " : "", program ? program : "",
                client->listener->display, strerror(err));
    timer_arm(resident_nostart.ev, &one);
}

/*
 * resident_nostart_hook - the hook for a handler that could not start: retry
 * in a second when that can help (out of processes or memory passes);
 * otherwise (a program being replaced, removed or broken: ETXTBSY,
 * ENOENT, ENOEXEC, EACCES) that client alone pays: its connection is
 * closed (an end of file, not a reset), counted as refused, and the next
 * client gets a fresh try
 */
static long resident_nostart_hook(CLIENT *cl, int err, void *context)
{
    RESIDENT *rs = context;
    const char *program = spawn_cmd_failed();  /* null: not spawn_cmd's */

    if (err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE) {
        ss_msg_warn("cannot start handler for a client of %s: %s -- retrying "
                    "in %ds", cl->c.listener->display, strerror(err),
                    RESIDENT_RETRY_MS / 1000);
        return (RESIDENT_RETRY_MS);
    }
    resident_nostart_log(rs->sk, &cl->c, program, err);
    return (-1);
}

/* resident_start - the hook that hands a client to the application */
static pid_t resident_start(CLIENT *cl, void *context)
{
    RESIDENT *rs = context;
    const SINGLE_SERVER_APP *app = rs->sk->app;
    pid_t   pid = 0;

    if (app->service)
        app->service(&cl->c, app->context);
    else if ((pid = skeleton_spawn(rs->sk, &cl->c)) < 0)
        return (-1);
    return (pid);
}

/*
 * resident_started - the hook for a client handed to the application,
 * our copy of its connection closed: -v says so, and the application's
 * loop() runs, as the process goes back to waiting
 */
static void resident_started(CLIENT *cl, void *context)
{
    RESIDENT *rs = context;
    const SINGLE_SERVER_APP *app = rs->sk->app;

    if (ss_msg_verbose)
        resident_log_client(&cl->c, cl->pid);
    if (app->loop)
        app->loop(app->context);
}

/* resident_admitted - the hook for each admitted client: max_use counts */
static void resident_admitted(CLIENT *cl, void *context)
{
    RESIDENT *rs = context;

    (void) cl;
    /* Leaving already (a header that ended after the signal): no more. */
    if (rs->stopping || P.max_use == 0 || ++rs->use_count < P.max_use)
        return;
    if (rs->own) {
        if (!rs->sk->re.reloading && !rs->sk->re.due)
            resident_reload(rs, "use limit reached", 0);
        return;
    }
    if (ss_msg_verbose)
        ss_msg_info("use limit reached -- exiting after %d running handler(s)",
                 client_busy(rs->clients));
    resident_stop(rs);
}

/* resident_changed - the hook for a client moved on in the event loop */
static void resident_changed(void *context)
{
    resident_update(context);
}

static const CLIENT_HOOKS resident_hooks = {
    resident_start, resident_admitted, resident_nostart_hook, resident_started,
    resident_changed,
};

/* resident_accept_error - what an accept() failure means */
static int resident_accept_error(RESIDENT *rs, SS_LISTENER *lp)
{
    struct timeval tv = {0, RESIDENT_BACKOFF_USEC};

    switch (errno) {
    case EINTR:
    case ECONNABORTED:
        return (0);                     /* try the next one */
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return (-1);                    /* nothing left: wait */
    default:

        /*
         * Out of descriptors (EMFILE, ENFILE) or memory: the client stays
         * in the backlog; stop watching for a moment instead of spinning
         * on a listener that stays readable.
         */
        if (!rs->backoff_warned)
            ss_msg_warn("accept on %s: %m -- pausing", lp->display);
        rs->backoff_warned = 1;
        rs->backoff = 1;
        resident_watch(rs, 0);
        timer_arm(rs->backoff_ev, &tv);
        return (-1);
    }
}

/* resident_accepted - one connection from accept(): a client */
static void resident_accepted(RESIDENT *rs, SS_LISTENER *lp, int conn,
                                      const struct sockaddr_storage *peer,
                                      socklen_t peer_len)
{
    CLIENT *cl = client_new(rs->clients, -1, lp);

    evtimer_del(rs->idle_ev);
    if (rs->policy && rs->policy->pass && rs->policy->pass(rs, cl, conn))
        return;                         /* PASSING: the policy brings it */
    client_pass(cl, conn);
    memcpy(&cl->c.peer, peer, sizeof(cl->c.peer));
    cl->c.peer_len = peer_len;
    resident_client_env(&cl->c);
    client_run(cl, 0);
}

/* resident_accept_event - a listener is readable */
static void resident_accept_event(evutil_socket_t fd, short what, void *arg)
{
    SS_LISTENER *lp = arg;
    RESIDENT *rs = lp->context;
    const SINGLE_SERVER_APP *app = rs->sk->app;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    int     conn;
    int     n;

    (void) what;
    for (n = 0; n < RESIDENT_ACCEPT_BATCH && resident_may_accept(rs); n++) {
        if (app->pre_accept)
            app->pre_accept(app->context);
        peer_len = sizeof(peer);
        conn = accept4(fd, (struct sockaddr *) &peer, &peer_len, SOCK_CLOEXEC);
        if (rs->policy)
            rs->policy->accepted(rs, conn);
        if (conn < 0) {
            if (resident_accept_error(rs, lp) < 0)
                break;
            continue;
        }
        if (lp->untuned > 0)            /* queued before listener_tune() */
            listener_accepted(lp, conn);
        if (rs->backoff_warned) {
            ss_msg_info("accept on %s works again", lp->display);
            rs->backoff_warned = 0;
        }
        resident_accepted(rs, lp, conn, &peer, peer_len);
        if (rs->policy)                 /* one status message per client */
            break;
    }
    resident_update(rs);
}

/* resident_child_exit - a handler ended */
static void resident_child_exit(pid_t pid, int status, void *context)
{
    RESIDENT *rs = context;

    (void) status;
    admit_reap(rs->sk->admit, (long) pid);  /* however it ended: timed out too */
    client_reaped(rs->clients, pid);
    resident_update(rs);
}

/* resident_idle_event - nothing to do for max_idle: leave */
static void resident_idle_event(evutil_socket_t fd, short what, void *arg)
{
    RESIDENT *rs = arg;

    (void) fd;
    (void) what;
    ss_msg_info("idle timeout -- exiting");
    resident_stop(rs);
    resident_update(rs);
}

/*
 * resident_drop - the drain is over: clients still waiting for a handler
 * that could not be started (out of processes or descriptors), still
 * sending their PROXY header, or still being passed, are closed, or the
 * process would never leave
 */
static void resident_drop(RESIDENT *rs)
{
    char    what[300];
    CLIENT *cl;
    CLIENT *next;

    if (rs->policy)
        rs->policy->drop(rs);
    CLIENT_FOREACH(cl, next, rs->clients) {
        if (cl->state == CLIENT_HEADER || cl->state == CLIENT_PAUSED
            || cl->state == CLIENT_LOOKUP) {
            snprintf(what, sizeof(what), "a client of %s %s",
                     cl->c.listener->display, cl->state == CLIENT_HEADER ?
                     "still sending its PROXY header" :
                     cl->state == CLIENT_LOOKUP ?
                     "still waiting for its host name" :
                     "that no handler could be started for");
            client_drop(cl, what);
        } else if (cl->state == CLIENT_PASSING) {
            client_drop(cl, 0);
        }
    }
}

/* resident_drain_event - handlers had their grace: terminate them */
static void resident_drain_event(evutil_socket_t fd, short what, void *arg)
{
    RESIDENT *rs = arg;

    (void) fd;
    (void) what;
    if (child_count() > 0)
        ss_msg_warn("drain timeout: %d handler(s) still running -- sending "
                 "SIGTERM", child_count());
    child_terminate_all();
    resident_drop(rs);
    resident_update(rs);
}

/* resident_linger_event - leaving: are the groups' SIGKILLs done? */
static void resident_linger_event(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    resident_update(arg);
}

/* resident_backoff_event - try accepting again after EMFILE/ENFILE */
static void resident_backoff_event(evutil_socket_t fd, short what, void *arg)
{
    RESIDENT *rs = arg;

    (void) fd;
    (void) what;
    rs->backoff = 0;
    resident_update(rs);
}

/*
 * resident_leave - SIGTERM, SIGINT, SIGHUP: stop accepting, serve the
 * paused at once, drain. With listeners of our own, SIGHUP is a reload
 * instead: re-execute.
 */
void    resident_leave(SKELETON *sk, int sig)
{
    RESIDENT *rs = sk->resident;
    struct timeval tv = {P.drain_timeout, 0};
    CLIENT *cl;
    CLIENT *next;

    if (sig == SIGHUP && rs->own && !rs->leaving) {
        resident_reload(rs, "signal 1 (reload)", 1);
        return;
    }
    if (rs->leaving) {
        ss_msg_info("signal %d: already leaving", sig);
        return;
    }
    ss_msg_info("signal %d -- exiting after %d running handler(s)", sig,
             client_busy(rs->clients));
    rs->leaving = 1;
    resident_stop(rs);
    CLIENT_FOREACH(cl, next, rs->clients) {
        if (cl->state == CLIENT_PAUSED)
            client_start_now(cl);       /* a retry that fails pauses again */
    }
    if (client_busy(rs->clients) > 0) {
        if (P.drain_timeout > 0) {
            timer_arm(rs->drain_ev, &tv);
        } else {
            child_terminate_all();
            resident_drop(rs);
        }
    }
    resident_update(rs);
}

/* resident_events - an event per listener and the loop's timers */
static void resident_events(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;
    size_t  i;
    SS_LISTENER *lp;

    for (i = 0; i < sk->listeners.count; i++) {
        lp = &sk->listeners.items[i];
        lp->context = rs;
        if ((lp->ev = event_new(sk->base, lp->fd, EV_READ | EV_PERSIST,
                                resident_accept_event, lp)) == 0)
            ss_msg_fatal("event_new: out of memory");
    }
    rs->idle_ev = evtimer_new(sk->base, resident_idle_event, rs);
    rs->drain_ev = evtimer_new(sk->base, resident_drain_event, rs);
    rs->backoff_ev = evtimer_new(sk->base, resident_backoff_event, rs);
    rs->linger_ev = evtimer_new(sk->base, resident_linger_event, rs);
    if (!rs->idle_ev || !rs->drain_ev || !rs->backoff_ev || !rs->linger_ev)
        ss_msg_fatal("evtimer_new: out of memory");
    resident_reload_events(rs);
    if (notify_enabled()) {
        if ((rs->status_ev = evtimer_new(sk->base, resident_status_event,
                                         rs)) == 0)
            ss_msg_fatal("evtimer_new: out of memory");
        resident_status_text(rs, rs->status_sent, sizeof(rs->status_sent));
    }
}

/* resident_ready - -v: what this image serves, in one line */
static void resident_ready(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;

    if (ss_msg_verbose && sk->ma.on)
        ss_msg_info("ready: master(8) mode, transport %s, %zu listener(s), "
                    "generation %o, max_use %ld, max_idle %lds, %s",
                    sk->opts.transport ? sk->opts.transport : "(from fd 6)",
                    sk->listeners.count, sk->ma.generation, P.max_use,
                    P.max_idle, sk->opts.solitary ? "no accept lock (-l)"
                    : "accept lock");
    else if (ss_msg_verbose && rs->own)
        ss_msg_info("ready: %zu listener(s) of our own, max_use %ld%s, "
                    "max_idle off (own listeners), process_limit %ld",
                    sk->listeners.count, P.max_use, P.max_use > 0 ?
                    " (then re-execute)" : " (no limit)", P.process_limit);
    else if (ss_msg_verbose)
        ss_msg_info("ready: %zu listener(s), max_use %ld, max_idle %lds, "
                 "process_limit %ld", sk->listeners.count, P.max_use,
                 P.max_idle, P.process_limit);
}

/*
 * resident_open - what is done once, before privileges are dropped: the
 * listeners, the rules, the in-flow bucket, master(8)'s lock
 */
static void resident_open(RESIDENT *rs, int argc, char **argv)
{
    SKELETON *sk = rs->sk;

    if (!sk->opts.allow_tty && isatty(0))
        ss_msg_usage("do not run this command by hand (use -d to allow a "
                  "terminal on stdin, or -S for stream mode)");
    resident_listeners(sk, sk->re.handed_over);
    resident_tune(sk, sk->re.handed_over);
    skeleton_admit_open(sk);
    skeleton_flow_open(sk, sk->re.handover.flow_fd);
    if (sk->ma.on && !sk->opts.solitary)
        master_lock_open(&sk->ma, P.state_directory, P.service_name);
    skeleton_init_process(sk, argc, argv);
    rs->own = sk->listeners.count > 0 && resident_own(sk);
    /* Once, not again in every re-executed image. */
    if (rs->own && sk->idle_given && P.max_idle > 0 && !sk->re.handed_over)
        ss_msg_warn("max_idle %lds has no effect: every listener is our own, "
                    "and leaving would leave nobody listening", P.max_idle);
}

/* resident_run - the resident loop */
int     resident_run(SKELETON *sk, int argc, char **argv)
{
    static RESIDENT resident;
    RESIDENT *rs = &resident;

    rs->sk = sk;
    rs->clients = &sk->clients;
    sk->resident = rs;
    resident_open(rs, argc, argv);
    resident_events(rs);
    skeleton_clients(sk, &resident_hooks, rs);
    sk->clients.read_how |= UPSTREAM_SOCKET;   /* accepted: all sockets */
    if (sk->ma.on)
        master_policy_start(rs);
    skeleton_signals(sk);
    watchdog_start(sk->base, P.daemon_timeout);
    child_init(sk->base, P.command_time_limit, resident_child_exit, rs);
    resident_tls_start(rs);
    if (sk->re.handed_over)
        resident_take_over(rs);
    if (sk->opts.print_addresses)
        resident_print_addresses(sk);
    if (!sk->opts.log_stderr)
        ss_msg_stderr(SS_MSG_STDERR_NONE);
    resident_ready(rs);
    notify_send("READY=1");
    resident_idle_start(rs);
    resident_update(rs);

    /*
     * The loop is left to finish, or to re-execute outside it. A
     * re-execution may be due before the loop runs (a handed-over
     * client's header that ended meanwhile reached max_use): the loop's
     * break would be forgotten as it starts, so look first.
     */
    while (!rs->finished) {
        if (sk->re.due)
            resident_reexec_now(rs);    /* returns only to serve on */
        else if (event_base_dispatch(sk->base) < 0)
            ss_msg_fatal("event loop failed");
    }
    child_log_flush();
    return (0);
}
