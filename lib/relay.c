/*
 * relay.c - one TLS client's handshake and relay (relay.h)
 *
 * SSL_read() and SSL_write() on a non-blocking socket, driven by plain
 * events: each way holds at most one buffer (one TLS record, 16 kB), and
 * a way whose buffer is full reads nothing more, so that a slow reader
 * slows its writer rather than memory growing. Every wake-up runs one
 * pump that does what can be done now on both ways and then says what
 * it waits for; OpenSSL may want to write while reading (a key update)
 * or the reverse, so the socket's events are the union of what each
 * operation last asked for. Buffers exist only while bytes are in
 * flight: an idle session holds none.
 *
 * OpenSSL 3 reports a peer that closes without close_notify as an
 * error ("unexpected eof"); SSL_OP_IGNORE_UNEXPECTED_EOF (tls.c) makes it
 * an end of file, which is what a plaintext handler must read.
 */

#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "admit.h"
#include "mymalloc.h"
#include "relay.h"
#include "timer.h"
#include "single_server.h"

#define RELAY_BUF	16384           /* one record */
#define RELAY_DRAIN_SEC	60              /* for a client that stopped reading */
#define RELAY_DROP_MAX	(1 << 20)       /* or that keeps sending */
#define RELAY_ROUNDS	16              /* per wake-up, for the others' sake */

typedef struct RELAY_WAY {
    char   *buf;                        /* null while empty */
    size_t  off;
    size_t  len;
    int     eof;                        /* nothing more will come */
    int     shut;                       /* and the end was passed on */
    int     want;                       /* what SSL asked for, or 0 */
} RELAY_WAY;

typedef struct RELAY {
    TLS_SERVER *tls;
    SSL    *ssl;
    int     tcp;                        /* the client */
    int     in;                         /* we write the handler's fd 0 */
    int     out;                        /* we read the handler's fd 1 */
    int     in_gone;                    /* the handler closed its fd 0 */
    int     handshaking;
    int     shut_want;                  /* SSL_shutdown()'s wish */
    int     draining;                   /* the handler is gone: a deadline */
    size_t  dropped;                    /* what came after: not read */
    RELAY_WAY up;                       /* client to handler */
    RELAY_WAY down;                     /* handler to client */
    struct event *tcp_r;
    struct event *tcp_w;
    struct event *in_w;
    struct event *in_r;
    struct event *out_r;
    struct event *timer;
    RELAY_FN fn;
    void   *context;
} RELAY;

static int relay_sessions;

static void relay_event(evutil_socket_t, short, void *);

/* relay_free - the session is over: everything closed and freed */
static void relay_free(RELAY *r)
{
    event_free(r->tcp_r);
    event_free(r->tcp_w);
    event_free(r->timer);
    if (r->in_w) {
        event_free(r->in_w);
        event_free(r->in_r);
        event_free(r->out_r);
        (void) close(r->in);
        (void) close(r->out);
    }
    SSL_free(r->ssl);
    (void) close(r->tcp);
    myfree(r->up.buf);
    myfree(r->down.buf);
    myfree(r);
    relay_sessions--;
}

/* relay_watch - an event added when wanted, removed when not */
static void relay_watch(struct event *ev, int wanted)
{
    int     pending = event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, 0);

    if (wanted && !pending) {
        if (event_add(ev, 0) < 0)
            ss_msg_fatal("TLS relay: cannot watch a session");
    } else if (!wanted && pending)
        (void) event_del(ev);
}

/* relay_arm - wait for what the session can use next */
static void relay_arm(RELAY *r)
{
    int     tcp = r->up.want | r->down.want | r->shut_want;

    relay_watch(r->tcp_r, tcp & EV_READ);
    relay_watch(r->tcp_w, tcp & EV_WRITE);
    relay_watch(r->in_w, r->up.buf && !r->in_gone);
    relay_watch(r->in_r, !r->in_gone);
    relay_watch(r->out_r, !r->down.eof && r->down.buf == 0);
}

/* relay_ssl_want - what a WANT_READ or WANT_WRITE asks; 0: an error */
static int relay_ssl_want(SSL *ssl, int ret)
{
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return (EV_READ);
    case SSL_ERROR_WANT_WRITE:
        return (EV_WRITE);
    default:
        return (0);
    }
}

/* relay_drained - a way's buffer went out: free it */
static void relay_drained(RELAY_WAY *w)
{
    if (w->buf && w->off == w->len) {
        myfree(w->buf);
        w->buf = 0;
        w->off = w->len = 0;
    }
}

/*
 * relay_up - the client to the handler. Returns progress (1), none (0),
 * or -1: the session is broken (a reset, a bad record).
 */
static int relay_up(RELAY *r)
{
    RELAY_WAY *w = &r->up;
    int     progress = 0;
    ssize_t n;
    int     ret;

    w->want = 0;
    if (!w->eof && w->buf == 0) {
        w->buf = mymalloc(RELAY_BUF);
        if ((ret = SSL_read(r->ssl, w->buf, RELAY_BUF)) > 0) {
            w->len = (size_t) ret;
            progress = 1;
        } else if ((w->want = relay_ssl_want(r->ssl, ret)) == 0) {
            if (SSL_get_error(r->ssl, ret) != SSL_ERROR_ZERO_RETURN)
                return (-1);
            w->eof = progress = 1;      /* close_notify, or a plain close */
        }
        relay_drained(w);
    }
    while (w->buf && w->off < w->len && !r->in_gone) {
        n = send(r->in, w->buf + w->off, w->len - w->off, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR) {
            if (errno != EAGAIN)
                r->in_gone = 1;
            break;
        }
        if (n > 0) {
            w->off += (size_t) n;
            progress = 1;
        }
    }
    if (w->buf && r->in_gone) {         /* nobody reads: dropped */
        r->dropped += w->len - w->off;
        w->off = w->len;
    }
    relay_drained(w);
    if (w->eof && w->buf == 0 && !w->shut) {
        (void) shutdown(r->in, SHUT_WR);        /* the handler's end of file */
        w->shut = progress = 1;
    }
    return (progress);
}

/* relay_down_end - the handler's output ended: close_notify, then FIN */
static int relay_down_end(RELAY *r)
{
    int     ret;

    r->shut_want = 0;
    if ((ret = SSL_shutdown(r->ssl)) < 0
        && (r->shut_want = relay_ssl_want(r->ssl, ret)) != 0)
        return (0);
    ERR_clear_error();
    (void) shutdown(r->tcp, SHUT_WR);
    r->down.shut = 1;
    return (1);
}

/* relay_down - the handler to the client; as relay_up() */
static int relay_down(RELAY *r)
{
    RELAY_WAY *w = &r->down;
    int     progress = 0;
    ssize_t n;
    int     ret;

    if (!w->eof && w->buf == 0) {
        w->buf = mymalloc(RELAY_BUF);
        if ((n = recv(r->out, w->buf, RELAY_BUF, 0)) > 0) {
            w->len = (size_t) n;
            progress = 1;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            w->eof = progress = 1;      /* its output ended */
        }
        relay_drained(w);
    }
    w->want = 0;
    while (w->buf && w->off < w->len) {
        if ((ret = SSL_write(r->ssl, w->buf + w->off,
                             (int) (w->len - w->off))) <= 0) {
            if ((w->want = relay_ssl_want(r->ssl, ret)) == 0)
                return (-1);            /* the client is gone */
            break;
        }
        w->off += (size_t) ret;
        progress = 1;
    }
    relay_drained(w);
    if (w->eof && w->buf == 0 && !w->shut)
        progress |= relay_down_end(r);
    return (progress);
}

/* relay_pump - both ways, as far as they go now */
static void relay_pump(RELAY *r)
{
    int     up;
    int     down;
    int     round = 0;

    do {
        if ((up = relay_up(r)) < 0 || (down = relay_down(r)) < 0) {
            ERR_clear_error();
            relay_free(r);              /* both ways end at once */
            return;
        }
        /*
         * Both ends passed on. With the handler gone, what the client
         * still sends is read and dropped until its end (a close with
         * unread input would reset, and the client could lose the last
         * of what the handler wrote), a megabyte, or the deadline.
         */
        if (r->down.shut && (r->up.shut || r->dropped > RELAY_DROP_MAX)) {
            relay_free(r);
            return;
        }
        /* A busy session yields the loop to the others, and comes back. */
        if (++round == RELAY_ROUNDS && (up || down)) {
            event_active(r->tcp_r, EV_READ, 1);
            return;
        }
    } while (up || down);
    /*
     * The handler is gone (its fd 0 closed, its output ended): what it
     * wrote waits for a client that does not read, or the client's end
     * for one that does not close: not for ever.
     */
    if (r->in_gone && r->down.eof && !r->draining) {
        struct timeval tv = {RELAY_DRAIN_SEC, 0};

        r->draining = 1;
        timer_arm(r->timer, &tv);
    }
    relay_arm(r);
}

/* relay_in_event - the handler's fd 0 side: did it close it? */
static void relay_in_event(evutil_socket_t fd, short what, void *arg)
{
    RELAY  *r = arg;
    char    junk[512];
    ssize_t n = -1;
    int     i;

    (void) what;
    /* A handler that writes on its fd 0: dropped, a little at a time. */
    for (i = 0; i < 16 && (n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0; i++)
         /* void */ ;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        r->in_gone = 1;
    relay_pump(r);
}

/* relay_pair - a socket pair, our end non-blocking: 0, or -1 */
static int relay_pair(int *ours, int *theirs)
{
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return (-1);
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
        (void) close(sv[0]);
        (void) close(sv[1]);
        return (-1);
    }
    *ours = sv[0];
    *theirs = sv[1];
    return (0);
}

/*
 * relay_fail - no handshake: say why, close. What the client sent and
 * nobody read is dropped first, so that it gets our end of file (and
 * any alert before it) rather than a reset.
 */
static void relay_fail(RELAY *r, const char *why)
{
    size_t  dropped = 0;

    r->fn(r->context, 0, why, 0, 0, -1, -1);
    if (shutdown(r->tcp, SHUT_WR) == 0)
        (void) admit_drain(r->tcp, &dropped);
    relay_free(r);
}

/* relay_established - the handshake is done: the handler's descriptors */
static void relay_established(RELAY *r, struct event_base *base)
{
    char    env[TLS_ENV_MAX];
    size_t  len = tls_env(r->ssl, r->tls, env, sizeof(env));
    int     hin;
    int     hout;

    evtimer_del(r->timer);
    r->handshaking = 0;
    if (relay_pair(&r->in, &hin) < 0) {
        relay_fail(r, strerror(errno));
        return;
    }
    if (relay_pair(&r->out, &hout) < 0) {
        (void) close(r->in);
        (void) close(hin);
        r->in = -1;
        relay_fail(r, strerror(errno));
        return;
    }
    r->in_w = event_new(base, r->in, EV_WRITE, relay_event, r);
    r->in_r = event_new(base, r->in, EV_READ, relay_in_event, r);
    r->out_r = event_new(base, r->out, EV_READ, relay_event, r);
    if (!r->in_w || !r->in_r || !r->out_r)
        ss_msg_fatal("event_new: out of memory");
    r->fn(r->context, 1, 0, env, len, hin, hout);
    relay_pump(r);
}

/* relay_event - the client's socket, or the handshake's deadline */
static void relay_event(evutil_socket_t fd, short what, void *arg)
{
    RELAY  *r = arg;
    char    why[120];
    int     ret;

    (void) fd;
    if (!r->handshaking && (what & EV_TIMEOUT)) {
        relay_free(r);                  /* the drain's deadline */
        return;
    }
    if (!r->handshaking) {
        relay_pump(r);
        return;
    }
    if (what & EV_TIMEOUT) {
        relay_fail(r, "timeout");
        return;
    }
    if ((ret = SSL_accept(r->ssl)) == 1) {
        relay_established(r, event_get_base(r->tcp_r));
        return;
    }
    if ((r->up.want = relay_ssl_want(r->ssl, ret)) == 0) {
        relay_fail(r, tls_reason(r->ssl, ret, why, sizeof(why)));
        return;
    }
    relay_watch(r->tcp_r, r->up.want & EV_READ);
    relay_watch(r->tcp_w, r->up.want & EV_WRITE);
}

/* relay_start - a client's handshake, then its relay */
void    relay_start(struct event_base *base, TLS_SERVER *tls, int fd,
                            long timeout_ms, RELAY_FN fn, void *context)
{
    RELAY  *r = mycalloc(1, sizeof(*r));
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

    relay_sessions++;
    r->tls = tls;
    r->tcp = fd;
    r->in = r->out = -1;
    r->handshaking = 1;
    r->fn = fn;
    r->context = context;
    if ((r->ssl = tls_ssl_new(tls)) == 0 || !SSL_set_fd(r->ssl, fd))
        ss_msg_fatal("SSL_new: out of memory");
    (void) fcntl(fd, F_SETFL, O_NONBLOCK);
    SSL_set_accept_state(r->ssl);
    r->tcp_r = event_new(base, fd, EV_READ, relay_event, r);
    r->tcp_w = event_new(base, fd, EV_WRITE, relay_event, r);
    r->timer = evtimer_new(base, relay_event, r);
    if (!r->tcp_r || !r->tcp_w || !r->timer)
        ss_msg_fatal("event_new: out of memory");
    timer_arm(r->timer, &tv);
    relay_event(fd, 0, r);              /* the ClientHello may be here */
}

/* relay_count - sessions alive */
int     relay_count(void)
{
    return (relay_sessions);
}
