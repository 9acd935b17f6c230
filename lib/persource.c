/*
 * persource.c - clients at once per source: counted per address, prefix
 * or uid
 *
 * Two small chained hash tables: sources with their counts, and the
 * processes (handlers) that hold a client of a source, so that reaping a
 * handler, however it ended (time limit, signal), gives its slot back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "mymalloc.h"
#include "persource.h"

#define PERSOURCE_BUCKETS 1024          /* a power of 2 */

typedef struct PERSOURCE_ENTRY {
    PERSOURCE_KEY key;
    long    count;
    struct PERSOURCE_ENTRY *next;
} PERSOURCE_ENTRY;

typedef struct PERSOURCE_HOLDER {
    long    pid;
    PERSOURCE_KEY key;
    struct PERSOURCE_HOLDER *next;
} PERSOURCE_HOLDER;

struct PERSOURCE {
    PERSOURCE_ENTRY *sources[PERSOURCE_BUCKETS];
    PERSOURCE_HOLDER *holders[PERSOURCE_BUCKETS];
};

static const unsigned char persource_mapped[12] =
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* persource_key - the source of a peer: address, IPv6 prefix, or uid */
int     persource_key(const struct sockaddr *peer, socklen_t len, long uid,
                              int v6_prefix, PERSOURCE_KEY *key)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) peer;
    int     i;

    memset(key, 0, sizeof(*key));
    if (peer && len >= sizeof(struct sockaddr_in) && peer->sa_family == AF_INET) {
        key->family = AF_INET;
        memcpy(key->addr, &((const struct sockaddr_in *) peer)->sin_addr, 4);
    } else if (peer && len >= sizeof(*sin6) && peer->sa_family == AF_INET6) {
        if (memcmp(sin6->sin6_addr.s6_addr, persource_mapped, 12) == 0) {
            key->family = AF_INET;      /* an IPv4 client, as everywhere */
            memcpy(key->addr, sin6->sin6_addr.s6_addr + 12, 4);
            return (0);
        }
        key->family = AF_INET6;
        memcpy(key->addr, sin6->sin6_addr.s6_addr, 16);
        for (i = 0; i < 16; i++)        /* keep v6_prefix bits */
            if (i * 8 >= v6_prefix)
                key->addr[i] = 0;
            else if (i * 8 + 8 > v6_prefix)
                key->addr[i] &= (unsigned char) (0xff << (8 - v6_prefix % 8));
    } else if (uid >= 0) {
        key->family = AF_UNIX;
        memcpy(key->addr, &uid, sizeof(uid));
    } else {
        return (-1);
    }
    return (0);
}

/* persource_text - a source as logs name it */
void    persource_text(const PERSOURCE_KEY *key, int v6_prefix, char *buf,
                               size_t len)
{
    char    host[INET6_ADDRSTRLEN] = "?";
    long    uid;

    if (key->family == AF_UNIX) {
        memcpy(&uid, key->addr, sizeof(uid));
        snprintf(buf, len, "unix uid %ld", uid);
    } else if (key->family == AF_INET) {
        (void) inet_ntop(AF_INET, key->addr, host, sizeof(host));
        snprintf(buf, len, "%s", host);
    } else {
        (void) inet_ntop(AF_INET6, key->addr, host, sizeof(host));
        snprintf(buf, len, "%s/%d", host, v6_prefix);
    }
}

/* persource_hash - a bucket for a key (FNV-1a) */
static unsigned persource_hash(const PERSOURCE_KEY *key)
{
    unsigned h = 2166136261u ^ (unsigned) key->family;
    size_t  i;

    for (i = 0; i < sizeof(key->addr); i++)
        h = (h ^ key->addr[i]) * 16777619u;
    return (h & (PERSOURCE_BUCKETS - 1));
}

/* persource_link - where key's entry hangs, or would */
static PERSOURCE_ENTRY **persource_link(PERSOURCE *ps, const PERSOURCE_KEY *key)
{
    PERSOURCE_ENTRY **pp = &ps->sources[persource_hash(key)];

    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->key.family == key->family
            && memcmp((*pp)->key.addr, key->addr, sizeof(key->addr)) == 0)
            break;
    return (pp);
}

/* persource_create - no source has a client */
PERSOURCE *persource_create(void)
{
    return (mycalloc(1, sizeof(PERSOURCE)));
}

/* persource_free - forget every source and holder, then the table */
void    persource_free(PERSOURCE *ps)
{
    PERSOURCE_ENTRY *ep;
    PERSOURCE_HOLDER *hp;
    size_t  i;

    if (ps == 0)
        return;
    for (i = 0; i < PERSOURCE_BUCKETS; i++) {
        while ((ep = ps->sources[i]) != 0) {
            ps->sources[i] = ep->next;
            myfree(ep);
        }
        while ((hp = ps->holders[i]) != 0) {
            ps->holders[i] = hp->next;
            myfree(hp);
        }
    }
    myfree(ps);
}

/* persource_take - one more client of key, unless limit are there */
int     persource_take(PERSOURCE *ps, const PERSOURCE_KEY *key, long limit)
{
    PERSOURCE_ENTRY **link = persource_link(ps, key);
    PERSOURCE_ENTRY *ep = *link;

    if (ep == 0) {
        ep = *link = mycalloc(1, sizeof(*ep));
        ep->key = *key;
    }
    if (limit > 0 && ep->count >= limit)
        return (0);
    ep->count++;
    return (1);
}

/* persource_release - one client of key less; forget a source at 0 */
void    persource_release(PERSOURCE *ps, const PERSOURCE_KEY *key)
{
    PERSOURCE_ENTRY **link = persource_link(ps, key);
    PERSOURCE_ENTRY *ep = *link;

    if (ep == 0)
        return;
    if (--ep->count <= 0) {
        *link = ep->next;
        myfree(ep);
    }
}

/* persource_count - clients of key now */
long    persource_count(const PERSOURCE *ps, const PERSOURCE_KEY *key)
{
    PERSOURCE_ENTRY *ep = *persource_link((PERSOURCE *) ps, key);

    return (ep ? ep->count : 0);
}

/* persource_bind - process pid holds a client of key */
void    persource_bind(PERSOURCE *ps, long pid, const PERSOURCE_KEY *key)
{
    PERSOURCE_HOLDER *hp = mymalloc(sizeof(*hp));
    PERSOURCE_HOLDER **head = &ps->holders[(unsigned long) pid & (PERSOURCE_BUCKETS - 1)];

    hp->pid = pid;
    hp->key = *key;
    hp->next = *head;
    *head = hp;
}

/* persource_reap - process pid ended: its client's slot is free */
void    persource_reap(PERSOURCE *ps, long pid)
{
    PERSOURCE_HOLDER **pp = &ps->holders[(unsigned long) pid & (PERSOURCE_BUCKETS - 1)];
    PERSOURCE_HOLDER *hp;

    for (; (hp = *pp) != 0; pp = &hp->next) {
        if (hp->pid == pid) {
            *pp = hp->next;
            persource_release(ps, &hp->key);
            myfree(hp);
            return;
        }
    }
}

/* persource_each - every process holding a client, with its source */
size_t  persource_each(const PERSOURCE *ps, void (*fn) (long, const PERSOURCE_KEY *,
                                                               void *),
                               void *context)
{
    const PERSOURCE_HOLDER *hp;
    size_t  i;
    size_t  n = 0;

    for (i = 0; i < PERSOURCE_BUCKETS; i++)
        for (hp = ps->holders[i]; hp; hp = hp->next, n++)
            if (fn)
                fn(hp->pid, &hp->key, context);
    return (n);
}
