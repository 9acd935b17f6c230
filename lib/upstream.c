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

typedef struct UPSTREAM_WAIT {
    UPSTREAM *up;
    SINGLE_SERVER_CLIENT client;
    struct event *ev;
    struct timespec deadline;           /* CLOCK_MONOTONIC */
    size_t  want;                       /* bytes to look at: proxy_need() */
    struct UPSTREAM_WAIT *prev;
    struct UPSTREAM_WAIT *next;
} UPSTREAM_WAIT;

struct UPSTREAM {
    int     on;                         /* upstream_proxy_protocol = haproxy */
    long    timeout;                    /* seconds for the whole header */
    ACCESS *networks;                   /* or null: any peer */
    struct event_base *base;
    UPSTREAM_DONE done;
    void   *context;
    UPSTREAM_WAIT *waiting;
    int     count;
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
static int upstream_trusted(const UPSTREAM *up,
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
static void upstream_apply(SINGLE_SERVER_CLIENT *client,
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

/* upstream_unlink - a client is no longer waiting */
static void upstream_unlink(UPSTREAM_WAIT *wp)
{
    UPSTREAM *up = wp->up;

    if (wp->prev)
        wp->prev->next = wp->next;
    else
        up->waiting = wp->next;
    if (wp->next)
        wp->next->prev = wp->prev;
    up->count--;
    event_free(wp->ev);
}

/* upstream_rearm - wait for more, for the time that is left */
static int upstream_rearm(UPSTREAM_WAIT *wp)
{
    int     ms = upstream_ms_left(&wp->deadline);
    struct timeval left = {ms / 1000, (ms % 1000) * 1000};

    /* Each wake-up would restart the event's timer: give it what is left. */
    if (ms > 0 && event_add(wp->ev, &left) < 0)
        ss_msg_fatal("cannot watch a client for its PROXY header");
    return (ms > 0);
}

/* upstream_event - more came, the peer went, or time is up */
static void upstream_event(evutil_socket_t fd, short what, void *arg)
{
    UPSTREAM_WAIT *wp = arg;
    UPSTREAM *up = wp->up;
    PROXY_HEADER hdr;
    const char *why = "timeout";
    int     status = -1;

    if ((what & EV_TIMEOUT) == 0
        && (status = upstream_look((int) fd, &wp->want, &hdr, &why)) == 0) {
        if ((what & EV_CLOSED) || upstream_hangup((int) fd)) {
            status = -1;
            why = "connection closed before the header ended";
        } else if (upstream_rearm(wp)) {
            return;                     /* the edge brought no whole header */
        } else {
            status = -1;
        }
    }
    upstream_unlink(wp);
    if (status > 0)
        upstream_apply(&wp->client, &hdr);
    up->done(&wp->client, status > 0 ? 0 : why, up->context);
    myfree(wp);
}

/* upstream_start - the event loop, and who hears of each header */
void    upstream_start(UPSTREAM *up, struct event_base *base,
                               UPSTREAM_DONE done, void *context)
{
    int     need = EV_FEATURE_ET | EV_FEATURE_EARLY_CLOSE;

    if (up->on && (event_base_get_features(base) & need) != need)
        ss_msg_fatal("the event loop's %s backend cannot watch for a PROXY "
                     "header (it needs edge triggering and early close)",
                     event_base_get_method(base));
    up->base = base;
    up->done = done;
    up->context = context;
}

/*
 * upstream_receive - a client's header, within ms (-1: the configured
 * timeout). A peer outside the networks is refused before anything is
 * read, handed over by a previous image or not.
 */
void    upstream_receive(UPSTREAM *up, const SINGLE_SERVER_CLIENT *client,
                                 long ms)
{
    UPSTREAM_WAIT *wp;
    SINGLE_SERVER_CLIENT copy = *client;
    PROXY_HEADER hdr;
    const char *why = UPSTREAM_UNTRUSTED;
    size_t  want = PROXY_V1_MAX;
    struct timeval limit;
    int     status = -1;

    client_env_copy(&copy.env, &client->env);
    if (ms < 0)
        ms = up->timeout * 1000;
    /* A proxy writes the header at once: it is often here already. */
    if (!upstream_trusted(up, client)
        || (status = upstream_look(client->in_fd, &want, &hdr, &why)) != 0) {
        if (status > 0)
            upstream_apply(&copy, &hdr);
        up->done(&copy, status > 0 ? 0 : why, up->context);
        return;
    }
    wp = mymalloc(sizeof(*wp));
    wp->up = up;
    wp->client = copy;
    client_env_copy(&wp->client.env, &copy.env);
    wp->want = want;
    upstream_deadline(&wp->deadline, ms);
    limit.tv_sec = ms / 1000;
    limit.tv_usec = (ms % 1000) * 1000;
    if ((wp->ev = event_new(up->base, client->in_fd,
                            EV_READ | EV_CLOSED | EV_ET | EV_PERSIST,
                            upstream_event, wp)) == 0
        || event_add(wp->ev, &limit) < 0)
        ss_msg_fatal("cannot watch a client for its PROXY header");
    wp->prev = 0;
    wp->next = up->waiting;
    if (up->waiting)
        up->waiting->prev = wp;
    up->waiting = wp;
    up->count++;
}

/* upstream_count - clients whose header is awaited */
int     upstream_count(const UPSTREAM *up)
{
    return (up->count);
}

/* upstream_drop - the drain is over: close those still sending a header */
void    upstream_drop(UPSTREAM *up)
{
    UPSTREAM_WAIT *wp;

    while ((wp = up->waiting) != 0) {
        ss_msg_warn("leaving: closing a client of %s still sending its "
                    "PROXY header", wp->client.listener->display);
        upstream_unlink(wp);
        /* What it sent was only peeked at: a bare close would reset it. */
        admit_close_now(wp->client.in_fd);
        myfree(wp);
    }
}

/* upstream_export - the clients awaited, for the next image */
size_t  upstream_export(const UPSTREAM *up, HANDOVER *state,
                                const SS_LISTENER *listeners)
{
    UPSTREAM_WAIT *wp;
    HANDOVER_CLIENT hc;

    for (wp = up->waiting; state && wp; wp = wp->next) {
        memset(&hc, 0, sizeof(hc));
        hc.fd = wp->client.in_fd;
        hc.listener = (int) (wp->client.listener - listeners);
        hc.header = 1;
        hc.pause_ms = upstream_ms_left(&wp->deadline);
        handover_add_client(state, &hc);
    }
    return ((size_t) up->count);
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
