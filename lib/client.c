/*
 * client.c - one object per client, one table, one state machine
 *
 * Each step a client takes before its handler starts (a master(8) pass,
 * a PROXY header, the rules, the in-flow pause, a retry) is a state of
 * one object, not a list of its own: "how busy", STATUS=, the drain and
 * the re-execution's handover are then each one loop over one table,
 * and a new wait (a handshake, a lookup) is one more state.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "client_env.h"
#include "msg.h"
#include "mymalloc.h"

/* client_now - the monotonic clock: a wall clock step moves no deadline */
static void client_now(struct timespec *ts)
{
    if (clock_gettime(CLOCK_MONOTONIC, ts) < 0)
        ss_msg_fatal("clock_gettime CLOCK_MONOTONIC: %m");
}

/* client_deadline - the client's deadline, ms from now */
static void client_deadline(CLIENT *cl, long ms)
{
    client_now(&cl->deadline);
    cl->deadline.tv_sec += ms / 1000;
    cl->deadline.tv_nsec += (ms % 1000) * 1000000;
    if (cl->deadline.tv_nsec >= 1000000000) {
        cl->deadline.tv_sec++;
        cl->deadline.tv_nsec -= 1000000000;
    }
}

/* client_ms_left - milliseconds to the client's deadline, at least 0 */
long    client_ms_left(const CLIENT *cl)
{
    struct timespec now;
    long    ms;

    client_now(&now);
    ms = (long) (cl->deadline.tv_sec - now.tv_sec) * 1000
        + (cl->deadline.tv_nsec - now.tv_nsec) / 1000000;
    return (ms < 0 ? 0 : ms);
}

/* client_table_init - an empty table */
void    client_table_init(CLIENT_TABLE *t, struct event_base *base,
                                  const CLIENT_HOOKS *hooks, void *context)
{
    t->base = base;
    t->hooks = hooks;
    t->context = context;
    t->head = 0;
    memset(t->count, 0, sizeof(t->count));
    t->linger_ms = CLIENT_LINGER_MS;
}

/* client_new - one more client, just accepted (fd -1: being passed) */
CLIENT *client_new(CLIENT_TABLE *t, int fd, const SS_LISTENER *lp)
{
    CLIENT *cl = mycalloc(1, sizeof(*cl));

    cl->c.in_fd = cl->c.out_fd = fd;
    cl->c.err_fd = -1;
    cl->c.listener = lp;
    cl->c.service_name = t->service_name;
    cl->state = fd < 0 ? CLIENT_PASSING : CLIENT_ACCEPTED;
    cl->rd.fd = -1;
    cl->resume_ms = -1;
    cl->table = t;
    cl->next = t->head;
    if (t->head)
        t->head->prev = cl;
    t->head = cl;
    t->count[cl->state]++;
    return (cl);
}

static void client_event(evutil_socket_t, short, void *);

/*
 * client_watch - the client's one event: its connection (flags), its
 * deadline, or both. Made anew for each state that waits.
 */
static void client_watch(CLIENT *cl, short flags, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    if (cl->ev == 0 && (cl->ev = event_new(cl->table->base,
                                           flags ? cl->c.in_fd : -1, flags,
                                           client_event, cl)) == 0)
        ss_msg_fatal("event_new: out of memory");
    if (event_add(cl->ev, ms >= 0 ? &tv : 0) < 0)
        ss_msg_fatal("cannot watch a client");
}

/* client_unwatch - the state the event was for is over */
static void client_unwatch(CLIENT *cl)
{
    if (cl->ev) {
        event_free(cl->ev);
        cl->ev = 0;
    }
}

/*
 * client_move - the one place a state changes: the old state's event
 * and reader go, the counts follow, and DONE frees the client
 */
static void client_move(CLIENT *cl, CLIENT_STATE to)
{
    CLIENT_TABLE *t = cl->table;

    client_unwatch(cl);
    if (cl->state == CLIENT_HEADER)
        upstream_read_end(&cl->rd);
    if (cl->state == CLIENT_LOOKUP && cl->query) {  /* nobody waits now */
        dns_cancel(cl->query);
        cl->query = 0;
    }
    t->count[cl->state]--;
    cl->state = to;
    t->count[to]++;
    if (to != CLIENT_DONE)
        return;
    t->count[CLIENT_DONE]--;
    myfree(cl->tls_env);
    myfree(cl->host);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        t->head = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    myfree(cl);
}

/*
 * client_close_now - close without lingering: our end of file, then what
 * already came is dropped, since closing with unread input would reset
 */
static void client_close_now(CLIENT *cl)
{
    size_t  drained = 0;

    if (cl->tls_env && cl->c.out_fd >= 0) {
        close(cl->c.out_fd);            /* TLS: the relay ends the session */
        cl->c.out_fd = -1;
    }
    if (cl->c.in_fd >= 0) {
        if (shutdown(cl->c.in_fd, SHUT_WR) == 0)
            (void) admit_drain(cl->c.in_fd, &drained);
        close(cl->c.in_fd);
        cl->c.in_fd = -1;
    }
    admit_release(cl->table->admit, &cl->ticket);
    client_move(cl, CLIENT_DONE);
}

/*
 * client_linger - a refused client: our end of file follows the message,
 * and what it still sends is read and dropped until its own end of file,
 * for ms (the table's linger_ms when new) and ADMIT_LINGER_BYTES at most, so
 * that it reads the message rather than a reset. With CLIENT_LINGER_MAX
 * lingering already, it is closed at once.
 */
void    client_linger(CLIENT *cl, long ms)
{
    CLIENT_TABLE *t = cl->table;

    admit_release(t->admit, &cl->ticket);
    /* TLS: the relay sends close_notify when both are closed. */
    if (cl->tls_env) {
        close(cl->c.out_fd);
        close(cl->c.in_fd);
        client_move(cl, CLIENT_DONE);
        return;
    }
    if (shutdown(cl->c.in_fd, SHUT_WR) < 0) {   /* not a socket, or gone */
        close(cl->c.in_fd);
        client_move(cl, CLIENT_DONE);
        return;
    }
    if (t->count[CLIENT_LINGERING] >= CLIENT_LINGER_MAX) {
        client_close_now(cl);
        return;
    }
    client_move(cl, CLIENT_LINGERING);
    client_deadline(cl, ms);
    client_watch(cl, EV_READ | EV_PERSIST, ms);
}

/* client_refuse - not served: counted, and the connection lingers */
static void client_refuse(CLIENT *cl)
{
    cl->table->refused++;
    client_linger(cl, cl->table->linger_ms);
}

/* client_lingered - more to drop, its end, or time is up */
static void client_lingered(CLIENT *cl, short what)
{
    /* A client that keeps sending does not keep the socket. */
    if ((what & EV_READ) && admit_drain(cl->c.in_fd, &cl->drained)
        && cl->drained < ADMIT_LINGER_BYTES && client_ms_left(cl) > 0)
        return;
    close(cl->c.in_fd);
    client_move(cl, CLIENT_DONE);
}

/* client_start - the handler, or the in-process service */
static void client_start(CLIENT *cl)
{
    CLIENT_TABLE *t = cl->table;
    pid_t   pid;
    long    ms;
    int     err;

    cl->pid = 0;
    client_move(cl, CLIENT_STARTED);
    if ((pid = t->hooks->start(cl, t->context)) < 0) {
        err = errno;
        client_move(cl, CLIENT_ADMITTED);
        if ((ms = t->hooks->nostart(cl, err, t->context)) >= 0) {
            client_move(cl, CLIENT_PAUSED);     /* retry then */
            client_deadline(cl, ms);
            client_watch(cl, 0, ms);
        } else {
            client_refuse(cl);
        }
        return;
    }
    t->served++;
    if (cl->tls_env && cl->c.out_fd >= 0) {
        close(cl->c.out_fd);            /* TLS: the handler's fd 1 */
        cl->c.out_fd = -1;
    }
    if (cl->c.in_fd >= 0)               /* the handler has it now */
        close(cl->c.in_fd);
    cl->c.in_fd = -1;
    if ((cl->pid = pid) > 0)
        admit_bind(t->admit, (long) pid, &cl->ticket);  /* freed when reaped */
    else
        admit_release(t->admit, &cl->ticket);
    if (t->hooks->started)
        t->hooks->started(cl, t->context);
    if (pid == 0)
        client_move(cl, CLIENT_DONE);   /* served in-process, and over */
}

/* client_pause_or_start - the in-flow pause, or the handler now */
static void client_pause_or_start(CLIENT *cl)
{
    CLIENT_TABLE *t = cl->table;

    if (t->pause && t->pause(t->pause_context)) {
        client_move(cl, CLIENT_PAUSED);
        client_deadline(cl, t->pause_ms);
        client_watch(cl, 0, t->pause_ms);
        return;
    }
    client_start(cl);
}

/*
 * client_handshake - TLS: the connection goes to the handshake, which is
 * someone else's to close from now on
 */
static void client_handshake(CLIENT *cl)
{
    CLIENT_TABLE *t = cl->table;
    int     fd = cl->c.in_fd;

    client_move(cl, CLIENT_HANDSHAKE);
    /* The relay's channel carries 32 bits; 0 is nobody's. */
    cl->id = t->next_id = t->next_id % 0xffffffffUL + 1;
    cl->c.in_fd = cl->c.out_fd = -1;
    /* The relay has its own timeout: this one is for a lost answer. */
    client_deadline(cl, t->handshake_ms);
    client_watch(cl, 0, t->handshake_ms);
    /* The outcome may come before this returns: cl is then gone. */
    if (t->handshake(cl, fd, t->handshake_context) < 0)
        client_handshake_failed(cl, "cannot reach the TLS relay");
}

static void client_judge(CLIENT *);

/*
 * client_looked_up - its lookup is over (evdns calls from the loop): the
 * name, if any, and on to the rules
 */
static void client_looked_up(void *context, const DNS_RESULT *result)
{
    CLIENT *cl = context;
    CLIENT_TABLE *t = cl->table;
    char    text[DNS_BAD_SHOWN + 40];

    cl->query = 0;
    if (result->bad) {
        if (strcmp(result->bad, DNS_UNREADABLE) == 0)
            snprintf(text, sizeof(text), "PTR name %s", result->bad);
        else
            snprintf(text, sizeof(text), "PTR name \"%s\" refused",
                     result->bad);
        admit_note(t->admit, &cl->c, text);
    }
    if (result->name) {
        cl->host = mystrdup(result->name);
        cl->verified = result->verified;
    }
    client_judge(cl);
    if (t->hooks->changed)
        t->hooks->changed(t->context);
}

/*
 * client_lookup - does it wait for its name? Name rules need one (checked
 * forward) when no address rule but "*" decides for it; TCPREMOTEHOST
 * when remote_host_lookup asks, unless an address rule denies it anyway.
 * 1: it waits (LOOKUP), 0: on without a name.
 */
static int client_lookup(CLIENT *cl)
{
    CLIENT_TABLE *t = cl->table;
    DNS_QUERY *q;
    int     names;
    long    ms = cl->wait_ms > 0 ? cl->wait_ms : t->dns_ms;

    cl->looked = 1;
    if (t->dns == 0 || (names = admit_wants_name(t->admit, &cl->c)) < 0
        || (names == 0 && t->host_lookup == CLIENT_HOST_NO))
        return (0);
    if ((q = dns_lookup(t->dns, (struct sockaddr *) &cl->c.peer,
                        cl->c.peer_len, names
                        || t->host_lookup == CLIENT_HOST_PARANOID,
                        client_looked_up, cl)) == 0)
        return (0);                     /* no IP peer, or evdns said no */
    client_move(cl, CLIENT_LOOKUP);
    cl->query = q;                      /* the callback comes later */
    client_deadline(cl, ms);
    client_watch(cl, 0, ms);
    return (1);
}

/* client_hosts - TCPREMOTEHOST, as remote_host_lookup says; TCPLOCALHOST */
static void client_hosts(CLIENT *cl)
{
    CLIENT_TABLE *t = cl->table;
    const char *remote = 0;

    if (cl->host && (t->host_lookup == CLIENT_HOST_YES
                     || (t->host_lookup == CLIENT_HOST_PARANOID
                         && cl->verified)))
        remote = cl->host;
    client_env_hosts(&cl->c.env, remote, t->local_host);
}

/*
 * client_judge - the client is who it is: its name if one is wanted,
 * the rules, a pause, a start
 */
static void client_judge(CLIENT *cl)
{
    CLIENT_TABLE *t = cl->table;
    long    ms;

    if (!cl->looked && client_lookup(cl))
        return;                         /* client_looked_up() goes on */
    if (t->dns || t->local_host)        /* none: not a call more */
        client_hosts(cl);
    if (!admit_client(t->admit, &cl->c, cl->verified ? cl->host : 0,
                      &cl->ticket)) {
        client_refuse(cl);              /* no token, no count, no handler */
        return;
    }
    if ((ms = cl->resume_ms) >= 0) {    /* counted in the image before */
        cl->resume_ms = -1;
        client_move(cl, CLIENT_PAUSED);
        client_deadline(cl, ms);
        client_watch(cl, 0, ms);
        return;
    }
    client_move(cl, CLIENT_ADMITTED);
    if (t->hooks->admitted)
        t->hooks->admitted(cl, t->context);
    if (t->handshake)
        client_handshake(cl);
    else
        client_pause_or_start(cl);
}

/*
 * client_handshaken - the handshake is done: the handler's fd 0 and 1
 * (plaintext) and its TLS variables (copied), then the pause and start
 */
void    client_handshaken(CLIENT *cl, int in_fd, int out_fd, const char *env,
                                  size_t len)
{
    if (cl->state != CLIENT_HANDSHAKE)
        ss_msg_panic("client_handshaken: state %d", (int) cl->state);
    cl->c.in_fd = in_fd;
    cl->c.out_fd = out_fd;
    cl->tls_env = mymalloc(len + 1);
    memcpy(cl->tls_env, env, len);
    cl->tls_env[len] = 0;
    client_env_tls(&cl->c.env, cl->tls_env, len);
    client_move(cl, CLIENT_ADMITTED);
    client_pause_or_start(cl);
}

/*
 * client_handshake_failed - no TLS session: refused, logged (at most
 * once a second per source), no handler; the connection is closed
 */
void    client_handshake_failed(CLIENT *cl, const char *why)
{
    CLIENT_TABLE *t = cl->table;
    char    text[160];

    snprintf(text, sizeof(text), "TLS handshake: %s", why);
    admit_refused(t->admit, &cl->c, text);
    admit_release(t->admit, &cl->ticket);
    t->refused++;
    client_move(cl, CLIENT_DONE);
}

/*
 * client_resume_tls - the outcome of a handshake that a previous image
 * began: judged again by the rules read now, as a paused client is
 */
void    client_resume_tls(CLIENT *cl, int in_fd, int out_fd,
                                  const char *env, size_t len, const char *why)
{
    client_move(cl, CLIENT_HANDSHAKE);
    if (in_fd < 0) {
        client_handshake_failed(cl, why);
        return;
    }
    if (!admit_client(cl->table->admit, &cl->c, 0, &cl->ticket)) {
        cl->table->refused++;
        close(in_fd);
        close(out_fd);
        client_move(cl, CLIENT_DONE);
        return;
    }
    client_handshaken(cl, in_fd, out_fd, env, len);
}

/* client_find - the HANDSHAKE client of an id */
CLIENT *client_find(CLIENT_TABLE *t, unsigned long id)
{
    CLIENT *cl;
    CLIENT *next;

    CLIENT_FOREACH(cl, next, t) {
        if (cl->state == CLIENT_HANDSHAKE && cl->id == id)
            return (cl);
    }
    return (0);
}

/* client_header - look for the header: wait on, or judge the client */
static void client_header(CLIENT *cl, short what)
{
    CLIENT_TABLE *t = cl->table;
    PROXY_HEADER hdr;
    const char *why;
    int     status;
    long    ms;

    if ((status = upstream_read_step(&cl->rd, what, &hdr, &why)) == 0) {
        /* Each wake-up would restart the event's timer: what is left. */
        if ((ms = client_ms_left(cl)) > 0) {
            client_watch(cl, upstream_read_events(&cl->rd), ms);
            return;
        }
        why = "timeout";
    }
    if (status > 0) {
        upstream_apply(&cl->c, &hdr);
        client_judge(cl);
        return;
    }
    admit_header_refused(t->admit, &cl->c, why);
    client_refuse(cl);
}

/*
 * client_begin_header - read its header within ms: a peer outside the
 * networks is refused before anything is read
 */
static void client_begin_header(CLIENT *cl, long ms)
{
    CLIENT_TABLE *t = cl->table;

    if (!upstream_trusted(t->upstream, &cl->c)) {
        admit_header_refused(t->admit, &cl->c, UPSTREAM_UNTRUSTED);
        client_refuse(cl);
        return;
    }
    client_move(cl, CLIENT_HEADER);
    upstream_read_start(&cl->rd, cl->c.in_fd, t->read_how);
    client_deadline(cl, ms);
    client_header(cl, 0);               /* a proxy sends it at once */
}

/*
 * client_run - the transition function: move the client on as far as it
 * goes now. what: the event that woke it, or 0.
 */
void    client_run(CLIENT *cl, short what)
{
    CLIENT_TABLE *t = cl->table;

    switch (cl->state) {
    case CLIENT_ACCEPTED:
        if (upstream_on(t->upstream))
            client_begin_header(cl, upstream_timeout_ms(t->upstream));
        else
            client_judge(cl);
        break;
    case CLIENT_HEADER:
        client_header(cl, what);
        break;
    case CLIENT_PAUSED:
        client_start(cl);
        break;
    case CLIENT_LOOKUP:                 /* its deadline: no name */
        dns_cancel(cl->query);
        cl->query = 0;
        client_judge(cl);
        break;
    case CLIENT_HANDSHAKE:              /* its deadline */
        client_handshake_failed(cl, "no answer from the TLS relay");
        break;
    case CLIENT_LINGERING:
        client_lingered(cl, what);
        break;
    default:
        ss_msg_panic("client_run: a client in state %d has nothing to do",
                     (int) cl->state);
    }
}

/* client_event - a client's connection or deadline */
static void client_event(evutil_socket_t fd, short what, void *arg)
{
    CLIENT *cl = arg;
    CLIENT_TABLE *t = cl->table;

    (void) fd;
    client_run(cl, what);
    if (t->hooks->changed)
        t->hooks->changed(t->context);
}

/* client_pass - a PASSING client's descriptor came (or -1: none) */
void    client_pass(CLIENT *cl, int fd)
{
    if (fd < 0) {
        client_move(cl, CLIENT_DONE);
        return;
    }
    cl->c.in_fd = cl->c.out_fd = fd;
    client_move(cl, CLIENT_ACCEPTED);
}

/* client_resume - a client handed over: go on where it was */
void    client_resume(CLIENT *cl, CLIENT_STATE state, long ms)
{
    switch (state) {
    case CLIENT_HEADER:
        client_begin_header(cl, ms);
        break;
    case CLIENT_PAUSED:
        /* Judged again by the rules read now; then the pause it had. */
        cl->resume_ms = ms;
        client_judge(cl);
        break;
    case CLIENT_LOOKUP:
        /* Looked up again, within the time it had left. */
        cl->wait_ms = ms > 0 ? ms : 1;
        client_judge(cl);
        break;
    case CLIENT_LINGERING:
        client_linger(cl, ms);
        break;
    default:
        ss_msg_panic("client_resume: state %d", (int) state);
    }
}

/* client_start_now - no more waiting: start its handler now */
void    client_start_now(CLIENT *cl)
{
    if (cl->state != CLIENT_PAUSED)
        ss_msg_panic("client_start_now: state %d", (int) cl->state);
    client_start(cl);
}

/* client_adopt - a handler of a previous image: a STARTED client */
CLIENT *client_adopt(CLIENT_TABLE *t, pid_t pid)
{
    CLIENT *cl = client_new(t, -1, 0);

    client_move(cl, CLIENT_STARTED);
    cl->pid = pid;
    return (cl);
}

/* client_reaped - the handler pid ended: its client is done */
void    client_reaped(CLIENT_TABLE *t, pid_t pid)
{
    CLIENT *cl;
    CLIENT *next;

    CLIENT_FOREACH(cl, next, t) {
        if (cl->state == CLIENT_STARTED && cl->pid == pid) {
            client_move(cl, CLIENT_DONE);
            return;
        }
    }
}

/* client_drop - what it waits for will not come now: close, no reset */
void    client_drop(CLIENT *cl, const char *what)
{
    if (what)
        ss_msg_warn("leaving: closing %s", what);
    client_close_now(cl);
}

/* client_busy - clients being served, or waiting to be */
int     client_busy(const CLIENT_TABLE *t)
{
    return (t->count[CLIENT_ACCEPTED] + t->count[CLIENT_PASSING]
            + t->count[CLIENT_HEADER] + t->count[CLIENT_LOOKUP]
            + t->count[CLIENT_ADMITTED]
            + t->count[CLIENT_HANDSHAKE] + t->count[CLIENT_PAUSED]
            + t->count[CLIENT_STARTED]);
}

/* client_count - clients in one state */
int     client_count(const CLIENT_TABLE *t, CLIENT_STATE state)
{
    return (t->count[state]);
}
