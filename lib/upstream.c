/*
 * upstream.c - the PROXY step: a client behind a load balancer
 *
 * The parser (proxy.c) is pure; this is the I/O around it. The one rule
 * is that the handler gets the byte stream that follows the header,
 * whole: so nothing is read before the header is known complete. One
 * reader serves both modes. On a socket it looks with MSG_PEEK, woken
 * edge-triggered (a level-triggered event would fire on for bytes left
 * unread), and reads the header's length at the end. A pipe, a fifo or
 * a file cannot be looked at: there it reads exactly what the header
 * still lacks, as much of that as FIONREAD says is there, so that a
 * blocking pipe never blocks the loop.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "addr.h"
#include "client_env.h"
#include "msg.h"
#include "mymalloc.h"
#include "param.h"
#include "proxy.h"
#include "upstream.h"

struct UPSTREAM {
    int     on;                         /* upstream_proxy_protocol = haproxy */
    long    timeout;                    /* seconds for the whole header */
    ACCESS *networks;                   /* or null: any peer */
};

/* upstream_open - the three parameters */
UPSTREAM *upstream_open(const char *protocol, long timeout,
                                const char *networks)
{
    UPSTREAM *up = mycalloc(1, sizeof(*up));
    char   *err;

    if (strcmp(protocol, "haproxy") == 0)
        up->on = 1;
    else if (*protocol != 0)
        ss_msg_usage("%s: unknown value \"%s\" (expected haproxy, or "
                     "nothing)", param_where("upstream_proxy_protocol"),
                     protocol);
    up->timeout = timeout;
    if (*networks && (up->networks = access_networks(networks,
                          param_where("upstream_proxy_networks"), &err)) == 0)
        ss_msg_usage("%s", err);
    if (up->networks && !up->on && ss_msg_verbose)
        ss_msg_info("upstream_proxy_networks: no effect without "
                    "upstream_proxy_protocol = haproxy");
    return (up);
}

/* upstream_on - is every client to begin with a header? */
int     upstream_on(const UPSTREAM *up)
{
    return (up->on);
}

/* upstream_timeout_ms - upstream_proxy_timeout, in milliseconds */
long    upstream_timeout_ms(const UPSTREAM *up)
{
    return (up->timeout * 1000);
}

/* upstream_trusted - may this peer send a header? */
int     upstream_trusted(const UPSTREAM *up, const SINGLE_SERVER_CLIENT *client)
{
    if (up->networks == 0
        || (client->peer_len > 0 && client->peer.ss_family == AF_UNIX))
        return (1);
    return (access_match(up->networks, (const struct sockaddr *) &client->peer,
                         client->peer_len, -1) != 0);
}

/* upstream_hangup - did the peer go (reset, or closed) meanwhile? */
static int upstream_hangup(int fd)
{
    struct pollfd pfd = {fd, POLLRDHUP, 0};

    /*
     * libevent reports a reset as readable, not closed, and the bytes
     * already received still show to MSG_PEEK: only the socket can tell.
     */
    return (poll(&pfd, 1, 0) > 0
            && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0);
}

/* upstream_apply - the client is who the header says */
void    upstream_apply(SINGLE_SERVER_CLIENT *client, const PROXY_HEADER *hdr)
{
    char    host[INET6_ADDRSTRLEN];
    char    port[8];

    memcpy(&client->proxy, &client->peer, sizeof(client->proxy));
    client->proxy_len = client->peer_len;
    if (!hdr->local) {
        memcpy(&client->peer, &hdr->src, sizeof(client->peer));
        client->peer_len = hdr->src_len;
        if (addr_numeric((const struct sockaddr *) &hdr->dst, hdr->dst_len,
                         host, sizeof(host), port, sizeof(port)) == 0)
            client_env_tcp(&client->env, host, port,
                           (const struct sockaddr *) &hdr->src, hdr->src_len);
    }
    client_env_proxy(&client->env, (const struct sockaddr *) &client->proxy,
                     client->proxy_len);
}

/*
 * upstream_look - what came so far: 1 the header was read (and nothing
 * more), 0 it is not all there yet, -1 it is bad (*why)
 */
static int upstream_look(int fd, size_t *want, PROXY_HEADER *hdr,
                                 const char **why)
{
    /* Static: one loop, one look at a time, and 64 kB is no stack's. */
    static unsigned char buf[PROXY_V2_MAX];
    ssize_t got;
    int     avail;
    int     len;
    size_t  need;

    for (;;) {
        /* A long header is looked at when it is all there, not per byte. */
        if (*want > PROXY_V1_MAX && ioctl(fd, FIONREAD, &avail) == 0
            && (size_t) avail < *want)
            return (0);
        if ((got = recv(fd, buf, *want, MSG_PEEK | MSG_DONTWAIT)) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return (0);
            *why = "connection error";
            return (-1);
        }
        if (got == 0) {
            *why = "connection closed before the header ended";
            return (-1);
        }
        if ((len = proxy_parse(buf, (size_t) got, hdr, why)) < 0)
            return (-1);
        if (len > 0) {
            /* It was there a moment ago: this cannot wait, nor fall short. */
            if (recv(fd, buf, (size_t) len, MSG_DONTWAIT) != len) {
                *why = "connection error";
                return (-1);
            }
            return (1);
        }
        if ((need = proxy_need(buf, (size_t) got)) <= *want)
            return (0);
        *want = need;                   /* a long v2 header: look further */
    }
}


/*
 * upstream_read_start - begin to read the header of the client on fd.
 * how: UPSTREAM_MAY_PEEK, a socket may be looked at (the loop can watch
 * it edge-triggered), else it is read exactly as a pipe is;
 * UPSTREAM_SOCKET, the caller knows fd is a socket (no fstat() then:
 * resident mode's clients all are).
 */
void    upstream_read_start(UPSTREAM_READ *rd, int fd, int how)
{
    struct stat st;
    int     sock = 1;
    int     fifo = 0;

    if ((how & UPSTREAM_SOCKET) == 0) {
        sock = fifo = 0;
        if (fstat(fd, &st) == 0) {
            sock = S_ISSOCK(st.st_mode);
            fifo = S_ISFIFO(st.st_mode);
        }
    }
    rd->fd = fd;
    rd->peek = sock && (how & UPSTREAM_MAY_PEEK);
    /* epoll refuses regular files and /dev/null: they never wait anyway. */
    rd->waits = sock || fifo || isatty(fd);
    rd->want = PROXY_V1_MAX;
    rd->have = 0;
    rd->buf = 0;
}

/* upstream_read_events - how to wait for more on rd->fd, 0: it cannot */
short   upstream_read_events(const UPSTREAM_READ *rd)
{
    if (rd->peek)
        return (EV_READ | EV_CLOSED | EV_ET | EV_PERSIST);
    return (rd->waits ? EV_READ | EV_PERSIST : 0);
}

/*
 * upstream_lack - how much more to read without reading past the header:
 * the first 15 bytes at once (no v1 header is shorter, and a v2 one has
 * 16 before its length), then a v1 header a byte at a time (where it
 * ends is known when it is read), a v2 one the length its 16 bytes give
 */
static size_t upstream_lack(const unsigned char *buf, size_t have)
{
    if (have < 15)
        return (15 - have);
    if (buf[0] == 'P')
        return (1);
    if (have < 16)
        return (16 - have);
    return (proxy_need(buf, have) - have);
}

/*
 * upstream_take - read into rd->buf at most what the header lacks, of
 * what is there: the bytes taken, 0 none are (wait), -1 an end (*why)
 */
static ssize_t upstream_take(UPSTREAM_READ *rd, int waits, int woken,
                                     const char **why)
{
    size_t  want = upstream_lack(rd->buf, rd->have);
    ssize_t got;
    int     avail;

    /* A blocking pipe must not block the loop: take what is there. */
    if (ioctl(rd->fd, FIONREAD, &avail) == 0) {
        if (avail == 0 && (!waits || woken)) {
            *why = "connection closed before the header ended";
            return (-1);
        }
        if ((size_t) avail < want)
            want = (size_t) avail;
    } else if (waits) {
        *why = "connection error";
        return (-1);
    }
    if (want == 0)
        return (0);
    while ((got = read(rd->fd, rd->buf + rd->have, want)) < 0 && errno == EINTR)
         /* void */ ;
    if (got < 0 && waits && (errno == EAGAIN || errno == EWOULDBLOCK))
        return (0);
    if (got <= 0)
        *why = got == 0 ? "connection closed before the header ended"
            : "connection error";
    return (got > 0 ? got : -1);
}

/* upstream_read_bytes - a pipe, fifo, tty or file: read, never past it */
static int upstream_read_bytes(UPSTREAM_READ *rd, short what,
                                       PROXY_HEADER *hdr, const char **why)
{
    int     waits = rd->waits;
    int     woken = what != 0;
    ssize_t got;
    int     len;

    if (rd->buf == 0)
        rd->buf = mymalloc(PROXY_V2_MAX);
    while ((len = proxy_parse(rd->buf, rd->have, hdr, why)) == 0) {
        if ((got = upstream_take(rd, waits, woken, why)) <= 0)
            return ((int) got);
        rd->have += (size_t) got;
        woken = 0;                      /* what is there now was read */
    }
    return (len > 0 ? 1 : -1);
}

/* upstream_read_step - read what came: 1 header, 0 wait, -1 *why */
int     upstream_read_step(UPSTREAM_READ *rd, short what, PROXY_HEADER *hdr,
                                   const char **why)
{
    int     status;

    if (what & EV_TIMEOUT) {
        *why = "timeout";
        return (-1);
    }
    if (!rd->peek)
        return (upstream_read_bytes(rd, what, hdr, why));
    if ((status = upstream_look(rd->fd, &rd->want, hdr, why)) != 0)
        return (status);
    /* The first try looks only: a hangup shows as an event at once. */
    if (what != 0 && ((what & EV_CLOSED) || upstream_hangup(rd->fd))) {
        *why = "connection closed before the header ended";
        return (-1);
    }
    return (0);
}

/* upstream_read_end - the reader is done: free what it holds */
void    upstream_read_end(UPSTREAM_READ *rd)
{
    if (rd->buf)
        myfree(rd->buf);
    rd->buf = 0;
}

/*
 * upstream_may_peek - can the loop watch a socket as the reader looks at
 * one: edge-triggered (a level-triggered event would fire on for bytes
 * left unread), with early close? Asked once, at start.
 */
int     upstream_may_peek(struct event_base *base)
{
    int     need = EV_FEATURE_ET | EV_FEATURE_EARLY_CLOSE;

    return ((event_base_get_features(base) & need) == need);
}
