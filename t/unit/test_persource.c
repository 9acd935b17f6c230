/*
 * test_persource.c - sources (IPv4, IPv6 prefixes, mapped, uids) and
 * their counts, slots bound to processes and freed when those are reaped
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "persource.h"
#include "tap.h"

/* key6 - the key of an IPv6 peer at text, counted per prefix bits */
static PERSOURCE_KEY key6(const char *text, int prefix)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    PERSOURCE_KEY key;

    inet_pton(AF_INET6, text, &sin6.sin6_addr);
    (void) persource_key((struct sockaddr *) &sin6, sizeof(sin6), -1, prefix, &key);
    return (key);
}

/* shown - a key as logs show it */
static const char *shown(const PERSOURCE_KEY *key, int prefix)
{
    static char buf[80];

    persource_text(key, prefix, buf, sizeof(buf));
    return (buf);
}

/* prefixes - masking at and around byte boundaries */
static void prefixes(void)
{
    static const struct {
        int     bits;
        const char *want;
    } cases[] = {
        {1, "8000::/1"}, {7, "fe00::/7"}, {8, "ff00::/8"}, {9, "ff80::/9"},
        {64, "ffff:ffff:ffff:ffff::/64"},
        {127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"},
        {128, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
    };
    PERSOURCE_KEY key;
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        key = key6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", cases[i].bits);
        ok(strcmp(shown(&key, cases[i].bits), cases[i].want) == 0,
           "all ones, /%d: %s", cases[i].bits, shown(&key, cases[i].bits));
    }
}

int     main(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    PERSOURCE_KEY a;
    PERSOURCE_KEY b;
    PERSOURCE_KEY u;
    PERSOURCE *ps = persource_create();

    prefixes();
    a = key6("2001:db8:1:2:3:4:5:6", 64);
    b = key6("2001:db8:1:2:ffff::1", 64);
    ok(memcmp(&a, &b, sizeof(a)) == 0, "one /64, two addresses: one source");
    b = key6("2001:db8:1:3::1", 64);
    ok(memcmp(&a, &b, sizeof(a)) != 0, "another /64: another source");
    a = key6("::ffff:10.1.2.3", 64);
    inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
    (void) persource_key((struct sockaddr *) &sin, sizeof(sin), -1, 64, &b);
    ok(memcmp(&a, &b, sizeof(a)) == 0 && strcmp(shown(&a, 64), "10.1.2.3") == 0,
       "an IPv4-mapped peer is its IPv4 address: %s", shown(&a, 64));
    ok(persource_key(0, 0, 1000, 64, &u) == 0
       && strcmp(shown(&u, 64), "unix uid 1000") == 0, "a unix peer by uid");
    ok(persource_key(0, 0, -1, 64, &u) < 0, "no address, no uid: no source");

    ok(persource_take(ps, &b, 2) && persource_take(ps, &b, 2)
       && !persource_take(ps, &b, 2) && persource_count(ps, &b) == 2,
       "limit 2: the third is refused");
    ok(persource_take(ps, &u, 2) && persource_count(ps, &u) == 1,
       "another source has its own count");
    persource_bind(ps, 100, &b);
    persource_bind(ps, 101, &b);
    ok(persource_each(ps, 0, 0) == 2, "two processes hold slots");
    persource_reap(ps, 100);
    ok(persource_count(ps, &b) == 1 && persource_take(ps, &b, 2),
       "a reaped process frees its slot");
    persource_reap(ps, 100);
    ok(persource_count(ps, &b) == 2, "reaping it again frees nothing");
    persource_reap(ps, 999);
    ok(persource_count(ps, &b) == 2, "a pid that holds nothing frees nothing");
    persource_release(ps, &b);
    persource_reap(ps, 101);
    ok(persource_count(ps, &b) == 0 && persource_take(ps, &b, 1),
       "released and reaped: the source is free");
    ok(persource_take(ps, &b, 0) && persource_count(ps, &b) == 2,
       "limit 0: no limit");
    persource_bind(ps, 102, &u);        /* a holder left for the free */
    persource_free(ps);
    return (done_testing());
}
