/*
 * reload.c - resident mode re-executes itself: check, hand over, take over
 *
 * With every listener its own, a resident server never leaves at
 * max_use or SIGHUP: it checks the program and configuration on disk
 * (PROGRAM --check), then becomes a new image of itself with the same
 * pid, and hands over every client in its table and every handler it
 * runs (reexec.c does the exec, handover.c the text). The new image takes
 * each client back in the state it was in.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "msg.h"
#include "mymalloc.h"
#include "notify.h"
#include "resident.h"
#include "spawn_cmd.h"
#include "timer.h"

#define P single_server_params

#define RELOAD_CHECK_SEC    10          /* time for PROGRAM --check */

static void reload_check_start(RESIDENT *, const char *);

/* reload_failed - serve on; a reload that was announced is over */
static void reload_failed(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;

    rs->use_count = 0;
    if (sk->re.reload_notified)
        notify_send("READY=1");
    sk->re.reload_notified = 0;
}

/*
 * reload_due - the exec is due: leave the event loop first, so that
 * resident_reexec_now() can act on signals caught meanwhile
 */
static void reload_due(RESIDENT *rs)
{
    rs->sk->re.due = 1;
    event_base_loopbreak(rs->sk->base);
}

/* reload_abandon - not now: signals back, serve on as before */
static void reload_abandon(RESIDENT *rs, const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, 0);
    reload_failed(rs);
    resident_update(rs);
}

/*
 * reload_proxied_now - a paused client that came through a proxy is who
 * its header said, which the next image could not read again (it was
 * consumed), and a TLS client's session is its relay's: such a client is
 * served now, its pause cut short (and one waiting for its host name is
 * judged now, without it). Returns
 * how many are still paused (their handler could not start).
 */
static int reload_proxied_now(RESIDENT *rs)
{
    CLIENT *cl;
    CLIENT *next;
    int     n = 0;

    CLIENT_FOREACH(cl, next, rs->clients) {
        if (cl->state == CLIENT_LOOKUP && cl->c.proxy_len > 0)
            client_run(cl, 0);          /* as if its time were up */
    }
    CLIENT_FOREACH(cl, next, rs->clients) {
        if (cl->state == CLIENT_PAUSED && (cl->c.proxy_len > 0 || cl->tls_env))
            client_start_now(cl);
    }
    CLIENT_FOREACH(cl, next, rs->clients) {
        n += cl->state == CLIENT_PAUSED && (cl->c.proxy_len > 0 || cl->tls_env);
    }
    return (n);
}

/* reload_items - what a handover would carry */
static size_t reload_items(RESIDENT *rs)
{
    CLIENT_TABLE *t = rs->clients;

    return ((size_t) (child_count() + child_lingering_count()
                      + child_log_count() + t->count[CLIENT_PAUSED]
                      + t->count[CLIENT_HEADER] + t->count[CLIENT_LOOKUP]
                      + t->count[CLIENT_LINGERING])
            + admit_export(rs->sk->admit, 0));
}

/*
 * reload_export - every client in the table that is not a handler's,
 * with the time it has left; a client sending its PROXY header begins
 * again in the next image (nothing of it was taken), and so does one
 * waiting for its host name
 */
static void reload_export(RESIDENT *rs, HANDOVER *st)
{
    SKELETON *sk = rs->sk;
    HANDOVER_CLIENT hc;
    CLIENT *cl;
    CLIENT *next;

    CLIENT_FOREACH(cl, next, rs->clients) {
        if (cl->state != CLIENT_PAUSED && cl->state != CLIENT_HEADER
            && cl->state != CLIENT_LOOKUP && cl->state != CLIENT_LINGERING)
            continue;
        memset(&hc, 0, sizeof(hc));
        hc.fd = cl->c.in_fd;
        hc.listener = cl->c.listener ?
            (int) (cl->c.listener - sk->listeners.items) : 0;
        hc.pause_ms = client_ms_left(cl);
        hc.header = cl->state == CLIENT_HEADER;
        hc.linger = cl->state == CLIENT_LINGERING;
        hc.lookup = cl->state == CLIENT_LOOKUP;
        /* Paused in an image before, and looked up again: paused still. */
        if (hc.lookup && cl->resume_ms >= 0) {
            hc.lookup = 0;
            hc.pause_ms = cl->resume_ms;
        }
        handover_add_client(st, &hc);
    }
}

/* reload_log - what is handed over, as the log has always said it */
static void reload_log(RESIDENT *rs, const HANDOVER *st)
{
    int     lingering = client_count(rs->clients, CLIENT_LINGERING);
    int     naming = client_count(rs->clients, CLIENT_LOOKUP);
    char    also[128] = "";
    size_t  len = 0;

    /* Said only when there are some: the line is the same as ever else. */
    if (naming > 0)
        len = (size_t) snprintf(also, sizeof(also), ", %d more waiting for "
                                "a host name", naming);
    if (lingering > 0)
        snprintf(also + len, sizeof(also) - len, ", with %d refused client(s) "
                 "lingering", lingering);
    ss_msg_info("re-executing %s: %zu handler(s), %d paused client(s) and "
                "%d still sending a PROXY header handed over%s",
                rs->sk->re.self_path, st->nchildren,
                client_count(rs->clients, CLIENT_PAUSED),
                client_count(rs->clients, CLIENT_HEADER), also);
}

/*
 * resident_reexec_now - hand everything in flight to a new image of us.
 * A signal that libevent caught but whose callback has not run yet would
 * be lost in the exec (it sits in libevent's close-on-exec pipe): with
 * every signal blocked, one more pass of the loop runs those callbacks,
 * and what comes later stays pending in the kernel across execve().
 * Returns when the exec cannot be done now: serve on.
 */
void    resident_reexec_now(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;
    HANDOVER st = {.pid = getpid(), .served = rs->clients->served,
        .refused = rs->clients->refused, .flow_fd = -1,
    .stderr_closed = sk->stderr_closed};
    sigset_t all;
    sigset_t old;
    char   *why;
    int     n;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    if (event_base_loop(sk->base, EVLOOP_NONBLOCK) < 0)
        ss_msg_fatal("event loop failed");
    if (rs->leaving) {
        sk->re.due = 0;                 /* no accepts until now */
        sigprocmask(SIG_SETMASK, &old, 0);
        resident_update(rs);
        return;
    }
    /* Still due while they go on: one admitted there asks for no other. */
    n = reload_proxied_now(rs);
    sk->re.due = 0;                     /* no accepts until now */
    if (n > 0) {
        ss_msg_warn("cannot re-execute now: a client behind a proxy or with "
                    "TLS waits for a handler -- serving on");
        reload_abandon(rs, &old);
        return;
    }
    if (!reexec_room(sk, reload_items(rs), &why)) {
        ss_msg_warn("cannot re-execute now: %s -- serving on", why);
        myfree(why);
        reload_abandon(rs, &old);
        return;
    }
    if (sk->flow)
        st.flow_fd = flow_fd(sk->flow);
    child_export(&st);
    reload_export(rs, &st);
    (void) admit_export(sk->admit, &st);
    reload_log(rs, &st);
    resident_tls_export(rs);
    reexec_exec(sk, &st);               /* returns only to exit */
}

/* reload_check_done - the new program checked its configuration */
static void reload_check_done(pid_t pid, int status, void *context)
{
    RESIDENT *rs = context;
    SKELETON *sk = rs->sk;
    char    text[64];

    (void) pid;
    sk->re.reloading = 0;
    evtimer_del(sk->re.check_ev);
    if (rs->leaving) {                  /* a signal came meanwhile */
        resident_update(rs);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        /* What was checked must be what the new image reads. */
        if (reexec_changed(sk, sk->re.check_stamp))
            reload_check_start(rs, "changed during the check");
        else
            reload_due(rs);
        return;
    }
    child_status_text(status, text, sizeof(text));
    ss_msg_warn("%s --check failed (%s): not re-executing -- serving on with "
             "the running program and configuration", sk->re.self_path, text);
    reload_failed(rs);
    resident_update(rs);
}

/* reload_check_start - run PROGRAM --check; its end decides */
static void reload_check_start(RESIDENT *rs, const char *why)
{
    SKELETON *sk = rs->sk;
    struct timeval limit = {RELOAD_CHECK_SEC, 0};

    if (ss_msg_verbose)
        ss_msg_info("%s -- checking %s --check before re-executing", why,
                    sk->re.self_path);
    reexec_stamp(sk, sk->re.check_stamp, sizeof(sk->re.check_stamp));
    if ((sk->re.check_pid = reexec_check(sk)) < 0) {
        (void) spawn_cmd_failed();      /* no handler's: said here */
        ss_msg_warn("%s: cannot run %s --check: %m -- serving on", why,
                    sk->re.self_path);
        reload_failed(rs);
        return;
    }
    child_watch(sk->re.check_pid, reload_check_done, rs);
    timer_arm(sk->re.check_ev, &limit);
    sk->re.reloading = 1;
}

/* reload_check_event - the check took too long: it fails */
static void reload_check_event(evutil_socket_t fd, short what, void *arg)
{
    RESIDENT *rs = arg;

    (void) fd;
    (void) what;
    ss_msg_warn("%s --check still running after %ds -- killing it",
             rs->sk->re.self_path, RELOAD_CHECK_SEC);
    (void) kill(rs->sk->re.check_pid, SIGKILL);    /* reaped: reload_check_done */
}

/*
 * resident_reload - own listeners at max_use or SIGHUP: check the new
 * program and configuration first, then re-execute. A broken binary or
 * parameter file must not replace a server that works. Clients are
 * served on while the check runs. At max_use with nothing changed on
 * disk the new image would start just as this one did: no check.
 */
void    resident_reload(RESIDENT *rs, const char *why, int always_check)
{
    SKELETON *sk = rs->sk;

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
        reload_due(rs);
        return;
    }
    reload_check_start(rs, why);
}

/* resident_reload_events - the check's time limit */
void    resident_reload_events(RESIDENT *rs)
{
    if ((rs->sk->re.check_ev = evtimer_new(rs->sk->base, reload_check_event,
                                           rs)) == 0)
        ss_msg_fatal("evtimer_new: out of memory");
}

/* reload_peer - a client handed over: its connection's peer */
static void reload_peer(SINGLE_SERVER_CLIENT *client)
{
    client->peer_len = sizeof(client->peer);
    if (getpeername(client->in_fd, (struct sockaddr *) &client->peer,
                    &client->peer_len) < 0)
        client->peer_len = 0;           /* gone meanwhile: the handler sees EOF */
}

/* reload_import - the clients of the previous image, where they were */
static void reload_import(RESIDENT *rs, const HANDOVER *st)
{
    SKELETON *sk = rs->sk;
    const HANDOVER_CLIENT *hc;
    CLIENT *cl;
    size_t  i;

    for (i = 0; i < st->nchildren; i++)
        if (!st->children[i].reaped)
            (void) client_adopt(rs->clients, st->children[i].pid);
    for (i = 0; i < st->nclients; i++) {
        hc = st->clients + i;
        if (hc->listener >= (int) sk->listeners.count)
            ss_msg_fatal("handover: client fd %d of listener %d, of %zu",
                      hc->fd, hc->listener, sk->listeners.count);
        if (fcntl(hc->fd, F_SETFD, FD_CLOEXEC) < 0)
            ss_msg_fatal("handover: client fd %d: %m", hc->fd);
        cl = client_new(rs->clients, hc->fd, &sk->listeners.items[hc->listener]);
        reload_peer(&cl->c);
        resident_client_env(&cl->c);
        client_resume(cl, hc->linger ? CLIENT_LINGERING : hc->header ?
                      CLIENT_HEADER : hc->lookup ? CLIENT_LOOKUP
                      : CLIENT_PAUSED, hc->pause_ms);
    }
}

/*
 * resident_take_over - serve on what the previous image handed over;
 * then let in the signals that reexec_exec() held across execve() (it
 * blocked them all, from a mask that the skeleton keeps empty)
 */
void    resident_take_over(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;
    sigset_t none;

    rs->clients->served = sk->re.handover.served;
    rs->clients->refused = sk->re.handover.refused;
    child_import(&sk->re.handover);
    admit_import(sk->admit, &sk->re.handover);
    reload_import(rs, &sk->re.handover);
    handover_free(&sk->re.handover);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    child_reap();                       /* those that ended during execve() */
}
