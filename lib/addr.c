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

/* addr_split - HOST:PORT or [HOST]:PORT into copies */
static int addr_split(const char *spec, char **host, char **port, char **err)
{
    const char *colon;

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (close == 0 || close[1] != ':') {
            *err = myasprintf("listen address \"%s\": expected [IPV6]:PORT", spec);
            return (-1);
        }
        *host = mystrndup(spec + 1, close - spec - 1);
        colon = close + 1;
    } else {
        if ((colon = strrchr(spec, ':')) == 0) {
            *err = myasprintf("listen address \"%s\": expected HOST:PORT, "
                              "[IPV6]:PORT, unix:PATH or /PATH", spec);
            return (-1);
        }
        if (memchr(spec, ':', colon - spec)) {
            *err = myasprintf("listen address \"%s\": write an IPv6 address "
                              "in brackets, as [%.*s]:PORT",
                              spec, (int) (colon - spec), spec);
            return (-1);
        }
        *host = mystrndup(spec, colon - spec);
    }
    *port = mystrdup(colon + 1);
    if (**host == 0 || **port == 0) {
        *err = myasprintf("listen address \"%s\": missing %s", spec,
                          **host == 0 ? "host" : "port");
        myfree(*host);
        myfree(*port);
        return (-1);
    }
    return (0);
}

/* addr_parse - split and resolve a listen address */
int     addr_parse(const char *spec, ADDR_SPEC *out, char **err)
{
    struct addrinfo hints;
    struct addrinfo *res;
    char   *host;
    char   *port;
    long    portnum;
    int     gai;

    if (strncmp(spec, "unix:", 5) == 0)
        return (addr_parse_unix(spec, spec + 5, out, err));
    if (spec[0] == '/')
        return (addr_parse_unix(spec, spec, out, err));
    if (addr_split(spec, &host, &port, err) < 0)
        return (-1);
    /* getaddrinfo() would quietly take port 99999 as 99999 % 65536. */
    if (isdigit((unsigned char) *port)
        && conv_long(port, 0, 65535, &portnum) != CONV_OK) {
        *err = myasprintf("listen address \"%s\": port \"%s\" is not a "
                          "number from 0 to 65535", spec, port);
        myfree(host);
        myfree(port);
        return (-1);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = spec[0] == '[' ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;        /* no AI_ADDRCONFIG: loopback-only hosts */
    if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
        *err = myasprintf("listen address \"%s\": %s", spec, gai_strerror(gai));
        myfree(host);
        myfree(port);
        return (gai == EAI_AGAIN || gai == EAI_SYSTEM || gai == EAI_MEMORY ?
                ADDR_ERR_TEMP : -1);
    }
    memset(out, 0, sizeof(*out));
    memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    out->family = res->ai_family;
    freeaddrinfo(res);
    myfree(host);
    myfree(port);
    return (0);
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

/* addr_display - "127.0.0.1:40123", "[::1]:40123" or "unix:/path" */
char   *addr_display(const struct sockaddr *sa, socklen_t len)
{
    char    host[INET6_ADDRSTRLEN];
    char    port[8];
    const struct sockaddr_un *sun = (const struct sockaddr_un *) sa;

    if (sa->sa_family == AF_UNIX) {
        if (len <= offsetof(struct sockaddr_un, sun_path) || sun->sun_path[0] == 0)
            return (mystrdup("unix:"));
        return (myasprintf("unix:%.*s",
                           (int) (len - offsetof(struct sockaddr_un, sun_path)),
                           sun->sun_path));
    }
    if (addr_numeric(sa, len, host, sizeof(host), port, sizeof(port)) < 0)
        return (myasprintf("(address family %d)", sa->sa_family));
    return (strchr(host, ':') ? myasprintf("[%s]:%s", host, port)
            : myasprintf("%s:%s", host, port));
}
