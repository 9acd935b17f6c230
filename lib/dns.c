/*
 * dns.c - a client's host name, looked up without waiting
 *
 * libevent's evdns does the protocol: its queries run in the loop that
 * accepts, so a slow name server delays only the clients that wait for
 * it. What a name server answers is hostile: hostname_clean() decides
 * what of it is a name, and nothing else of it is kept.
 *
 * evdns calls back once for every query it took, a cancelled one too
 * (DNS_ERR_CANCEL, later, from the loop): a DNS_QUERY lives until that
 * call, marked cancelled when nobody waits for it any more.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <event2/dns.h>

#include "conv.h"
#include "dns.h"
#include "hostname.h"
#include "msg.h"
#include "mymalloc.h"

struct DNS {
    struct evdns_base *evdns;
};

struct DNS_QUERY {
    DNS    *dns;
    struct evdns_request *req;          /* the one in flight */
    int     family;                     /* AF_INET, AF_INET6 */
    struct in_addr v4;                  /* the peer */
    struct in6_addr v6;
    int     forward;                    /* the name is checked forward */
    int     cancelled;                  /* nobody waits: free at callback */
    char    name[HOSTNAME_MAX + 1];     /* the PTR name, clean */
    DNS_DONE done;
    void   *context;
};

#define DNS_LIST_SEP	", \t\r\n"

/*
 * dns_server_item - one dns_servers item checked: ADDR, ADDR:PORT or
 * [IPV6]:PORT (a bare IPv6 address has no port). 0, or -1 and *err.
 */
static int dns_server_item(const char *item, char **err)
{
    char    host[INET6_ADDRSTRLEN + 1];
    const char *shown = item;
    const char *port = 0;
    const char *end;
    const char *colon = strchr(item, ':');
    unsigned char bin[sizeof(struct in6_addr)];
    size_t  len;
    long    num;
    int     family = AF_INET;

    if (item[0] == '[') {
        if ((end = strchr(item, ']')) == 0 || (end[1] != 0 && end[1] != ':'))
            goto bad;
        len = (size_t) (end - item - 1);
        port = end[1] == ':' ? end + 2 : 0;
        item++;
        family = AF_INET6;
    } else if (colon && strchr(colon + 1, ':')) {
        len = strlen(item);             /* IPv6, no port */
        family = AF_INET6;
    } else {
        len = colon ? (size_t) (colon - item) : strlen(item);
        port = colon ? colon + 1 : 0;
    }
    if (len == 0 || len >= sizeof(host))
        goto bad;
    memcpy(host, item, len);
    host[len] = 0;
    if (inet_pton(family, host, bin) != 1)
        goto bad;
    if (port && conv_long(port, 1, 65535, &num) != CONV_OK)
        goto bad;
    return (0);

bad:
    *err = myasprintf("bad name server \"%.100s\" "
                      "(expected ADDR, ADDR:PORT or [IPV6]:PORT)", shown);
    return (-1);
}

/* dns_servers_check - the dns_servers list, checked: its items, or -1 */
int     dns_servers_check(const char *list, char **err)
{
    char   *copy = mystrdup(list);
    char   *save = 0;
    char   *item;
    int     n = 0;

    for (item = strtok_r(copy, DNS_LIST_SEP, &save); item && n >= 0;
         item = strtok_r(0, DNS_LIST_SEP, &save))
        n = dns_server_item(item, err) < 0 ? -1 : n + 1;
    myfree(copy);
    return (n);
}

/*
 * dns_log - libevent's own words, evdns's among them (a name server
 * failed, is back up): those with -v only, since a server that refuses
 * what it does not know says so for every client; warnings and errors
 * always. Debugging lines, which may hold names, never come (libevent
 * drops them unless asked). What is not printable ASCII is shown as "?".
 */
static void dns_log(int severity, const char *msg)
{
    char    buf[256];
    size_t  i;

    if (severity < EVENT_LOG_MSG || (severity == EVENT_LOG_MSG
                                     && !ss_msg_verbose))
        return;
    for (i = 0; msg[i] && i < sizeof(buf) - 1; i++)
        buf[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
    buf[i] = 0;
    if (severity == EVENT_LOG_MSG)
        ss_msg_info("libevent: %s", buf);
    else if (severity == EVENT_LOG_WARN)
        ss_msg_warn("libevent: %s", buf);
    else
        ss_msg_error("libevent: %s", buf);
}

/* dns_log_start - libevent's messages go to our log, from now on */
void    dns_log_start(void)
{
    event_set_log_callback(dns_log);
}

/*
 * dns_servers_add - the list's servers (it has items of them), or those
 * of /etc/resolv.conf: 0, or -1 and *err
 */
static int dns_servers_add(struct evdns_base *evdns, const char *list,
                                   int items, char **err)
{
    char   *copy;
    char   *save = 0;
    char   *item;
    int     rc;

    if (items == 0) {                   /* "" or only separators */
        /* 1: no file (127.0.0.1 then); 6: a file without a server. */
        rc = evdns_base_resolv_conf_parse(evdns, DNS_OPTION_NAMESERVERS
                                          | DNS_OPTION_MISC, "/etc/resolv.conf");
        if (rc != 0 && rc != 1 && rc != 6) {
            *err = myasprintf("cannot use /etc/resolv.conf (evdns error %d)",
                              rc);
            return (-1);
        }
        return (0);
    }
    copy = mystrdup(list);
    for (item = strtok_r(copy, DNS_LIST_SEP, &save); item;
         item = strtok_r(0, DNS_LIST_SEP, &save)) {
        if (evdns_base_nameserver_ip_add(evdns, item) != 0) {
            *err = myasprintf("cannot use name server \"%.100s\"", item);
            myfree(copy);
            return (-1);
        }
    }
    myfree(copy);
    return (0);
}

/* dns_open - the resolver, at start */
DNS    *dns_open(struct event_base *base, const char *list, long timeout_ms,
                         char **err)
{
    DNS    *dns;
    char    secs[32];
    int     items;

    if ((items = dns_servers_check(list, err)) < 0)
        return (0);
    dns = mycalloc(1, sizeof(*dns));
    if ((dns->evdns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE))
        == 0) {
        *err = mystrdup("cannot make a DNS resolver (evdns_base_new)");
        myfree(dns);
        return (0);
    }
    if (dns_servers_add(dns->evdns, list, items, err) < 0) {
        dns_free(dns);
        return (0);
    }
    /*
     * Three tries within the client's wait; its deadline ends the rest.
     * Past max-inflight (64 by default) evdns queues a query unsent: a
     * few clients whose names never come would starve everyone else's.
     * process_limit bounds the clients waiting; evdns caps this at 65000.
     */
    snprintf(secs, sizeof(secs), "%.3f", timeout_ms / 3000.0);
    if (evdns_base_set_option(dns->evdns, "timeout:", secs) != 0
        || evdns_base_set_option(dns->evdns, "attempts:", "3") != 0
        || evdns_base_set_option(dns->evdns, "max-inflight:", "65000") != 0) {
        *err = mystrdup("cannot set the DNS timeout");
        dns_free(dns);
        return (0);
    }
    return (dns);
}

/*
 * dns_printable - a refused name, fit for a log line: at most size - 1
 * bytes, a byte no name may hold shown as "?", "..." at the end when cut
 */
static void dns_printable(const char *raw, char *out, size_t size)
{
    size_t  i;
    size_t  len = strlen(raw);

    if (size < 4) {
        if (size > 0)
            out[0] = 0;
        return;
    }
    for (i = 0; i < len && i < size - 1; i++)
        out[i] = hostname_char((unsigned char) raw[i]) ? raw[i] : '?';
    out[i] = 0;
    if (i < len)
        memcpy(out + size - 4, "...", 4);
}

/* dns_finish - tell the caller, and the query is over */
static void dns_finish(DNS_QUERY *q, const char *name, int verified,
                               const char *bad)
{
    DNS_RESULT result;

    result.name = name;
    result.verified = verified;
    result.bad = bad;
    q->done(q->context, &result);
    myfree(q);
}

/* dns_forward_done - the name's addresses: is the peer's among them? */
static void dns_forward_done(int status, char type, int count, int ttl,
                                     void *addresses, void *arg)
{
    DNS_QUERY *q = arg;
    int     verified = 0;
    int     i;

    (void) ttl;
    if (q->cancelled) {
        myfree(q);
        return;
    }
    q->req = 0;
    for (i = 0; status == DNS_ERR_NONE && i < count && !verified; i++) {
        if (type == DNS_IPv4_A && q->family == AF_INET)
            verified = memcmp((struct in_addr *) addresses + i, &q->v4,
                              sizeof(q->v4)) == 0;
        else if (type == DNS_IPv6_AAAA && q->family == AF_INET6)
            verified = memcmp((struct in6_addr *) addresses + i, &q->v6,
                              sizeof(q->v6)) == 0;
    }
    dns_finish(q, q->name, verified, 0);
}

/* dns_ptr_done - the PTR name: clean it, then maybe check it forward */
static void dns_ptr_done(int status, char type, int count, int ttl,
                                 void *addresses, void *arg)
{
    DNS_QUERY *q = arg;
    const char *raw;
    char    shown[DNS_BAD_SHOWN + 1];

    (void) ttl;
    if (q->cancelled) {
        myfree(q);
        return;
    }
    q->req = 0;
    /* libevent 2.1 reads a PTR name of at most 63 bytes: the rest fail. */
    if (status == DNS_ERR_UNKNOWN) {
        dns_finish(q, 0, 0, DNS_UNREADABLE);
        return;
    }
    if (status != DNS_ERR_NONE || type != DNS_PTR || count < 1
        || (raw = *(const char **) addresses) == 0) {
        dns_finish(q, 0, 0, 0);
        return;
    }
    if (hostname_clean(raw, strlen(raw), q->name) < 0) {
        dns_printable(raw, shown, sizeof(shown));
        dns_finish(q, 0, 0, shown);
        return;
    }
    if (!q->forward) {
        dns_finish(q, q->name, 0, 0);
        return;
    }
    q->req = q->family == AF_INET ?
        evdns_base_resolve_ipv4(q->dns->evdns, q->name, DNS_QUERY_NO_SEARCH,
                                dns_forward_done, q) :
        evdns_base_resolve_ipv6(q->dns->evdns, q->name, DNS_QUERY_NO_SEARCH,
                                dns_forward_done, q);
    if (q->req == 0)
        dns_finish(q, q->name, 0, 0);
}

/* dns_lookup - the peer's name, and maybe its check, in the loop */
DNS_QUERY *dns_lookup(DNS *dns, const struct sockaddr *peer, socklen_t len,
                              int forward, DNS_DONE done, void *context)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff};
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) peer;
    DNS_QUERY *q;

    if (peer == 0 || (peer->sa_family == AF_INET
                      && len < (socklen_t) sizeof(struct sockaddr_in))
        || (peer->sa_family == AF_INET6
            && len < (socklen_t) sizeof(struct sockaddr_in6))
        || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
        return (0);
    q = mycalloc(1, sizeof(*q));
    q->dns = dns;
    q->forward = forward;
    q->done = done;
    q->context = context;
    if (peer->sa_family == AF_INET) {
        q->family = AF_INET;
        q->v4 = ((const struct sockaddr_in *) peer)->sin_addr;
    } else if (memcmp(sin6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
        q->family = AF_INET;
        memcpy(&q->v4, sin6->sin6_addr.s6_addr + 12, sizeof(q->v4));
    } else {
        q->family = AF_INET6;
        q->v6 = sin6->sin6_addr;
    }
    q->req = q->family == AF_INET ?
        evdns_base_resolve_reverse(dns->evdns, &q->v4, DNS_QUERY_NO_SEARCH,
                                   dns_ptr_done, q) :
        evdns_base_resolve_reverse_ipv6(dns->evdns, &q->v6,
                                        DNS_QUERY_NO_SEARCH, dns_ptr_done, q);
    if (q->req == 0) {
        myfree(q);
        return (0);
    }
    return (q);
}

/* dns_cancel - nobody waits for it: its callback only frees it */
void    dns_cancel(DNS_QUERY *q)
{
    q->cancelled = 1;
    if (q->req)
        evdns_cancel_request(q->dns->evdns, q->req);
}

/* dns_free - the resolver is no more: what is in flight is cancelled */
void    dns_free(DNS *dns)
{
    if (dns == 0)
        return;
    if (dns->evdns)
        evdns_base_free(dns->evdns, 1);
    myfree(dns);
}
