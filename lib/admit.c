/*
 * admit.c - the admission step: access rules, applied to each new client
 *
 * The rules are parsed once (access.c, a pure parser and a prefix tree);
 * what is done here per client is one lookup, and for a denial one
 * non-blocking write and a log line that a flood cannot multiply: at
 * most one a second per source, with the count of those held back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "addr.h"
#include "admit.h"
#include "client_env.h"
#include "handover.h"
#include "msg.h"
#include "mymalloc.h"
#include "param.h"
#include "persource.h"

#define ADMIT_LOG_SLOTS 256             /* sources remembered for the log */
#define ADMIT_NOTE_VERB "no host name for"     /* admit_note()'s lines */
#define ADMIT_SOURCE_LEN (2 * INET6_ADDRSTRLEN + 16)   /* "CLIENT via PROXY" */

/* Every assignment of a rule finds a place in a client's variables. */
_Static_assert(ACCESS_ENV_MAX <= SS_CLIENT_ENV_RULE_MAX, "rule env fits");

typedef struct ADMIT_LOG_SLOT {
    char    source[ADMIT_SOURCE_LEN];   /* "CLIENT via PROXY" */
    time_t  second;                     /* when it was last logged */
    long    held;                       /* denials not logged since */
    int     note;                       /* admit_note()'s, not a refusal */
} ADMIT_LOG_SLOT;

struct ADMIT {
    ACCESS *rules;                      /* or null: everyone */
    long    limit;                      /* per_source_limit, 0 = none */
    int     v6_prefix;                  /* per_source_ipv6_prefix */
    const char *limit_message;          /* per_source_message, or null */
    PERSOURCE *sources;                 /* with a limit */
    ADMIT_LOG_SLOT *log;                /* ADMIT_LOG_SLOTS, at 1st denial */
};

/* admit_open - the rules and the per-source limit */
ADMIT  *admit_open(const char *rules_path, long limit, int v6_prefix,
                           const char *limit_message)
{
    ACCESS *rules = 0;
    ADMIT  *admit;
    char   *err;

    /* Before anything is allocated: a bad file ends the process. */
    if (rules_path && *rules_path && (rules = access_read(rules_path, &err)) == 0)
        ss_msg_usage("%s: %s", param_where("access_rules"), err);
    admit = mycalloc(1, sizeof(*admit));
    admit->rules = rules;
    admit->limit = limit;
    admit->v6_prefix = v6_prefix;
    admit->limit_message = limit_message && *limit_message ? limit_message : 0;
    if (limit > 0)
        admit->sources = persource_create();
    return (admit);
}

/* admit_free - forget the rules */
void    admit_free(ADMIT *admit)
{
    access_free(admit->rules);
    persource_free(admit->sources);
    myfree(admit->log);
    myfree(admit);
}

/* admit_uid - a unix peer's uid, or -1 */
static long admit_uid(const SINGLE_SERVER_CLIENT *client)
{
    struct ucred cred;
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);

    /* Without the peer's address (it left already), ask our end. */
    if (client->peer_len > 0 ? client->peer.ss_family != AF_UNIX
        : getsockname(client->in_fd, (struct sockaddr *) &local, &len) < 0
        || local.ss_family != AF_UNIX)
        return (-1);
    len = sizeof(cred);
    if (getsockopt(client->in_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0
        || cred.uid == (uid_t) -1)
        return (-1);
    return ((long) cred.uid);
}

/* admit_via - behind a proxy, logs name both: "CLIENT via PROXY" */
static void admit_via(const SINGLE_SERVER_CLIENT *client, char *buf,
                              size_t len)
{
    char    host[INET6_ADDRSTRLEN];
    char    port[8];
    size_t  used = strlen(buf);

    /* A header that kept the connection's addresses names one. */
    if (client->proxy_len > 0
        && !(client->proxy_len == client->peer_len
             && memcmp(&client->proxy, &client->peer, client->peer_len) == 0)
        && addr_numeric((const struct sockaddr *) &client->proxy,
                        client->proxy_len, host, sizeof(host), port,
                        sizeof(port)) == 0 && used < len)
        snprintf(buf + used, len - used, " via %s", host);
}

/* admit_source - the client as logs name it: address, or unix uid */
static void admit_source(const SINGLE_SERVER_CLIENT *client, long uid,
                                 char *buf, size_t len)
{
    char    host[INET6_ADDRSTRLEN];
    char    port[8];

    if (uid >= 0)
        snprintf(buf, len, "unix uid %ld", uid);
    else if (client->peer_len > 0
             && addr_numeric((const struct sockaddr *) &client->peer,
                             client->peer_len, host, sizeof(host), port,
                             sizeof(port)) == 0)
        snprintf(buf, len, "%s", host);
    else
        snprintf(buf, len, "an unknown address");
    admit_via(client, buf, len);
}

/*
 * admit_log - a denial, logged at most once a second per source. The
 * slot is chosen by a hash of the source: two sources that share one
 * only make each other log a little more often. A note (admit_note())
 * has slots of its own, so that it never hides the refusal that follows.
 */
static void admit_log(ADMIT *admit, const char *verb, const char *source,
                              const char *service, const char *why)
{
    ADMIT_LOG_SLOT *slot;
    int     note = strcmp(verb, ADMIT_NOTE_VERB) == 0;
    unsigned hash = note ? 7919 : 5381;
    const char *cp;
    time_t  now = time(0);

    /* 32 kB that most servers never refuse anyone with: not at start. */
    if (admit->log == 0)
        admit->log = mycalloc(ADMIT_LOG_SLOTS, sizeof(*admit->log));
    for (cp = source; *cp; cp++)
        hash = hash * 33 + (unsigned char) *cp;
    slot = admit->log + hash % ADMIT_LOG_SLOTS;
    if (slot->note != note) {           /* the other kind's: taken over */
        slot->source[0] = 0;
        slot->note = note;
    }
    if (strcmp(slot->source, source) == 0 && slot->second == now) {
        slot->held++;
        return;
    }
    if (strcmp(slot->source, source) == 0 && slot->held > 0)
        ss_msg_info("service %s: %s %s (%s); %ld more since, not logged",
                    service, verb, source, why, slot->held);
    else
        ss_msg_info("service %s: %s %s (%s)", service, verb, source, why);
    snprintf(slot->source, sizeof(slot->source), "%s", source);
    slot->second = now;
    slot->held = 0;
}

/* admit_refused - a client refused for a reason of the caller's */
void    admit_refused(ADMIT *admit, const SINGLE_SERVER_CLIENT *client,
                              const char *why)
{
    char    source[ADMIT_SOURCE_LEN];

    admit_source(client, -1, source, sizeof(source));
    admit_log(admit, "refuse", source, client->service_name, why);
}

/* admit_note - something else said of a client, as a refusal is said */
void    admit_note(ADMIT *admit, const SINGLE_SERVER_CLIENT *client,
                           const char *text)
{
    char    source[ADMIT_SOURCE_LEN];

    admit_source(client, -1, source, sizeof(source));
    admit_log(admit, ADMIT_NOTE_VERB, source, client->service_name, text);
}

/* admit_header_refused - a client refused for its PROXY header */
void    admit_header_refused(ADMIT *admit, const SINGLE_SERVER_CLIENT *client,
                                     const char *why)
{
    char    source[ADMIT_SOURCE_LEN];
    char    text[100];

    admit_source(client, -1, source, sizeof(source));
    snprintf(text, sizeof(text), "PROXY header: %s", why);
    admit_log(admit, "refuse", source, client->service_name, text);
}

/*
 * admit_drain - read and drop what the client sent, adding the count to
 * *total: 0 at its end (or an error), 1 when more may come
 */
int     admit_drain(int fd, size_t *total)
{
    char    buf[4096];
    ssize_t got;
    int     n;

    for (n = 0; n < 16; n++) {
        if ((got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
            return (got == 0 || (errno != EAGAIN && errno != EINTR) ? 0 : 1);
        *total += (size_t) got;
    }
    return (1);
}

static int admit_quiet;

/* admit_no_messages - TLS is on: a refused client gets no message */
void    admit_no_messages(void)
{
    admit_quiet = 1;
}

/* admit_deny_write - the message, without waiting; what does not fit is lost */
static void admit_deny_write(int fd, const char *message)
{
    if (admit_quiet)                    /* a TLS port: no plaintext */
        return;
    struct iovec iov[2];
    struct msghdr msg;

    iov[0].iov_base = (void *) message;
    iov[0].iov_len = strlen(message);
    iov[1].iov_base = "\r\n";
    iov[1].iov_len = 2;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    /* A pipe (stream mode by hand) is no socket: write it plainly. */
    if (sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == ENOTSOCK
        && writev(fd, iov, 2) < 0)
        return;                         /* lost, as a full buffer's would be */
}

/* admit_has_names - do the rules name hosts? */
int     admit_has_names(const ADMIT *admit)
{
    return (admit->rules != 0 && access_has_names(admit->rules));
}

/*
 * admit_wants_name - do the rules need the client's name? 1: no address
 * rule but "*" decides and there are name rules; -1: it is denied,
 * whatever its name; 0: its name changes nothing
 */
int     admit_wants_name(const ADMIT *admit, const SINGLE_SERVER_CLIENT *client)
{
    const ACCESS_RULE *rule;
    int     family = client->peer.ss_family;

    if (admit->rules == 0 || client->peer_len == 0
        || (family != AF_INET && family != AF_INET6))
        return (0);
    rule = access_match(admit->rules, (const struct sockaddr *) &client->peer,
                        client->peer_len, -1);
    if ((rule == 0 || rule->any) && access_has_names(admit->rules))
        return (1);
    return (rule == 0 || !rule->allow ? -1 : 0);
}

/* admit_rules - the access rules' verdict: 1 admitted, 0 denied */
static int admit_rules(ADMIT *admit, SINGLE_SERVER_CLIENT *client,
                               const char *name, long uid)
{
    const ACCESS_RULE *rule;
    const ACCESS_RULE *by_name;
    char    source[ADMIT_SOURCE_LEN];
    char    why[32];

    rule = access_match(admit->rules, (const struct sockaddr *) &client->peer,
                        client->peer_len, uid);
    /* A name decides only where no address rule but "*" did. */
    if (name && (rule == 0 || rule->any)
        && (by_name = access_match_name(admit->rules, name)) != 0)
        rule = by_name;
    if (rule && rule->allow) {
        client_env_rule(&client->env, rule->env);
        return (1);
    }
    if (rule && rule->message)
        admit_deny_write(client->out_fd, rule->message);
    admit_source(client, uid, source, sizeof(source));
    if (rule)
        snprintf(why, sizeof(why), "rule on line %d", rule->line);
    else
        snprintf(why, sizeof(why), "no rule matches");
    admit_log(admit, "deny", source, client->service_name, why);
    return (0);
}

/* admit_limit - a slot under per_source_limit: 1 taken, 0 refused */
static int admit_limit(ADMIT *admit, SINGLE_SERVER_CLIENT *client, long uid,
                               ADMIT_TICKET *ticket)
{
    char    source[ADMIT_SOURCE_LEN];
    char    why[48];

    if (persource_key((const struct sockaddr *) &client->peer,
                      client->peer_len, uid, admit->v6_prefix,
                      &ticket->key) < 0)
        return (1);                     /* no source to count */
    if (persource_take(admit->sources, &ticket->key, admit->limit)) {
        ticket->held = 1;
        return (1);
    }
    if (admit->limit_message)
        admit_deny_write(client->out_fd, admit->limit_message);
    persource_text(&ticket->key, admit->v6_prefix, source, sizeof(source));
    admit_via(client, source, sizeof(source));
    snprintf(why, sizeof(why), "per_source_limit %ld reached", admit->limit);
    admit_log(admit, "refuse", source, client->service_name, why);
    return (0);
}

/* admit_client - judge one client: 1 admitted, 0 denied or refused */
int     admit_client(ADMIT *admit, SINGLE_SERVER_CLIENT *client,
                             const char *name, ADMIT_TICKET *ticket)
{
    long    uid;

    if (ticket)
        ticket->held = 0;
    if (admit->rules == 0 && admit->sources == 0)
        return (1);                     /* no system call for nothing */
    uid = admit_uid(client);
    if (admit->rules && !admit_rules(admit, client, name, uid))
        return (0);
    if (ticket && admit->sources && !admit_limit(admit, client, uid, ticket))
        return (0);
    return (1);
}

/* admit_bind - the handler pid holds the ticket's slot from now on */
void    admit_bind(ADMIT *admit, long pid, ADMIT_TICKET *ticket)
{
    if (ticket->held)
        persource_bind(admit->sources, pid, &ticket->key);
    ticket->held = 0;
}

/* admit_release - a client that got no handler gives its slot back */
void    admit_release(ADMIT *admit, ADMIT_TICKET *ticket)
{
    if (ticket->held)
        persource_release(admit->sources, &ticket->key);
    ticket->held = 0;
}

/* admit_reap - a handler ended, however: its slot is free */
void    admit_reap(ADMIT *admit, long pid)
{
    if (admit->sources)
        persource_reap(admit->sources, pid);
}

/* admit_export_one - one slot, for the next image */
static void admit_export_one(long pid, const PERSOURCE_KEY *key, void *context)
{
    HANDOVER_SOURCE source = {(pid_t) pid, *key};

    handover_add_source(context, &source);
}

/* admit_export - the slots held by handlers, into a handover */
size_t  admit_export(const ADMIT *admit, HANDOVER *state)
{
    return (admit->sources ? persource_each(admit->sources, state ?
                                            admit_export_one : 0, state) : 0);
}

/*
 * admit_import - the slots the previous image's handlers hold: counted
 * again, whatever the limit is now, and freed when they are reaped
 */
void    admit_import(ADMIT *admit, const HANDOVER *state)
{
    size_t  i;

    for (i = 0; admit->sources && i < state->nsources; i++) {
        (void) persource_take(admit->sources, &state->sources[i].key, 0);
        persource_bind(admit->sources, (long) state->sources[i].pid,
                       &state->sources[i].key);
    }
}
