/*
 * fuzz_addr.c - libFuzzer target for listen addresses (-L)
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_addr.c lib/addr.c lib/conv.c lib/mymalloc.c \
 *	    t/fuzz/fuzz_msg.c -Wl,--wrap=getaddrinfo \
 *	    -Wl,--wrap=getservbyname -o fuzz_addr
 *	mkdir -p corpus && ./fuzz_addr -max_total_time=60 corpus
 *
 * The input, up to its first null byte, goes to addr_parse(). A host
 * there is looked up with getaddrinfo() and a port that is not a number
 * with getservbyname(): a fuzzer must not ask DNS (slow, and a leak of
 * its inputs to the network), nor read /etc/services on every run, so
 * the link wraps both (ld --wrap, for this program only: addr.c is not
 * changed). getaddrinfo() gets AI_NUMERICHOST added, so a name is an
 * unknown host and an address is parsed by the libc as in production;
 * getservbyname() knows smtp (25), http (80) and https (443).
 *
 * Checked against addr.h: an error is -1 (never ADDR_ERR_TEMP: there is
 * no resolver to fail) with a message that starts 'listen address
 * "SPEC"'; an accepted address has a family of the three and the length
 * of its sockaddr; unix:PATH and /PATH keep the path (non-empty, fits
 * sun_path); "PORT", ":PORT" and "*:PORT" are the dual-stack wildcard,
 * nothing else is; [IPV6]:PORT is IPv6; the port is the one written (or
 * the service's); an address that inet_pton() reads is that address;
 * addr_wildcard_ipv4() makes 0.0.0.0 of the wildcard on the same port;
 * and addr_display() writes an address that addr_parse() takes back and
 * displays the same (the form the logs and -1 print is a valid -L).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "mymalloc.h"

#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int     __real_getaddrinfo(const char *, const char *,
                                   const struct addrinfo *,
                                   struct addrinfo **);
int     __wrap_getaddrinfo(const char *, const char *,
                                   const struct addrinfo *,
                                   struct addrinfo **);
struct servent *__wrap_getservbyname(const char *, const char *);

/* __wrap_getaddrinfo - getaddrinfo() that never resolves a name */
int     __wrap_getaddrinfo(const char *host, const char *serv,
                                   const struct addrinfo *hints,
                                   struct addrinfo **res)
{
    struct addrinfo numeric = *hints;

    numeric.ai_flags |= AI_NUMERICHOST;
    return (__real_getaddrinfo(host, serv, &numeric, res));
}

/* The services this program knows, instead of /etc/services. */
static const struct {
    const char *name;
    int     port;
} fuzz_services[] = {
    {"smtp", 25}, {"http", 80}, {"https", 443},
};

/* fuzz_service - a service's port, or -1 */
static int fuzz_service(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(fuzz_services) / sizeof(fuzz_services[0]); i++)
        if (strcmp(name, fuzz_services[i].name) == 0)
            return (fuzz_services[i].port);
    return (-1);
}

/* __wrap_getservbyname - a three-line /etc/services */
struct servent *__wrap_getservbyname(const char *name, const char *proto)
{
    static struct servent se;
    static char *aliases[] = {0};
    int     port = fuzz_service(name);

    if (port < 0 || strcmp(proto, "tcp") != 0)
        return (0);
    se.s_name = (char *) name;
    se.s_aliases = aliases;
    se.s_port = htons((uint16_t) port);
    se.s_proto = (char *) "tcp";
    return (&se);
}

/* fuzz_port - the port an accepted TCP address must have */
static int fuzz_port(const char *spec)
{
    const char *text = strrchr(spec, ':');
    const char *cp;

    text = text ? text + 1 : spec;
    for (cp = text; *cp >= '0' && *cp <= '9'; cp++)
         /* void */ ;
    return (*cp == 0 && cp > text ? atoi(text) : fuzz_service(text));
}

/* fuzz_host - the host part of an accepted TCP address, in a buffer */
static void fuzz_host(const char *spec, char *buf, size_t len)
{
    const char *start = spec[0] == '[' ? spec + 1 : spec;
    const char *end = spec[0] == '[' ? strchr(spec, ']') : strrchr(spec, ':');
    size_t  n = end ? (size_t) (end - start) : 0;

    snprintf(buf, len, "%.*s", (int) (n < len ? n : len - 1), start);
}

/* fuzz_same_display - the display form parses to the same display */
static void fuzz_same_display(const ADDR_SPEC *as)
{
    char   *shown = addr_display((const struct sockaddr *) &as->sa, as->len);
    char   *again;
    ADDR_SPEC back;
    char   *err = 0;

    if (addr_parse(shown, &back, &err) != 0) {
        fprintf(stderr, "fuzz: addr_display() wrote \"%s\", refused: %s\n",
                shown, err);
        abort();
    }
    again = addr_display((const struct sockaddr *) &back.sa, back.len);
    FUZZ_ASSERT(strcmp(shown, again) == 0);
    FUZZ_ASSERT(back.family == as->family || as->family == AF_INET6);
    addr_free(&back);
    myfree(again);
    myfree(shown);
}

/* fuzz_unix - an accepted unix-domain address */
static void fuzz_unix(const char *spec, const ADDR_SPEC *as)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *) &as->sa;
    const char *path = strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;

    FUZZ_ASSERT(path[0] != 0 && strlen(path) < sizeof(sun->sun_path));
    FUZZ_ASSERT(as->path != 0 && strcmp(as->path, path) == 0);
    FUZZ_ASSERT(strcmp(sun->sun_path, path) == 0);
    FUZZ_ASSERT(as->len == sizeof(*sun) && !as->wildcard);
}

/* fuzz_tcp - an accepted TCP address */
static void fuzz_tcp(const char *spec, ADDR_SPEC *as)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *) &as->sa;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) &as->sa;
    int     wildcard = strchr(spec, ':') == 0 || spec[0] == ':'
    || (spec[0] == '*' && spec[1] == ':');
    unsigned char bytes[16];
    char    host[300];
    unsigned port;

    FUZZ_ASSERT(as->path == 0);
    FUZZ_ASSERT(as->len == (as->family == AF_INET ? sizeof(*sin)
                            : sizeof(*sin6)));
    FUZZ_ASSERT(as->wildcard == wildcard);
    port = ntohs(as->family == AF_INET ? sin->sin_port : sin6->sin6_port);
    FUZZ_ASSERT((int) port == fuzz_port(spec));
    if (spec[0] == '[')
        FUZZ_ASSERT(as->family == AF_INET6);
    if (wildcard) {
        FUZZ_ASSERT(as->family == AF_INET6
                    && IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
        fuzz_same_display(as);
        addr_wildcard_ipv4(as);
        FUZZ_ASSERT(as->family == AF_INET && as->len == sizeof(*sin)
                    && sin->sin_family == AF_INET && !as->wildcard
                    && sin->sin_addr.s_addr == htonl(INADDR_ANY)
                    && ntohs(sin->sin_port) == port);
        return;
    }
    fuzz_host(spec, host, sizeof(host));
    if (inet_pton(AF_INET, host, bytes) == 1)
        FUZZ_ASSERT(as->family == AF_INET
                    && memcmp(&sin->sin_addr, bytes, 4) == 0);
    if (inet_pton(AF_INET6, host, bytes) == 1)
        FUZZ_ASSERT(as->family == AF_INET6
                    && memcmp(&sin6->sin6_addr, bytes, 16) == 0);
    fuzz_same_display(as);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *spec = mystrndup((const char *) data, size);
    char   *want = myasprintf("listen address \"%s\"", spec);
    ADDR_SPEC as;
    char   *err = 0;
    int     ret;

    memset(&as, 0x5a, sizeof(as));
    ret = addr_parse(spec, &as, &err);
    FUZZ_ASSERT(ret == 0 || ret == -1);
    if (ret < 0) {
        FUZZ_ASSERT(err != 0 && strncmp(err, want, strlen(want)) == 0);
        myfree(err);
    } else {
        FUZZ_ASSERT(err == 0);
        FUZZ_ASSERT(as.family == as.sa.ss_family);
        if (as.family == AF_UNIX)
            fuzz_unix(spec, &as);
        else if (as.family == AF_INET || as.family == AF_INET6)
            fuzz_tcp(spec, &as);
        else
            FUZZ_ASSERT(!"an address family of none of the three");
        addr_free(&as);
        FUZZ_ASSERT(as.path == 0);
    }
    myfree(want);
    myfree(spec);
    return (0);
}
