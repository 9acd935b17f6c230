/*
 * resident.c - resident mode: listen, accept, hand off, and leave in time
 *
 * The semi-resident server: it serves clients until max_use of them were
 * accepted or max_idle passed with nothing to do, then exits 0, and
 * whoever owns the listening socket (systemd, inetd, master(8), a
 * supervisor, or the next start with -L) starts a fresh process.
 *
 * At process_limit the listeners are simply not watched (inetd's "wait"
 * idea, s6-tcpserverd's capacity rule): clients wait in the kernel's
 * backlog instead of being accepted and closed. Every change of state
 * ends in resident_update(), the one place that arms or disarms them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "child.h"
#include "client_env.h"
#include "msg.h"
#include "mymalloc.h"
#include "notify.h"
#include "skeleton.h"
#include "spawn_cmd.h"
#include "timer.h"
#include "watchdog.h"

#define P single_server_params

#define RESIDENT_ACCEPT_BATCH   16      /* accepts per wake-up, for fairness */
#define RESIDENT_BACKOFF_USEC   100000  /* pause after EMFILE/ENFILE */
#define RESIDENT_RETRY_SEC      1       /* retry after a failed spawn */
#define RESIDENT_CHECK_SEC      10      /* time for PROGRAM --check */
#define RESIDENT_LINGER_USEC    100000  /* leaving: look at groups again */
#define RESIDENT_NOSTART_LOG_SEC 1      /* handler start failures: a line */

/*
 * A client waits here when the in-flow bucket was empty, or to retry a
 * spawn that failed for want of processes or memory.
 */
typedef struct RESIDENT_PENDING {
    SINGLE_SERVER_CLIENT client;
    ADMIT_TICKET ticket;                /* its per-source slot */
    SKELETON *sk;
    struct event *timer;
    struct RESIDENT_PENDING *next;
} RESIDENT_PENDING;

/* resident_busy - clients being served now, or waiting to be */
static int resident_busy(SKELETON *sk)
{
    return (child_count() + sk->busy_in_process + sk->npending
            + upstream_count(sk->upstream) + (sk->ma.pass_conn >= 0));
}

/*
 * resident_may_accept - are we willing to take one more client now?
 * Under master(8), one at a time, and only with the accept lock.
 */
static int resident_may_accept(SKELETON *sk)
{
    if (sk->stopping || sk->backoff || sk->re.due)
        return (0);
    if (sk->ma.on)
        return (resident_busy(sk) == 0 && master_may_accept(&sk->ma));
    return (P.process_limit == 0 || resident_busy(sk) < P.process_limit);
}

/* resident_watch - arm or disarm every listener */
static void resident_watch(SKELETON *sk, int on)
{
    size_t  i;
    SS_LISTENER *lp;

    if (sk->watching == on)
        return;
    for (i = 0; i < sk->listeners.count; i++) {
        lp = &sk->listeners.items[i];
        if (lp->ev && (on ? event_add(lp->ev, 0) : event_del(lp->ev)) < 0)
            ss_msg_fatal("cannot %s listener %s", on ? "watch" : "unwatch",
                      lp->display);
    }
    sk->watching = on;
}

/* resident_status_text - the STATUS= line for the service manager */
static void resident_status_text(SKELETON *sk, char *buf, size_t len)
{
    char    counters[100];

    skeleton_counters(sk, counters, sizeof(counters));
    snprintf(buf, len, "STATUS=%s", counters);
}

/* resident_status_event - send STATUS= if it changed since the last one */
static void resident_status_event(evutil_socket_t fd, short what, void *arg)
{
    SKELETON *sk = arg;
    char    text[sizeof(sk->status_sent)];

    (void) fd;
    (void) what;
    resident_status_text(sk, text, sizeof(text));
    if (strcmp(text, sk->status_sent) != 0) {
        notify_send(text);
        memcpy(sk->status_sent, text, sizeof(text));
    }
}

/*
 * resident_status_later - the counters may have changed: look in a
 * second. One timer, so STATUS= goes out at most once a second and costs
 * no system call per client.
 */
static void resident_status_later(SKELETON *sk)
{
    struct timeval one = {1, 0};

    if (sk->status_ev && !evtimer_pending(sk->status_ev, 0))
        timer_arm(sk->status_ev, &one);
}

/* resident_finish - leave the event loop (resident_stop said STOPPING=1) */
static void resident_finish(SKELETON *sk)
{
    if (sk->finished)                   /* the PROXY step's done() came first */
        return;
    if (sk->status_ev && evtimer_pending(sk->status_ev, 0))
        resident_status_event(-1, 0, sk);   /* the last change too */
    if (sk->app->pre_exit)
        sk->app->pre_exit(sk->app->context);
    sk->finished = 1;
    event_base_loopbreak(sk->base);
}

static void resident_stop(SKELETON *);

/* resident_master_lost - the master is gone: serve what we have, leave */
static void resident_master_lost(SKELETON *sk)
{
    ss_msg_info("master disconnect -- exiting");
    if (!sk->stopping)
        resident_stop(sk);
}

/*
 * resident_master_update - with nothing to do, tell the master that we
 * are available (once per client) and ask for the accept lock
 */
static void resident_master_update(SKELETON *sk)
{
    if (resident_busy(sk) > 0)
        return;
    /* Once gone, the master is not written to (nor its loss logged) again. */
    if (sk->ma.taken && !sk->ma.gone && master_notify(&sk->ma, MASTER_AVAIL) < 0)
        resident_master_lost(sk);
    /* Holding the lock while we cannot accept would stall the others. */
    if (!sk->stopping && !sk->backoff)
        master_lock(&sk->ma);
}

/* resident_update - the one place that decides what to watch */
static void resident_update(SKELETON *sk)
{
    struct timeval tick = {0, RESIDENT_LINGER_USEC};

    if (sk->ma.on)
        resident_master_update(sk);
    resident_status_later(sk);
    if (sk->stopping && resident_busy(sk) == 0) {
        /* The SIGKILL that follows a group's SIGTERM is still due. */
        if (child_lingering_count() > 0)
            timer_arm(sk->linger_ev, &tick);
        else
            resident_finish(sk);
        return;
    }
    resident_watch(sk, resident_may_accept(sk));
}

/* resident_idle_start - (re)start the idle clock */
static void resident_idle_start(SKELETON *sk)
{
    struct timeval tv = {P.max_idle, 0};

    /* Leaving would close listeners that nobody else holds. */
    if (P.max_idle > 0 && !sk->stopping && !sk->own)
        timer_arm(sk->idle_ev, &tv);
}

/* resident_stop - accept no more: close the listeners */
static void resident_stop(SKELETON *sk)
{
    size_t  i;
    SS_LISTENER *lp;

    resident_watch(sk, 0);
    sk->stopping = 1;
    master_unlock(&sk->ma);             /* a sibling may have it */
    notify_stopping();                  /* the manager may start a successor */
    evtimer_del(sk->idle_ev);
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
static void resident_client_env(SKELETON *sk, SINGLE_SERVER_CLIENT *client,
                                        const SS_LISTENER *lp)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    char    host[INET6_ADDRSTRLEN];
    char    port[8];

    if (sk->ma.transport == MASTER_PASS && sk->ma.on) {
        client_env_from_fd(&client->env, client->in_fd);    /* passed to us */
    } else if (lp->family == AF_UNIX) {
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

static void resident_defer(SKELETON *, const SINGLE_SERVER_CLIENT *,
                                   ADMIT_TICKET *, long);
static void resident_reload(SKELETON *, const char *, int);
static void resident_check_start(SKELETON *, const char *);

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
 * resident_spawn_failed - keep the client for a retry when that can
 * help; otherwise that client alone pays: its connection is closed,
 * counted as refused, and the next client gets a fresh try
 */
static void resident_spawn_failed(SKELETON *sk, SINGLE_SERVER_CLIENT *client,
                                          ADMIT_TICKET *ticket)
{
    const char *program = spawn_cmd_failed();  /* null: not spawn_cmd's */

    /* Out of processes or memory passes: retry. */
    if (errno == EAGAIN || errno == ENOMEM || errno == EMFILE
        || errno == ENFILE) {
        ss_msg_warn("cannot start handler for a client of %s: %m -- retrying "
                    "in %ds", client->listener->display, RESIDENT_RETRY_SEC);
        resident_defer(sk, client, ticket, RESIDENT_RETRY_SEC * 1000);
        return;
    }

    /*
     * A program being replaced (ETXTBSY), removed (ENOENT), broken
     * (ENOEXEC, EACCES): the next client may find it back. An end of
     * file, not a reset: what the client sent is read and dropped
     * (in the event loop, unless it is about to end).
     */
    resident_nostart_log(sk, client, program, errno);
    if (sk->stopping)
        admit_close_now(client->in_fd);
    else
        admit_close(sk->admit, client->in_fd);
    admit_release(sk->admit, ticket);
    sk->refused++;
    if (resident_busy(sk) == 0)
        resident_idle_start(sk);
}

/* resident_serve - hand one accepted client to the application */
static void resident_serve(SKELETON *sk, SINGLE_SERVER_CLIENT *client,
                                   ADMIT_TICKET *ticket)
{
    const SINGLE_SERVER_APP *app = sk->app;
    pid_t   pid = 0;

    if (app->service) {
        sk->busy_in_process = 1;
        app->service(client, app->context);
        sk->busy_in_process = 0;
        admit_release(sk->admit, ticket);
    } else if ((pid = skeleton_spawn(sk, client)) < 0) {
        resident_spawn_failed(sk, client, ticket);
        return;
    } else {
        admit_bind(sk->admit, pid, ticket);     /* freed when it is reaped */
    }
    sk->served++;
    close(client->in_fd);
    if (ss_msg_verbose)
        resident_log_client(client, pid);
    if (app->service)
        resident_idle_start(sk);
    if (app->loop)
        app->loop(app->context);
}

/* resident_pending_serve - serve a client that is off the pending list */
static void resident_pending_serve(RESIDENT_PENDING *pp)
{
    SKELETON *sk = pp->sk;

    sk->npending--;
    event_free(pp->timer);
    resident_serve(sk, &pp->client, &pp->ticket);  /* may defer it anew */
    myfree(pp);
}

/* resident_unpend - take a client off the pending list and serve it */
static void resident_unpend(RESIDENT_PENDING *pp)
{
    RESIDENT_PENDING **ppp;

    for (ppp = &pp->sk->pending; *ppp != pp; ppp = &(*ppp)->next)
         /* void */ ;
    *ppp = pp->next;
    resident_pending_serve(pp);
}

/* resident_pending_event - a client's in-flow pause is over */
static void resident_pending_event(evutil_socket_t fd, short what, void *arg)
{
    RESIDENT_PENDING *pp = arg;
    SKELETON *sk = pp->sk;

    (void) fd;
    (void) what;
    resident_unpend(pp);
    resident_update(sk);
}

/* resident_defer - serve this client in ms: in-flow pause, spawn retry */
static void resident_defer(SKELETON *sk, const SINGLE_SERVER_CLIENT *client,
                                   ADMIT_TICKET *ticket, long ms)
{
    RESIDENT_PENDING *pp = mymalloc(sizeof(*pp));
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    pp->client = *client;
    pp->ticket = *ticket;
    client_env_copy(&pp->client.env, &client->env);
    pp->sk = sk;
    if ((pp->timer = evtimer_new(sk->base, resident_pending_event, pp)) == 0)
        ss_msg_fatal("evtimer_new: out of memory");
    pp->next = sk->pending;
    sk->pending = pp;
    sk->npending++;
    timer_arm(pp->timer, &tv);
}

/* resident_accept_error - what an accept() failure means */
static int resident_accept_error(SKELETON *sk, SS_LISTENER *lp)
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
        if (!sk->backoff_warned)
            ss_msg_warn("accept on %s: %m -- pausing", lp->display);
        sk->backoff_warned = 1;
        sk->backoff = 1;
        resident_watch(sk, 0);
        timer_arm(sk->backoff_ev, &tv);
        return (-1);
    }
}

/* resident_count_use - one more client; at max_use, recycle */
static void resident_count_use(SKELETON *sk)
{
    /* Leaving already (a header that ended after the signal): no more. */
    if (sk->stopping || P.max_use == 0 || ++sk->use_count < P.max_use)
        return;
    if (sk->own) {
        if (!sk->re.reloading && !sk->re.due)
            resident_reload(sk, "use limit reached", 0);
        return;
    }
    if (ss_msg_verbose)
        ss_msg_info("use limit reached -- exiting after %d running handler(s)",
                 resident_busy(sk));
    resident_stop(sk);
}

/* resident_peer - a client not from accept(): its connection and peer */
static void resident_peer(SINGLE_SERVER_CLIENT *client, int fd)
{
    client->in_fd = fd;
    client->peer_len = sizeof(client->peer);
    if (getpeername(fd, (struct sockaddr *) &client->peer, &client->peer_len) < 0)
        client->peer_len = 0;           /* gone meanwhile: the handler sees EOF */
}

/* resident_admit - a client as it is now known: admit it, serve it */
static void resident_admit(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    ADMIT_TICKET ticket;

    if (!admit_client(sk->admit, client, &ticket)) {
        /* Refused: no token, no count toward max_use, no handler. */
        admit_close(sk->admit, client->in_fd);
        sk->refused++;
        if (resident_busy(sk) == 0)
            resident_idle_start(sk);
        return;
    }
    if (skeleton_flow_pause(sk))
        resident_defer(sk, client, &ticket, P.in_flow_delay * 1000);
    else
        resident_serve(sk, client, &ticket);
    resident_count_use(sk);
}

/* resident_refuse - a client refused for its PROXY header, or its peer */
static void resident_refuse(SKELETON *sk, SINGLE_SERVER_CLIENT *client,
                                    const char *why)
{
    admit_header_refused(sk->admit, client, why);
    admit_close(sk->admit, client->in_fd);
    sk->refused++;
    if (resident_busy(sk) == 0)
        resident_idle_start(sk);
}

/*
 * resident_header_done - the PROXY header was read (the client is who it
 * says), or it was bad. Called from the event loop, or at once from
 * upstream_receive() (in resident_arrive(), whose caller updates again:
 * hence resident_finish() must bear a second call).
 */
static void resident_header_done(SINGLE_SERVER_CLIENT *client,
                                         const char *why, void *context)
{
    SKELETON *sk = context;

    if (why)
        resident_refuse(sk, client, why);
    else
        resident_admit(sk, client);
    resident_update(sk);
}

/* resident_arrive - one new client: its variables, its header, admission */
static void resident_arrive(SKELETON *sk, SS_LISTENER *lp,
                                    SINGLE_SERVER_CLIENT *client)
{
    evtimer_del(sk->idle_ev);
    client->out_fd = client->in_fd;
    client->err_fd = -1;
    client->new_group = 0;
    client->listener = lp;
    client->service_name = P.service_name;
    client->proxy_len = 0;
    resident_client_env(sk, client, lp);
    if (upstream_on(sk->upstream))
        upstream_receive(sk->upstream, client, -1);
    else
        resident_admit(sk, client);
}

/* resident_pass_done - a pass connection brought its descriptor (or not) */
static void resident_pass_done(int fd, void *context)
{
    SS_LISTENER *lp = context;
    SKELETON *sk = lp->context;
    SINGLE_SERVER_CLIENT client;

    if (fd >= 0) {
        resident_peer(&client, fd);
        resident_arrive(sk, lp, &client);
    } else if (resident_busy(sk) == 0) {
        resident_idle_start(sk);        /* nothing came: idle again */
    }
    resident_update(sk);
}

/*
 * resident_master_accepted - under master(8): let the next process have
 * the lock, and tell the master that this one is taken. The client is
 * served even when the master is gone.
 */
static void resident_master_accepted(SKELETON *sk, int fd)
{
    master_unlock(&sk->ma);
    if (fd >= 0 && !sk->ma.gone && master_notify(&sk->ma, MASTER_TAKEN) < 0)
        resident_master_lost(sk);
}

/* resident_accept_event - a listener is readable */
static void resident_accept_event(evutil_socket_t fd, short what, void *arg)
{
    SS_LISTENER *lp = arg;
    SKELETON *sk = lp->context;
    SINGLE_SERVER_CLIENT client;
    int     n;

    (void) what;
    for (n = 0; n < RESIDENT_ACCEPT_BATCH && resident_may_accept(sk); n++) {
        if (sk->app->pre_accept)
            sk->app->pre_accept(sk->app->context);
        client.peer_len = sizeof(client.peer);
        client.in_fd = accept4(fd, (struct sockaddr *) &client.peer,
                               &client.peer_len, SOCK_CLOEXEC);
        if (sk->ma.on)
            resident_master_accepted(sk, client.in_fd);
        if (client.in_fd < 0) {
            if (resident_accept_error(sk, lp) < 0)
                break;
            continue;
        }
        if (lp->untuned > 0)            /* queued before listener_tune() */
            listener_accepted(lp, client.in_fd);
        if (sk->backoff_warned) {
            ss_msg_info("accept on %s works again", lp->display);
            sk->backoff_warned = 0;
        }
        if (sk->ma.on && sk->ma.transport == MASTER_PASS) {
            evtimer_del(sk->idle_ev);
            master_pass_receive(&sk->ma, client.in_fd, resident_pass_done, lp);
        } else {
            resident_arrive(sk, lp, &client);
        }
        if (sk->ma.on)                  /* one status message per client */
            break;
    }
    resident_update(sk);
}

/* resident_child_exit - a handler ended */
static void resident_child_exit(pid_t pid, int status, void *context)
{
    SKELETON *sk = context;

    (void) status;
    admit_reap(sk->admit, (long) pid); /* however it ended: timed out too */
    if (resident_busy(sk) == 0)
        resident_idle_start(sk);
    resident_update(sk);
}

/* resident_idle_event - nothing to do for max_idle: leave */
static void resident_idle_event(evutil_socket_t fd, short what, void *arg)
{
    SKELETON *sk = arg;

    (void) fd;
    (void) what;
    ss_msg_info("idle timeout -- exiting");
    resident_stop(sk);
    resident_update(sk);
}

/*
 * resident_drop_pending - the drain is over: clients still waiting for a
 * handler that could not be started (out of processes or descriptors),
 * or still sending their PROXY header, are closed, or the process would
 * never leave
 */
static void resident_drop_pending(SKELETON *sk)
{
    RESIDENT_PENDING *pp;

    master_pass_cancel(&sk->ma);
    upstream_drop(sk->upstream);
    while ((pp = sk->pending) != 0) {
        ss_msg_warn("leaving: closing a client of %s that no handler could be "
                 "started for", pp->client.listener->display);
        sk->pending = pp->next;
        sk->npending--;
        admit_close_now(pp->client.in_fd);     /* an end of file, not a reset */
        admit_release(sk->admit, &pp->ticket);
        event_free(pp->timer);
        myfree(pp);
    }
}

/* resident_drain_event - handlers had their grace: terminate them */
static void resident_drain_event(evutil_socket_t fd, short what, void *arg)
{
    SKELETON *sk = arg;

    (void) fd;
    (void) what;
    if (child_count() > 0)
        ss_msg_warn("drain timeout: %d handler(s) still running -- sending "
                 "SIGTERM", child_count());
    child_terminate_all();
    resident_drop_pending(sk);
    resident_update(sk);
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
    SKELETON *sk = arg;

    (void) fd;
    (void) what;
    sk->backoff = 0;
    resident_update(sk);
}

/* resident_serve_pending_now - leaving: no more pauses for the accepted */
static void resident_serve_pending_now(SKELETON *sk)
{
    RESIDENT_PENDING *list = sk->pending;
    RESIDENT_PENDING *next;

    /* Detached first: a spawn that fails again re-queues on a fresh list. */
    sk->pending = 0;
    for (; list; list = next) {
        next = list->next;
        resident_pending_serve(list);
    }
}

/*
 * resident_leave - SIGTERM, SIGINT, SIGHUP: stop accepting, drain. With
 * listeners of our own, SIGHUP is a reload instead: re-execute.
 */
void    resident_leave(SKELETON *sk, int sig)
{
    struct timeval tv = {P.drain_timeout, 0};

    if (sig == SIGHUP && sk->own && !sk->leaving) {
        resident_reload(sk, "signal 1 (reload)", 1);
        return;
    }
    if (sk->leaving) {
        ss_msg_info("signal %d: already leaving", sig);
        return;
    }
    ss_msg_info("signal %d -- exiting after %d running handler(s)", sig,
             resident_busy(sk));
    sk->leaving = 1;
    resident_stop(sk);
    resident_serve_pending_now(sk);
    if (resident_busy(sk) > 0) {
        if (P.drain_timeout > 0) {
            timer_arm(sk->drain_ev, &tv);
        } else {
            child_terminate_all();
            resident_drop_pending(sk);
        }
    }
    resident_update(sk);
}

/*
 * resident_serve_proxied_now - a paused client that came through a proxy
 * is who its header said, which the next image could not read again (it
 * was consumed): such a client is served now, its pause cut short.
 * Returns how many are still pending (their handler could not start).
 */
static int resident_serve_proxied_now(SKELETON *sk)
{
    RESIDENT_PENDING **ppp = &sk->pending;
    RESIDENT_PENDING *proxied = 0;
    RESIDENT_PENDING *pp;
    int     n;

    while ((pp = *ppp) != 0) {
        if (pp->client.proxy_len > 0) {
            *ppp = pp->next;
            pp->next = proxied;
            proxied = pp;
        } else {
            ppp = &pp->next;
        }
    }
    for (; proxied; proxied = pp) {
        pp = proxied->next;
        resident_pending_serve(proxied);
    }
    for (n = 0, pp = sk->pending; pp; pp = pp->next)
        n += pp->client.proxy_len > 0;
    return (n);
}

/* resident_pending_export - the clients in their pause, for the next image */
static void resident_pending_export(SKELETON *sk, HANDOVER *st)
{
    RESIDENT_PENDING *pp;
    HANDOVER_CLIENT hc;

    memset(&hc, 0, sizeof(hc));
    for (pp = sk->pending; pp; pp = pp->next) {
        hc.fd = pp->client.in_fd;
        hc.listener = (int) (pp->client.listener - sk->listeners.items);
        if ((hc.pause_ms = reexec_ms_left(sk->base, pp->timer)) < 0)
            hc.pause_ms = 0;
        handover_add_client(st, &hc);
    }
}

/* resident_pending_import - the paused clients of the previous image */
static void resident_pending_import(SKELETON *sk, const HANDOVER *st)
{
    const HANDOVER_CLIENT *hc;
    SINGLE_SERVER_CLIENT client;
    ADMIT_TICKET ticket;
    size_t  i;

    for (i = 0; i < st->nclients; i++) {
        hc = st->clients + i;
        if (hc->listener >= (int) sk->listeners.count)
            ss_msg_fatal("handover: client fd %d of listener %d, of %zu",
                      hc->fd, hc->listener, sk->listeners.count);
        if (fcntl(hc->fd, F_SETFD, FD_CLOEXEC) < 0)
            ss_msg_fatal("handover: client fd %d: %m", hc->fd);
        memset(&client, 0, sizeof(client));
        client.in_fd = client.out_fd = hc->fd;
        client.err_fd = -1;
        client.listener = &sk->listeners.items[hc->listener];
        client.service_name = P.service_name;
        resident_peer(&client, hc->fd);
        resident_client_env(sk, &client, client.listener);
        if (hc->header) {               /* nothing of it was read: again */
            upstream_receive(sk->upstream, &client, hc->pause_ms);
            continue;
        }
        /* Judged again by the rules read now: the env is rebuilt anyway. */
        if (!admit_client(sk->admit, &client, &ticket)) {
            admit_close(sk->admit, hc->fd);
            sk->refused++;
            continue;
        }
        resident_defer(sk, &client, &ticket, hc->pause_ms);
    }
}

/* resident_reload_failed - serve on; a reload that was announced is over */
static void resident_reload_failed(SKELETON *sk)
{
    sk->use_count = 0;
    if (sk->re.reload_notified)
        notify_send("READY=1");
    sk->re.reload_notified = 0;
}

/*
 * resident_reexec - the exec is due: leave the event loop first, so that
 * resident_reexec_now() can act on signals caught meanwhile
 */
static void resident_reexec(SKELETON *sk)
{
    sk->re.due = 1;
    event_base_loopbreak(sk->base);
}

/* resident_reexec_abandon - not now: signals back, serve on as before */
static void resident_reexec_abandon(SKELETON *sk, const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, 0);
    resident_reload_failed(sk);
    resident_update(sk);
}

/*
 * resident_reexec_now - hand everything in flight to a new image of us.
 * A signal that libevent caught but whose callback has not run yet would
 * be lost in the exec (it sits in libevent's close-on-exec pipe): with
 * every signal blocked, one more pass of the loop runs those callbacks,
 * and what comes later stays pending in the kernel across execve().
 * Returns when the exec cannot be done now: serve on.
 */
static void resident_reexec_now(SKELETON *sk)
{
    HANDOVER st = {.pid = getpid(), .served = sk->served,
        .refused = sk->refused, .flow_fd = -1,
        .stderr_closed = sk->stderr_closed};
    sigset_t all;
    sigset_t old;
    char   *why;
    size_t  headers;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    if (event_base_loop(sk->base, EVLOOP_NONBLOCK) < 0)
        ss_msg_fatal("event loop failed");
    sk->re.due = 0;                 /* no accepts until now */
    if (sk->leaving) {
        sigprocmask(SIG_SETMASK, &old, 0);
        resident_update(sk);
        return;
    }
    if (resident_serve_proxied_now(sk) > 0) {
        ss_msg_warn("cannot re-execute now: a client behind a proxy waits for "
                    "a handler -- serving on");
        resident_reexec_abandon(sk, &old);
        return;
    }
    if (!reexec_room(sk, child_count() + child_lingering_count()
                     + child_log_count() + sk->npending
                     + upstream_count(sk->upstream)
                     + (int) admit_export(sk->admit, 0), &why)) {
        ss_msg_warn("cannot re-execute now: %s -- serving on", why);
        myfree(why);
        resident_reexec_abandon(sk, &old);
        return;
    }
    if (sk->flow)
        st.flow_fd = flow_fd(sk->flow);
    child_export(&st);
    resident_pending_export(sk, &st);
    headers = upstream_export(sk->upstream, &st, sk->listeners.items);
    (void) admit_export(sk->admit, &st);
    ss_msg_info("re-executing %s: %zu handler(s), %zu paused client(s) and "
                "%zu still sending a PROXY header handed over",
                sk->re.self_path, st.nchildren, st.nclients - headers, headers);
    reexec_exec(sk, &st);               /* returns only to exit */
}

/* resident_check_done - the new program checked its configuration */
static void resident_check_done(pid_t pid, int status, void *context)
{
    SKELETON *sk = context;
    char    text[64];

    (void) pid;
    sk->re.reloading = 0;
    evtimer_del(sk->re.check_ev);
    if (sk->leaving) {                  /* a signal came meanwhile */
        resident_update(sk);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        /* What was checked must be what the new image reads. */
        if (reexec_changed(sk, sk->re.check_stamp))
            resident_check_start(sk, "changed during the check");
        else
            resident_reexec(sk);
        return;
    }
    child_status_text(status, text, sizeof(text));
    ss_msg_warn("%s --check failed (%s): not re-executing -- serving on with "
             "the running program and configuration", sk->re.self_path, text);
    resident_reload_failed(sk);
    resident_update(sk);
}

/* resident_check_start - run PROGRAM --check; its end decides */
static void resident_check_start(SKELETON *sk, const char *why)
{
    struct timeval limit = {RESIDENT_CHECK_SEC, 0};

    if (ss_msg_verbose)
        ss_msg_info("%s -- checking %s --check before re-executing", why,
                    sk->re.self_path);
    reexec_stamp(sk, sk->re.check_stamp, sizeof(sk->re.check_stamp));
    if ((sk->re.check_pid = reexec_check(sk)) < 0) {
        (void) spawn_cmd_failed();      /* no handler's: said here */
        ss_msg_warn("%s: cannot run %s --check: %m -- serving on", why,
                    sk->re.self_path);
        resident_reload_failed(sk);
        return;
    }
    child_watch(sk->re.check_pid, resident_check_done, sk);
    timer_arm(sk->re.check_ev, &limit);
    sk->re.reloading = 1;
}

/* resident_check_event - the check took too long: it fails */
static void resident_check_event(evutil_socket_t fd, short what, void *arg)
{
    SKELETON *sk = arg;

    (void) fd;
    (void) what;
    ss_msg_warn("%s --check still running after %ds -- killing it",
             sk->re.self_path, RESIDENT_CHECK_SEC);
    (void) kill(sk->re.check_pid, SIGKILL);    /* reaped: resident_check_done */
}

/*
 * resident_reload - own listeners at max_use or SIGHUP: check the new
 * program and configuration first, then re-execute. A broken binary or
 * parameter file must not replace a server that works. Clients are
 * served on while the check runs. At max_use with nothing changed on
 * disk the new image would start just as this one did: no check.
 */
static void resident_reload(SKELETON *sk, const char *why, int always_check)
{
    if (sk->re.reloading) {
        ss_msg_info("%s: a re-execution is being checked already", why);
        return;
    }
    /* A reload is announced; a recycle at max_use is no reload. */
    if (always_check && !sk->re.reload_notified && notify_enabled()) {
        reexec_notify_reloading();
        sk->re.reload_notified = 1;
    }
    if (!always_check && !reexec_changed(sk, sk->re.stamp)) {
        if (ss_msg_verbose)
            ss_msg_info("%s -- re-executing", why);
        resident_reexec(sk);
        return;
    }
    resident_check_start(sk, why);
}

/*
 * resident_own - may we re-execute instead of leaving? Only with every
 * listener our own, and a program and parameter file that this process,
 * as the user it now runs as, can run and read again.
 */
static int resident_own(SKELETON *sk)
{
    const char *why = 0;
    size_t  i;

    for (i = 0; i < sk->listeners.count; i++)
        if (!sk->listeners.items[i].own)
            return (0);
    if (sk->opts.chroot)
        why = "in a chroot the program is out of reach";
    else if (sk->re.self_path == 0 || access(sk->re.self_path, X_OK) < 0)
        why = "cannot execute the program again";
    else if (sk->opts.config_file && access(sk->opts.config_file, R_OK) < 0)
        why = "cannot read the parameter file again";
    else if (sk->re.rules_path && access(sk->re.rules_path, R_OK) < 0)
        why = "cannot read the access rules again";
    if (why)
        ss_msg_warn("listeners of our own, but %s: leaving at max_use, "
                    "max_idle and SIGHUP instead of re-executing", why);
    return (why == 0);
}

/* resident_listeners - every listening socket we were given or asked for */
static void resident_listeners(SKELETON *sk, int handed_over)
{
    size_t  i;
    char   *err;
    int     status;

    /* After a re-execution the -L sockets are the ones passed on. */
    for (i = 0; i < sk->opts.nlisten && !handed_over; i++)
        if ((status = listener_open(&sk->listeners, sk->opts.listen[i],
                                    &sk->listen_opts, &err)) != 0)
            ss_msg_fatal_status(status, "%s", err);
    if (sk->ma.on) {
        if (listener_inherit_master(&sk->listeners, MASTER_LISTEN_FD,
                                    sk->opts.socket_count < 0 ? 1 :
                                    (int) sk->opts.socket_count, &err) < 0)
            ss_msg_usage("%s", err);
        sk->ma.transport = master_transport(sk->opts.transport,
                                            sk->listeners.items[0].family);
        return;
    }
    if (listener_inherit_systemd(&sk->listeners, handed_over, &err) < 0)
        ss_msg_usage("%s", err);
    (void) listener_inherit_stdin(&sk->listeners);
    if (sk->listeners.count == 0)
        options_error("no listening socket: give -L address or -S, or "
                      "start under systemd, inetd or master(8)");
}

/*
 * resident_tune - the TCP listener options, once, on every listener.
 * What we bound just now must have them; a supervisor's socket, or ours
 * after a re-execution, serves on without.
 */
static void resident_tune(SKELETON *sk, int handed_over)
{
    SS_LISTENER *lp;
    char   *err;
    size_t  i;

    for (i = 0; i < sk->listeners.count; i++) {
        lp = &sk->listeners.items[i];
        /* Handed over in -L order; the kernel may know a temporary name. */
        if (handed_over && i < sk->opts.nlisten)
            listener_unix_name(lp, sk->opts.listen[i]);
        if (listener_tune(lp, &sk->listen_opts, &err) == 0)
            continue;
        if (lp->own && !handed_over)
            ss_msg_fatal("%s", err);
        ss_msg_warn("%s -- serving on without it", err);
        myfree(err);
    }
}

/* resident_print_addresses - -1: each bound address, then close stdout */
static void resident_print_addresses(SKELETON *sk)
{
    size_t  i;

    for (i = 0; i < sk->listeners.count; i++)
        printf("%s\n", sk->listeners.items[i].display);
    if (fflush(stdout) != 0)
        ss_msg_warn("writing addresses to stdout: %m");
    if (dup2(sk->devnull, 1) < 0)       /* the reader sees end-of-file */
        ss_msg_fatal("dup2 /dev/null: %m");
}

/* resident_events - an event per listener and the loop's timers */
static void resident_events(SKELETON *sk)
{
    size_t  i;
    SS_LISTENER *lp;

    for (i = 0; i < sk->listeners.count; i++) {
        lp = &sk->listeners.items[i];
        lp->context = sk;
        if ((lp->ev = event_new(sk->base, lp->fd, EV_READ | EV_PERSIST,
                                resident_accept_event, lp)) == 0)
            ss_msg_fatal("event_new: out of memory");
    }
    sk->idle_ev = evtimer_new(sk->base, resident_idle_event, sk);
    sk->drain_ev = evtimer_new(sk->base, resident_drain_event, sk);
    sk->backoff_ev = evtimer_new(sk->base, resident_backoff_event, sk);
    sk->re.check_ev = evtimer_new(sk->base, resident_check_event, sk);
    sk->linger_ev = evtimer_new(sk->base, resident_linger_event, sk);
    if (!sk->idle_ev || !sk->drain_ev || !sk->backoff_ev || !sk->re.check_ev
        || !sk->linger_ev)
        ss_msg_fatal("evtimer_new: out of memory");
    if (notify_enabled()) {
        if ((sk->status_ev = evtimer_new(sk->base, resident_status_event, sk)) == 0)
            ss_msg_fatal("evtimer_new: out of memory");
        resident_status_text(sk, sk->status_sent, sizeof(sk->status_sent));
    }
}

/*
 * resident_take_over - serve on what the previous image handed over;
 * then let in the signals that reexec_exec() held across execve() (it
 * blocked them all, from a mask that the skeleton keeps empty)
 */
static void resident_take_over(SKELETON *sk)
{
    sigset_t none;

    sk->served = sk->re.handover.served;
    sk->refused = sk->re.handover.refused;
    child_import(&sk->re.handover);
    admit_import(sk->admit, &sk->re.handover);
    resident_pending_import(sk, &sk->re.handover);
    handover_free(&sk->re.handover);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    child_reap();                       /* those that ended during execve() */
}

/* resident_master_gone - end of file on fd 5 */
static void resident_master_gone(void *context)
{
    resident_master_lost(context);
    resident_update(context);
}

/* resident_master_locked - the accept lock is ours: watch the listeners */
static void resident_master_locked(void *context)
{
    resident_update(context);
}

/* resident_run - the resident loop */
int     resident_run(SKELETON *sk, int argc, char **argv)
{
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
    sk->own = sk->listeners.count > 0 && resident_own(sk);
    /* Once, not again in every re-executed image. */
    if (sk->own && sk->idle_given && P.max_idle > 0 && !sk->re.handed_over)
        ss_msg_warn("max_idle %lds has no effect: every listener is our own, "
                    "and leaving would leave nobody listening", P.max_idle);
    resident_events(sk);
    admit_start(sk->admit, sk->base);
    upstream_start(sk->upstream, sk->base, resident_header_done, sk);
    if (sk->ma.on)
        master_start(&sk->ma, sk->base, resident_master_gone,
                     resident_master_locked, sk);
    skeleton_signals(sk);
    watchdog_start(sk->base, P.daemon_timeout);
    child_init(sk->base, P.command_time_limit, resident_child_exit, sk);
    if (sk->re.handed_over)
        resident_take_over(sk);
    if (sk->opts.print_addresses)
        resident_print_addresses(sk);
    if (!sk->opts.log_stderr)
        ss_msg_stderr(SS_MSG_STDERR_NONE);
    if (ss_msg_verbose && sk->ma.on)
        ss_msg_info("ready: master(8) mode, transport %s, %zu listener(s), "
                    "generation %o, max_use %ld, max_idle %lds, %s",
                    sk->opts.transport ? sk->opts.transport : "(from fd 6)",
                    sk->listeners.count, sk->ma.generation, P.max_use,
                    P.max_idle, sk->opts.solitary ? "no accept lock (-l)"
                    : "accept lock");
    else if (ss_msg_verbose && sk->own)
        ss_msg_info("ready: %zu listener(s) of our own, max_use %ld%s, "
                    "max_idle off (own listeners), process_limit %ld",
                    sk->listeners.count, P.max_use, P.max_use > 0 ?
                    " (then re-execute)" : " (no limit)", P.process_limit);
    else if (ss_msg_verbose)
        ss_msg_info("ready: %zu listener(s), max_use %ld, max_idle %lds, "
                 "process_limit %ld", sk->listeners.count, P.max_use,
                 P.max_idle, P.process_limit);
    notify_send("READY=1");
    resident_idle_start(sk);
    resident_update(sk);
    /* The loop is left to finish, or to re-execute outside it. */
    /*
     * A re-execution may be due before the loop runs (a handed-over
     * client's header that ended meanwhile reached max_use): the loop's
     * break would be forgotten as it starts, so look first.
     */
    while (!sk->finished) {
        if (sk->re.due)
            resident_reexec_now(sk);    /* returns only to serve on */
        else if (event_base_dispatch(sk->base) < 0)
            ss_msg_fatal("event loop failed");
    }
    child_log_flush();
    return (0);
}
