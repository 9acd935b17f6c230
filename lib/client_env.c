/*
 * client_env.c - UCSPI environment variables that describe one client
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "client_env.h"

const char *const client_env_names[] = {
    "PROTO", "TCPLOCALIP", "TCPLOCALPORT", "TCPREMOTEIP", "TCPREMOTEPORT",
    "REMOTE_ADDR", "REMOTE_PORT", "UNIXLOCALPATH", "UNIXREMOTEEUID",
    "UNIXREMOTEEGID", "UNIXREMOTEPID", "PROXYREMOTEIP", "PROXYREMOTEPORT",
    "HTTPS", "SSL_PROTOCOL", "SSL_CIPHER", "SSL_TLS_SNI", "SSL_ALPN",
    "SSL_CLIENT_VERIFY", "SSL_CLIENT_S_DN", "SSL_CLIENT_I_DN",
    "SSL_CLIENT_M_SERIAL", "SSL_CLIENT_CERT_SHA256", "TCPREMOTEHOST",
    "TCPLOCALHOST", 0,
};

/* client_env_clear - no variables */
void    client_env_clear(SS_CLIENT_ENV *env)
{
    env->count = 0;
    env->nrule = 0;
    env->ntls = 0;
    env->vars[0] = 0;
}

/* client_env_has - is NAME (of "NAME=value") among the client variables? */
static int client_env_has(const SS_CLIENT_ENV *env, const char *var)
{
    size_t  len = strcspn(var, "=");
    int     i;

    for (i = 0; i < env->count; i++)
        if (strncmp(env->vars[i], var, len) == 0 && env->vars[i][len] == '=')
            return (1);
    return (0);
}

/*
 * client_env_rule - append an allow rule's assignments (not copied); a
 * rule cannot change what the connection says (PROTO, TCPREMOTEIP, ...)
 */
void    client_env_rule(SS_CLIENT_ENV *env, char *const *assignments)
{
    int     n = 0;

    for (; *assignments && n < SS_CLIENT_ENV_RULE_MAX; assignments++)
        if (!client_env_has(env, *assignments))
            env->vars[env->count + n++] = *assignments;
    env->nrule = n;
    env->vars[env->count + env->nrule] = 0;
}

/*
 * client_env_tls - append the TLS variables: len bytes of null-terminated
 * "NAME=value" strings (tls_env()), not copied
 */
void    client_env_tls(SS_CLIENT_ENV *env, char *strings, size_t len)
{
    char   *cp = strings;
    int     base = env->count + env->nrule;
    int     n = 0;

    while (cp < strings + len && n < SS_CLIENT_ENV_TLS_MAX) {
        env->vars[base + n++] = cp;
        cp += strlen(cp) + 1;
    }
    env->ntls = n;
    env->vars[base + n] = 0;
}

/* client_env_set - add one formatted NAME=value */
static void __attribute__((format(printf, 2, 3)))
client_env_set(SS_CLIENT_ENV *env, const char *fmt,...)
{
    va_list ap;
    char   *buf = env->buf[env->count];

    va_start(ap, fmt);
    vsnprintf(buf, SS_CLIENT_ENV_LEN, fmt, ap);
    va_end(ap);
    env->vars[env->count++] = buf;
    env->vars[env->count] = 0;
}

/* client_env_tcp - the TCP set */
void    client_env_tcp(SS_CLIENT_ENV *env, const char *local_host,
                               const char *local_port,
                               const struct sockaddr *peer, socklen_t len)
{
    char    host[INET6_ADDRSTRLEN] = "";
    char    port[8] = "";

    (void) addr_numeric(peer, len, host, sizeof(host), port, sizeof(port));
    client_env_clear(env);
    client_env_set(env, "PROTO=TCP");
    client_env_set(env, "TCPLOCALIP=%s", local_host);
    client_env_set(env, "TCPLOCALPORT=%s", local_port);
    client_env_set(env, "TCPREMOTEIP=%s", host);
    client_env_set(env, "TCPREMOTEPORT=%s", port);
    client_env_set(env, "REMOTE_ADDR=%s", host);
    client_env_set(env, "REMOTE_PORT=%s", port);
}

/*
 * client_env_hosts - TCPREMOTEHOST and TCPLOCALHOST, each unless null, of
 * a TCP client, before the rule's; not twice
 */
void    client_env_hosts(SS_CLIENT_ENV *env, const char *remote,
                                 const char *local)
{
    if (env->count == 0 || strcmp(env->vars[0], "PROTO=TCP") != 0)
        return;
    if (remote && env->count < SS_CLIENT_ENV_MAX
        && !client_env_has(env, "TCPREMOTEHOST="))
        client_env_set(env, "TCPREMOTEHOST=%s", remote);
    if (local && env->count < SS_CLIENT_ENV_MAX
        && !client_env_has(env, "TCPLOCALHOST="))
        client_env_set(env, "TCPLOCALHOST=%s", local);
}

/* client_env_proxy - the proxy's address, when it has one */
void    client_env_proxy(SS_CLIENT_ENV *env, const struct sockaddr *proxy,
                                 socklen_t len)
{
    char    host[INET6_ADDRSTRLEN];
    char    port[8];

    if (len == 0
        || addr_numeric(proxy, len, host, sizeof(host), port, sizeof(port)) < 0)
        return;
    client_env_set(env, "PROXYREMOTEIP=%s", host);
    client_env_set(env, "PROXYREMOTEPORT=%s", port);
}

/* client_env_unix - the UNIX set, with the peer's credentials */
void    client_env_unix(SS_CLIENT_ENV *env, const char *local_path, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    client_env_clear(env);
    client_env_set(env, "PROTO=UNIX");
    client_env_set(env, "UNIXLOCALPATH=%s", local_path);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        client_env_set(env, "UNIXREMOTEEUID=%u", (unsigned) cred.uid);
        client_env_set(env, "UNIXREMOTEEGID=%u", (unsigned) cred.gid);
        client_env_set(env, "UNIXREMOTEPID=%ld", (long) cred.pid);
    }
}

/* client_env_from_fd - describe whatever fd is connected to */
void    client_env_from_fd(SS_CLIENT_ENV *env, int fd)
{
    struct sockaddr_storage local;
    struct sockaddr_storage peer;
    socklen_t llen = sizeof(local);
    socklen_t plen = sizeof(peer);
    char    host[INET6_ADDRSTRLEN];
    char    port[8];
    char    path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 1];

    client_env_clear(env);
    if (getsockname(fd, (struct sockaddr *) &local, &llen) < 0
        || getpeername(fd, (struct sockaddr *) &peer, &plen) < 0)
        return;
    if (local.ss_family == AF_UNIX) {
        addr_unix_path((struct sockaddr *) &local, llen, path, sizeof(path));
        client_env_unix(env, path, fd);
    } else if (addr_numeric((struct sockaddr *) &local, llen, host,
                            sizeof(host), port, sizeof(port)) == 0) {
        client_env_tcp(env, host, port, (struct sockaddr *) &peer, plen);
    }
}
