/*
 * addr.c - socket address parsing and printing
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "conv.h"
#include "mymalloc.h"

/* addr_parse_unix - "unix:PATH" or "/PATH" */
static int addr_parse_unix(const char *spec, const char *path, ADDR_SPEC *out,
                                   char **err)
{
    struct sockaddr_un *sun = (struct sockaddr_un *) &out->sa;

    if (*path == 0) {
        *err = myasprintf("listen address \"%s\": empty socket path", spec);
        return (-1);
    }
    if (strlen(path) >= sizeof(sun->sun_path)) {
        *err = myasprintf("listen address \"%s\": socket path longer than "
                          "%zu bytes", spec, sizeof(sun->sun_path) - 1);
        return (-1);
    }
    memset(out, 0, sizeof(*out));
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path, path);
    out->family = AF_UNIX;
    out->len = sizeof(*sun);
    out->path = mystrdup(path);
    return (0);
}

/* addr_split - HOST:PORT, [HOST]:PORT, :PORT, *:PORT or PORT into copies */
static int addr_split(const char *spec, char **host, char **port, char **err)
{
    const char *colon;
    const char *portstr;

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (close == 0 || close[1] != ':') {
            *err = myasprintf("listen address \"%s\": expected [IPV6]:PORT", spec);
            return (-1);
        }
        *host = mystrndup(spec + 1, close - spec - 1);
        portstr = close + 2;
    } else if ((colon = strrchr(spec, ':')) == 0) {
        if (strchr(spec, '.')) {        /* a host without its port */
            *err = myasprintf("listen address \"%s\": expected HOST:PORT, "
                              "[IPV6]:PORT, PORT, unix:PATH or /PATH", spec);
            return (-1);
        }
        *host = mystrdup("");           /* PORT alone: every address */
        portstr = spec;
    } else {
        if (memchr(spec, ':', colon - spec)) {
            *err = myasprintf("listen address \"%s\": write an IPv6 address "
                              "in brackets, as [%.*s]:PORT",
                              spec, (int) (colon - spec), spec);
            return (-1);
        }
        *host = colon - spec == 1 && *spec == '*' ? mystrdup("")
            : mystrndup(spec, colon - spec);
        portstr = colon + 1;
    }
    *port = mystrdup(portstr);
    if (**port == 0 || (spec[0] == '[' && **host == 0)) {
        *err = myasprintf("listen address \"%s\": missing %s", spec,
                          **port == 0 ? "port" : "host");
        myfree(*host);
        myfree(*port);
        return (-1);
    }
    return (0);
}

/*
 * addr_port - a port number or a service name, checked here: getaddrinfo()
 * would take 99999 as 99999 % 65536, and its message for an unknown
 * service ("Servname not supported for ai_socktype") names nothing.
 */
static int addr_port(const char *spec, const char *port, unsigned *num,
                             char **err)
{
    struct servent *se;
    long    val;

    if (isdigit((unsigned char) *port)) {
        if (conv_long(port, 0, 65535, &val) == CONV_OK) {
            *num = (unsigned) val;
            return (0);
        }
        *err = myasprintf("listen address \"%s\": port \"%s\" is not a "
                          "number from 0 to 65535", spec, port);
        return (-1);
    }
    if ((se = getservbyname(port, "tcp")) == 0) {
        *err = myasprintf("listen address \"%s\": unknown service \"%s\" "
                          "(not in /etc/services)%s", spec, port,
                          strchr(spec, ':') ? "" : "; a host needs :PORT");
        return (-1);
    }
    *num = ntohs((uint16_t) se->s_port);
    return (0);
}

/* addr_wildcard - every address: IPv6 dual-stack, IPv4 as the fallback */
static void addr_wildcard(ADDR_SPEC *out, unsigned port)
{
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &out->sa;

    memset(out, 0, sizeof(*out));
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_any;
    sin6->sin6_port = htons((uint16_t) port);
    out->family = AF_INET6;
    out->len = sizeof(*sin6);
    out->wildcard = 1;
}

/* addr_wildcard_ipv4 - the fallback: 0.0.0.0 on the same port */
void    addr_wildcard_ipv4(ADDR_SPEC *spec)
{
    struct sockaddr_in *sin = (struct sockaddr_in *) &spec->sa;
    uint16_t port = ((struct sockaddr_in6 *) &spec->sa)->sin6_port;

    memset(&spec->sa, 0, sizeof(spec->sa));
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_ANY);
    sin->sin_port = port;
    spec->family = AF_INET;
    spec->len = sizeof(*sin);
    spec->wildcard = 0;
}

/* addr_resolve - a host name or address, numeric port already known */
static int addr_resolve(const char *spec, const char *host, unsigned port,
                                ADDR_SPEC *out, char **err)
{
    struct addrinfo hints;
    struct addrinfo *res;
    char    portbuf[8];
    int     gai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = spec[0] == '[' ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;   /* no AI_ADDRCONFIG: */
    snprintf(portbuf, sizeof(portbuf), "%u", port); /* loopback-only hosts */
    if ((gai = getaddrinfo(host, portbuf, &hints, &res)) != 0) {
        if (gai == EAI_NONAME || gai == EAI_NODATA || gai == EAI_FAMILY)
            *err = myasprintf("listen address \"%s\": unknown host \"%s\"",
                              spec, host);
        else
            *err = myasprintf("listen address \"%s\": cannot look up host "
                              "\"%s\": %s", spec, host, gai_strerror(gai));
        return (gai == EAI_AGAIN || gai == EAI_SYSTEM || gai == EAI_MEMORY ?
                ADDR_ERR_TEMP : -1);
    }
    memset(out, 0, sizeof(*out));
    memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    out->family = res->ai_family;
    freeaddrinfo(res);
    return (0);
}

/* addr_parse - split and resolve a listen address */
int     addr_parse(const char *spec, ADDR_SPEC *out, char **err)
{
    char   *host;
    char   *port;
    unsigned portnum;
    int     ret;

    if (strncmp(spec, "unix:", 5) == 0)
        return (addr_parse_unix(spec, spec + 5, out, err));
    if (spec[0] == '/')
        return (addr_parse_unix(spec, spec, out, err));
    if (addr_split(spec, &host, &port, err) < 0)
        return (-1);
    if ((ret = addr_port(spec, port, &portnum, err)) == 0) {
        if (*host == 0)
            addr_wildcard(out, portnum);
        else
            ret = addr_resolve(spec, host, portnum, out, err);
    }
    myfree(host);
    myfree(port);
    return (ret);
}

/* addr_free - release what addr_parse() allocated */
void    addr_free(ADDR_SPEC *spec)
{
    myfree(spec->path);
    spec->path = 0;
}

/* addr_numeric - numeric host and port of a TCP address */
int     addr_numeric(const struct sockaddr *sa, socklen_t len, char *host,
                             size_t hostlen, char *port, size_t portlen)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;
    const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;

    (void) len;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &sin->sin_addr, host, hostlen);
        snprintf(port, portlen, "%u", ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
            inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, host, hostlen);
        else
            inet_ntop(AF_INET6, &sin6->sin6_addr, host, hostlen);
        snprintf(port, portlen, "%u", ntohs(sin6->sin6_port));
    } else {
        return (-1);
    }
    return (0);
}

/* addr_unix_path - a unix address's path, which need not end in a null */
void    addr_unix_path(const struct sockaddr *sa, socklen_t len, char *buf,
                               size_t size)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *) sa;
    size_t  n = len > offsetof(struct sockaddr_un, sun_path) ?
        len - offsetof(struct sockaddr_un, sun_path) : 0;

    if (n > sizeof(sun->sun_path))
        n = sizeof(sun->sun_path);
    n = strnlen(sun->sun_path, n);
    if (n >= size)
        n = size - 1;
    memcpy(buf, sun->sun_path, n);
    buf[n] = 0;
}

/* addr_display - "127.0.0.1:40123", "[::1]:40123" or "unix:/path" */
char   *addr_display(const struct sockaddr *sa, socklen_t len)
{
    char    host[INET6_ADDRSTRLEN];
    char    port[8];
    char    path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 1];

    if (sa->sa_family == AF_UNIX) {
        addr_unix_path(sa, len, path, sizeof(path));
        return (myasprintf("unix:%s", path));
    }
    if (addr_numeric(sa, len, host, sizeof(host), port, sizeof(port)) < 0)
        return (myasprintf("(address family %d)", sa->sa_family));
    return (strchr(host, ':') ? myasprintf("[%s]:%s", host, port)
            : myasprintf("%s:%s", host, port));
}
