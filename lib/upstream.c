/*
 * upstream.c - the PROXY step: a client behind a load balancer
 *
 * The parser (proxy.c) is pure; this is the I/O around it. The one rule
 * is that the handler gets the byte stream that follows the header,
 * whole: so nothing is read before the header is known complete. In
 * resident mode the reader looks with MSG_PEEK, woken edge-triggered
 * (a level-triggered event would fire on for bytes left unread), and
 * reads the header's length at the end; in stream mode it reads exactly
 * what the header still lacks, which works on pipes and files too.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "addr.h"
#include "admit.h"
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

/* upstream_trusted - may this peer send a header? */
int     upstream_trusted(const UPSTREAM *up,
                                    const SINGLE_SERVER_CLIENT *client)
{
    if (up->networks == 0
        || (client->peer_len > 0 && client->peer.ss_family == AF_UNIX))
        return (1);
    return (access_match(up->networks, (const struct sockaddr *) &client->peer,
                         client->peer_len, -1) != 0);
}

/*
 * upstream_deadline - ms from now on the monotonic clock: a wall clock
 * set back would let a slow client keep its slot that much longer
 */
static void upstream_deadline(struct timespec *deadline, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (ms % 1000) * 1000000;
    if (deadline->tv_nsec >= 1000000000) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000;
    }
}

/* upstream_ms_left - milliseconds to a deadline on the monotonic clock */
static int upstream_ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long    ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (deadline->tv_sec - now.tv_sec) * 1000
        + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return (ms < 0 ? 0 : (int) ms);
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
void    upstream_apply(SINGLE_SERVER_CLIENT *client,
                                   const PROXY_HEADER *hdr)
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

/* upstream_timeout_ms - upstream_proxy_timeout */
long    upstream_timeout_ms(const UPSTREAM *up)
{
    return (up->timeout * 1000);
}

/* upstream_read_start - a header to read from fd */
void    upstream_read_start(UPSTREAM_READ *rd, int fd)
{
    memset(rd, 0, sizeof(*rd));
    rd->fd = fd;
    rd->peek = 1;
    rd->want = PROXY_V1_MAX;
}

/* upstream_read_events - how to watch for more of it */
short   upstream_read_events(const UPSTREAM_READ *rd)
{
    (void) rd;
    return (EV_READ | EV_CLOSED | EV_ET | EV_PERSIST);
}

/*
 * upstream_read_step - more came (what), or the first look (0): 1 the
 * header was taken, 0 wait for more, -1 bad (*why)
 */
int     upstream_read_step(UPSTREAM_READ *rd, short what, PROXY_HEADER *hdr,
                                   const char **why)
{
    int     status;

    if (what & EV_TIMEOUT) {
        *why = "timeout";
        return (-1);
    }
    if ((status = upstream_look(rd->fd, &rd->want, hdr, why)) != 0)
        return (status);
    if (what != 0 && ((what & EV_CLOSED) || upstream_hangup(rd->fd))) {
        *why = "connection closed before the header ended";
        return (-1);
    }
    return (0);
}

/* upstream_read_end - done with it */
void    upstream_read_end(UPSTREAM_READ *rd)
{
    myfree(rd->buf);
    rd->buf = 0;
}

/*
 * upstream_step - how much more to read without reading past the header:
 * a v1 header a byte at a time (where it ends is known when it is read),
 * a v2 one its 16 bytes, then the length they give
 */
static size_t upstream_step(const unsigned char *buf, size_t have)
{
    if (have == 0 || buf[0] == 'P')
        return (1);
    if (have < 16)
        return (16 - have);
    return (proxy_need(buf, have) - have);
}

/* upstream_read - stream mode: the header on client->in_fd, exactly */
int     upstream_read(UPSTREAM *up, SINGLE_SERVER_CLIENT *client,
                              const char **why)
{
    unsigned char *buf;
    struct pollfd pfd = {client->in_fd, POLLIN, 0};
    struct timespec deadline;
    PROXY_HEADER hdr;
    size_t  have = 0;
    ssize_t got = 0;
    int     len;
    int     ready;
    int     ms;

    if (!upstream_trusted(up, client)) {
        *why = UPSTREAM_UNTRUSTED;
        return (0);
    }
    buf = mymalloc(PROXY_V2_MAX);
    upstream_deadline(&deadline, up->timeout * 1000);
    while ((len = proxy_parse(buf, have, &hdr, why)) == 0) {
        if ((ms = upstream_ms_left(&deadline)) == 0
            || (ready = poll(&pfd, 1, ms)) == 0) {
            *why = "timeout";
            break;
        }
        if (ready > 0 && (got = read(client->in_fd, buf + have,
                                     upstream_step(buf, have))) > 0) {
            have += (size_t) got;
            continue;
        }
        if (ready > 0 && got == 0) {
            *why = "connection closed before the header ended";
            break;
        }
        if (errno != EINTR && errno != EAGAIN) {
            *why = "connection error";
            break;
        }
    }
    myfree(buf);
    if (len <= 0)
        return (0);
    upstream_apply(client, &hdr);
    return (1);
}
