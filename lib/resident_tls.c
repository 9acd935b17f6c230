/*
 * resident_tls.c - TLS in resident mode: the relay processes, and what
 * the client table hears from them (resident.h)
 *
 * Each image forks one relay (relayd.h) once its privileges are dropped,
 * and gives it every admitted client. A re-execution hands the relays
 * over (their pids and channels, in SINGLE_SERVER_RELAYS): the new image
 * retires them (they leave when their last session ends) and still takes
 * the outcome of the handshakes they were doing. Such a client is new to
 * the new image, so the ticket sent with it carries who it is: its
 * listener, its addresses and its variables.
 */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "child.h"
#include "client_env.h"
#include "conv.h"
#include "msg.h"
#include "mymalloc.h"
#include "relayd.h"
#include "resident.h"

#define RESIDENT_TLS_ENV	"SINGLE_SERVER_RELAYS"
#define RESIDENT_TICKET_V	1
#define RESIDENT_TLS_GRACE_MS	5000    /* beyond the relay's own timeout */

static void resident_tls_result(void *, RELAYD *, unsigned long, int,
                                        const char *, const void *, size_t,
                                        const char *, size_t, int, int);

/*
 * resident_tls_ticket - who the client is, for an image that never saw
 * it: version, listener, address lengths, addresses, its variables
 */
static size_t resident_tls_ticket(const RESIDENT *rs, const CLIENT *cl,
                                          unsigned char *buf, size_t len)
{
    const SINGLE_SERVER_CLIENT *c = &cl->c;
    size_t  used = 5;
    size_t  vlen;
    int     lp = c->listener ? (int) (c->listener - rs->sk->listeners.items) : 0;
    int     i;

    buf[0] = RESIDENT_TICKET_V;
    buf[1] = (unsigned char) (lp >> 8);
    buf[2] = (unsigned char) lp;
    buf[3] = (unsigned char) c->peer_len;
    buf[4] = (unsigned char) c->proxy_len;
    memcpy(buf + used, &c->peer, c->peer_len);
    used += c->peer_len;
    memcpy(buf + used, &c->proxy, c->proxy_len);
    used += c->proxy_len;
    for (i = 0; i < c->env.count; i++) {
        vlen = strlen(c->env.vars[i]) + 1;
        if (used + vlen > len)
            break;
        memcpy(buf + used, c->env.vars[i], vlen);
        used += vlen;
    }
    return (used);
}

/* resident_tls_handshake - the table's handshake: the client to the relay */
static int resident_tls_handshake(CLIENT *cl, int fd, void *context)
{
    RESIDENT *rs = context;
    unsigned char ticket[RELAYD_TICKET_MAX];
    size_t  len = resident_tls_ticket(rs, cl, ticket, sizeof(ticket));

    if (rs->relay == 0) {               /* between a death and a restart */
        (void) close(fd);
        return (-1);
    }
    return (relayd_send(rs->relay, cl->id, fd, ticket, len));
}

/*
 * resident_tls_unticket - a client of a previous image, from its ticket:
 * 0, or -1 when the ticket makes no sense here (another program's, or a
 * listener this image does not have)
 */
static int resident_tls_unticket(RESIDENT *rs, CLIENT **clp,
                                         const unsigned char *t, size_t len)
{
    SKELETON *sk = rs->sk;
    CLIENT *cl;
    size_t  used = 5;
    size_t  lp;
    const unsigned char *end = t + len;
    const unsigned char *cp;

    if (len < 5 || t[0] != RESIDENT_TICKET_V
        || (lp = (size_t) t[1] << 8 | t[2]) >= sk->listeners.count
        || t[3] > sizeof(struct sockaddr_storage)
        || t[4] > sizeof(struct sockaddr_storage)
        || used + t[3] + t[4] > len)
        return (-1);
    cl = client_new(rs->clients, -1, &sk->listeners.items[lp]);
    memcpy(&cl->c.peer, t + used, t[3]);
    cl->c.peer_len = t[3];
    used += t[3];
    memcpy(&cl->c.proxy, t + used, t[4]);
    cl->c.proxy_len = t[4];
    used += t[4];
    /* The variables, each copied as the accepting image made it. */
    client_env_clear(&cl->c.env);
    for (cp = t + used; cp < end && cl->c.env.count < SS_CLIENT_ENV_MAX;) {
        const unsigned char *nul = memchr(cp, 0, (size_t) (end - cp));

        if (nul == 0 || (size_t) (nul - cp) >= SS_CLIENT_ENV_LEN)
            break;
        memcpy(cl->c.env.buf[cl->c.env.count], cp, (size_t) (nul - cp) + 1);
        cl->c.env.vars[cl->c.env.count] = cl->c.env.buf[cl->c.env.count];
        cl->c.env.vars[++cl->c.env.count] = 0;
        cp = nul + 1;
    }
    *clp = cl;
    return (0);
}

/* resident_tls_fail_all - the relay died: its handshakes are lost */
static void resident_tls_fail_all(RESIDENT *rs)
{
    CLIENT *cl;
    CLIENT *next;

    CLIENT_FOREACH(cl, next, rs->clients) {
        if (cl->state == CLIENT_HANDSHAKE)
            client_handshake_failed(cl, "TLS relay gone");
    }
}

/* resident_tls_forget - a relay's pid was reaped */
static void resident_tls_forget(RESIDENT *rs, RELAYD *rd)
{
    RELAYD **rpp;

    for (rpp = &rs->relays; *rpp; rpp = &(*rpp)->next)
        if (*rpp == rd) {
            *rpp = rd->next;
            break;
        }
    if (rs->relay == rd)
        rs->relay = 0;
    relayd_free(rd);
}

static void resident_tls_fork(RESIDENT *);

/* resident_tls_restart - a second after a relay died: another */
static void resident_tls_restart(evutil_socket_t fd, short what, void *arg)
{
    RESIDENT *rs = arg;

    (void) fd;
    (void) what;
    if (rs->relay == 0 && !rs->leaving && !rs->stopping)
        resident_tls_fork(rs);
}

/*
 * resident_tls_fork_later - not at once: a relay that dies as it starts
 * would make a loop of forks. Meanwhile TLS clients are refused.
 */
static void resident_tls_fork_later(RESIDENT *rs)
{
    struct timeval tv = {1, 0};

    if (event_base_once(rs->sk->base, -1, EV_TIMEOUT, resident_tls_restart,
                        rs, &tv) < 0)
        ss_msg_fatal("event_base_once: out of memory");
}

/* resident_tls_reaped - a relay ended */
static void resident_tls_reaped(pid_t pid, int status, void *context)
{
    RESIDENT *rs = context;
    RELAYD *rd;
    char    text[64];
    int     current;

    for (rd = rs->relays; rd && rd->pid != pid; rd = rd->next)
         /* void */ ;
    if (rd == 0)
        return;
    current = rd == rs->relay;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || current) {
        child_status_text(status, text, sizeof(text));
        ss_msg_warn("TLS relay pid %ld %s%s", (long) pid, text,
                    current ? ": its sessions are lost" : "");
    }
    if (current)
        resident_tls_fail_all(rs);
    resident_tls_forget(rs, rd);
    if (current && rs->sk->tls && !rs->leaving && !rs->stopping)
        resident_tls_fork_later(rs);
    else if (current && !rs->leaving && !rs->stopping)
        ss_msg_error("no TLS relay, and no keys to start another with (they "
                     "could not be read after a re-execution): TLS clients "
                     "are refused until a restart");
    resident_update(rs);
}

/* resident_tls_result - a handshake's outcome, from any relay */
static void resident_tls_result(void *context, RELAYD *rd, unsigned long id,
                                        int ok, const char *why,
                                        const void *ticket, size_t tlen,
                                        const char *env, size_t elen,
                                        int in_fd, int out_fd)
{
    RESIDENT *rs = context;
    CLIENT *cl;

    if (ok < 0) {                       /* the channel ended */
        if (rd == rs->relay)
            resident_tls_fail_all(rs);
        return;
    }
    /* Ours, or one a previous image sent this relay: only the ticket says. */
    if (rd == rs->relay && id > rd->old_ids)
        cl = client_find(rs->clients, id);
    else if (resident_tls_unticket(rs, &cl, ticket, tlen) < 0)
        cl = 0;
    else {
        client_resume_tls(cl, in_fd, out_fd, env, elen, why);
        resident_update(rs);
        return;
    }
    if (cl == 0) {                      /* dropped meanwhile */
        if (in_fd >= 0) {
            (void) close(in_fd);
            (void) close(out_fd);
        }
        return;
    }
    if (ok)
        client_handshaken(cl, in_fd, out_fd, env, elen);
    else
        client_handshake_failed(cl, why);
    resident_update(rs);
}

/* resident_tls_fork - this image's relay */
static void resident_tls_fork(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;
    int     keep[1] = {ss_msg_log_fd()};
    RELAYD *rd;

    rd = relayd_start(sk->base, sk->tls, sk->tls_timeout_ms, sk->devnull,
                      sk->opts.log_stderr, keep, keep[0] >= 0,
                      resident_tls_result, rs);
    rd->next = rs->relays;
    rs->relays = rs->relay = rd;
    child_keep(rd->pid, resident_tls_reaped, rs);
    if (ss_msg_verbose)
        ss_msg_info("TLS relay pid %ld started", (long) rd->pid);
}

/*
 * resident_tls_adopt - the relays of previous images: "PID:FD ..." and
 * "PID:FD:current:ID" for the last image's own. Each is retired, but for
 * the current one when this image has no keys of its own (tls_kept): it
 * stays ours, and our ids follow that image's (up to ID are its clients',
 * whose outcomes come with their tickets). A malformed list is fatal, as
 * a bad handover is.
 */
static void resident_tls_adopt(RESIDENT *rs, const char *list)
{
    char   *copy = mystrdup(list);
    char   *save = 0;
    char   *item;
    char   *field[4];
    long    pid;
    long    fd;
    long    ids = 0;
    RELAYD *rd;
    int     n;

    for (item = strtok_r(copy, " ", &save); item; item = strtok_r(0, " ", &save)) {
        field[0] = item;
        for (n = 1; n < 4 && (field[n] = strchr(field[n - 1], ':')) != 0; n++)
            *field[n]++ = 0;
        if ((n != 2 && n != 4) || conv_long(field[0], 1, INT_MAX, &pid) != CONV_OK
            || conv_long(field[1], 3, INT_MAX, &fd) != CONV_OK
            || (n == 4 && (strcmp(field[2], "current") != 0
                  || conv_long(field[3], 0, LONG_MAX, &ids) != CONV_OK)))
            ss_msg_fatal("handover: %s: bad item \"%s\"", RESIDENT_TLS_ENV,
                         field[0]);
        rd = relayd_adopt(rs->sk->base, (pid_t) pid, (int) fd,
                          resident_tls_result, rs);
        if (n == 4 && rs->sk->tls_kept) {
            rs->relay = rd;
            rd->old_ids = (unsigned long) ids;
            rs->clients->next_id = (unsigned long) ids;
        } else {
            relayd_retire(rd);
        }
        rd->next = rs->relays;
        rs->relays = rd;
        child_keep(rd->pid, resident_tls_reaped, rs);
    }
    myfree(copy);
}

/* resident_tls_relay_kept - did the previous image hand over its relay? */
int     resident_tls_relay_kept(void)
{
    const char *list = getenv(RESIDENT_TLS_ENV);

    return (list && strstr(list, ":current") != 0);
}

/* resident_tls_start - TLS on: the relays, and the table's handshake */
void    resident_tls_start(RESIDENT *rs)
{
    SKELETON *sk = rs->sk;
    const char *list = getenv(RESIDENT_TLS_ENV);

    if (list) {
        if (sk->re.handed_over)
            resident_tls_adopt(rs, list);
        unsetenv(RESIDENT_TLS_ENV);     /* ours, not the handlers' */
    }
    if (sk->tls == 0 && rs->relay == 0)
        return;
    admit_no_messages();
    if (sk->tls)
        resident_tls_fork(rs);
    rs->clients->handshake = resident_tls_handshake;
    rs->clients->handshake_context = rs;
    rs->clients->handshake_ms = sk->tls_timeout_ms + RESIDENT_TLS_GRACE_MS;
}

/*
 * resident_tls_export - before the exec: every relay's pid and channel,
 * open across it, in the environment the new image reads
 */
void    resident_tls_export(RESIDENT *rs)
{
    RELAYD *rd;
    char   *list = mystrdup("");
    char   *tmp;

    for (rd = rs->relays; rd; rd = rd->next) {
        if (fcntl(rd->fd, F_SETFD, 0) < 0)
            ss_msg_fatal("re-execute: TLS relay channel: %m");
        if (rd == rs->relay)
            tmp = myasprintf("%s%s%ld:%d:current:%lu", list, *list ? " " : "",
                             (long) rd->pid, rd->fd, rs->clients->next_id);
        else
            tmp = myasprintf("%s%s%ld:%d", list, *list ? " " : "",
                             (long) rd->pid, rd->fd);
        myfree(list);
        list = tmp;
    }
    if (*list && setenv(RESIDENT_TLS_ENV, list, 1) < 0)
        ss_msg_fatal("re-execute: setenv: %m");
    myfree(list);
}
