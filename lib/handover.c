/*
 * handover.c - what one image of a server passes to the next across execve()
 *
 * Text in the environment rather than a pipe or a file: it needs no
 * descriptor of its own, survives execve() by itself, and is small (a
 * few dozen bytes per handler). The parser trusts nothing: the variable
 * could have been set by whoever started us.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sys/socket.h>

#include "conv.h"
#include "handover.h"
#include "mymalloc.h"

#define HANDOVER_MS_MAX  (1000L * INT_MAX)  /* the longest time parameter */

/* handover_add_child - append a handler (or an orphaned stderr pipe) */
void    handover_add_child(HANDOVER *state, const HANDOVER_CHILD *child)
{
    state->children = myrealloc(state->children, (state->nchildren + 1)
                                * sizeof(*child));
    state->children[state->nchildren++] = *child;
}

/* handover_add_client - append a client in its in-flow pause */
void    handover_add_client(HANDOVER *state, const HANDOVER_CLIENT *client)
{
    state->clients = myrealloc(state->clients, (state->nclients + 1)
                               * sizeof(*client));
    state->clients[state->nclients++] = *client;
}

/* handover_add_source - append a per-source slot held by a handler */
void    handover_add_source(HANDOVER *state, const HANDOVER_SOURCE *source)
{
    state->sources = myrealloc(state->sources, (state->nsources + 1)
                               * sizeof(*source));
    state->sources[state->nsources++] = *source;
}

/*
 * handover_format - the state as one line of text
 *
 * The buffer holds the longest line any state gives, each number printed
 * in full (a long takes up to 20 characters, an int or a pid_t 11): what
 * comes before the items ("v1", pid=, served=, refused=, stderr_closed=1
 * and flow=) takes at most 108 bytes, and an item at most 59.
 */
#define HANDOVER_HEAD_MAX   128
#define HANDOVER_ITEM_MAX   64

char   *handover_format(const HANDOVER *state)
{
    size_t  size = HANDOVER_HEAD_MAX + HANDOVER_ITEM_MAX
    * (state->nchildren + state->nclients + state->nsources);
    char   *buf = mymalloc(size);
    size_t  len;
    size_t  i;
    const HANDOVER_CHILD *cp;
    const HANDOVER_CLIENT *pp;
    const HANDOVER_SOURCE *sp;
    size_t  k;

    len = snprintf(buf, size, "v1 pid=%ld served=%ld", (long) state->pid,
                   state->served);
    if (state->refused)
        len += snprintf(buf + len, size - len, " refused=%ld", state->refused);
    if (state->stderr_closed)
        len += snprintf(buf + len, size - len, " stderr_closed=1");
    if (state->flow_fd >= 0)
        len += snprintf(buf + len, size - len, " flow=%d", state->flow_fd);
    for (i = 0; i < state->nchildren; i++) {
        cp = state->children + i;
        if (cp->reaped && cp->log_fd >= 0)
            len += snprintf(buf + len, size - len, " l=%ld,%d",
                            (long) cp->pid, cp->log_fd);
        else if (cp->reaped)
            len += snprintf(buf + len, size - len, " k=%ld,%ld",
                            (long) cp->pid, cp->timer_ms);
        else
            len += snprintf(buf + len, size - len, " h=%ld,%ld,%d,%d",
                            (long) cp->pid, cp->timer_ms, cp->killing,
                            cp->log_fd);
    }
    for (i = 0; i < state->nclients; i++) {
        if ((pp = state->clients + i)->linger)
            continue;                   /* handover_format_lingering() */
        len += snprintf(buf + len, size - len, " %s=%d,%ld,%d",
                        pp->header ? "x" : pp->lookup ? "n" : "p", pp->fd,
                        pp->pause_ms,
                        pp->listener);
    }
    for (i = 0; i < state->nsources; i++) {
        sp = state->sources + i;
        len += snprintf(buf + len, size - len, " s=%ld,%d,",
                        (long) sp->pid, sp->key.family);
        for (k = 0; k < sizeof(sp->key.addr); k++)
            len += snprintf(buf + len, size - len, "%02x", sp->key.addr[k]);
    }
    return (buf);
}

/* handover_hex - a lowercase hex digit's value, or -1 */
static int handover_hex(int c)
{
    return (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : -1);
}

/* handover_numbers - "a,b,c" into n longs within [min[i], max[i]] */
static int handover_numbers(char *text, int n, const long *min,
                                    const long *max, long *out)
{
    char   *field;
    int     i;

    for (i = 0; i < n; i++) {
        if ((field = strsep(&text, ",")) == 0
            || conv_long(field, min[i], max[i], out + i) != CONV_OK)
            return (-1);
    }
    return (text == 0 ? 0 : -1);        /* nothing may follow */
}

/* handover_source - "PID,FAMILY,HEX" into a source; -1 if bad */
static int handover_source(char *text, HANDOVER_SOURCE *sp)
{
    static const long min[] = {2, 1};
    static const long max[] = {0x7fffffff, 64};
    char   *hex = strrchr(text, ',');
    long    v[2];
    size_t  i;
    int     hi;
    int     lo;

    if (hex == 0)
        return (-1);
    *hex++ = 0;
    if (handover_numbers(text, 2, min, max, v) < 0
        || (v[1] != AF_INET && v[1] != AF_INET6 && v[1] != AF_UNIX)
        || strlen(hex) != 2 * sizeof(sp->key.addr))
        return (-1);
    memset(sp, 0, sizeof(*sp));
    sp->pid = (pid_t) v[0];
    sp->key.family = (int) v[1];
    for (i = 0; i < sizeof(sp->key.addr); i++) {
        if ((hi = handover_hex(hex[2 * i])) < 0
            || (lo = handover_hex(hex[2 * i + 1])) < 0)
            return (-1);
        sp->key.addr[i] = (unsigned char) (hi << 4 | lo);
    }
    return (0);
}

/* A client's three numbers: its connection, milliseconds, its listener. */
static const long p_min[] = {3, 0, 0};
static const long p_max[] = {HANDOVER_FD_MAX, HANDOVER_MS_MAX, HANDOVER_ITEMS_MAX};

/* handover_item - one "name=value" item into state; -1 if bad */
static int handover_item(char *item, HANDOVER *state)
{
    static const long h_min[] = {2, -1, 0, -1};
    static const long h_max[] = {0x7fffffff, HANDOVER_MS_MAX, 1, HANDOVER_FD_MAX};
    static const long l_min[] = {2, 3};
    static const long l_max[] = {0x7fffffff, HANDOVER_FD_MAX};
    static const long k_min[] = {2, 0};
    static const long k_max[] = {0x7fffffff, HANDOVER_MS_MAX};
    long    v[4];
    HANDOVER_CHILD child;
    HANDOVER_CLIENT client;
    HANDOVER_SOURCE source;

    if (strncmp(item, "h=", 2) == 0 && handover_numbers(item + 2, 4, h_min, h_max, v) == 0
        && (v[3] == -1 || v[3] >= 3)) {
        child = (HANDOVER_CHILD) {(pid_t) v[0], v[1], (int) v[2], (int) v[3], 0};
        handover_add_child(state, &child);
    } else if (strncmp(item, "l=", 2) == 0
               && handover_numbers(item + 2, 2, l_min, l_max, v) == 0) {
        child = (HANDOVER_CHILD) {(pid_t) v[0], -1, 0, (int) v[1], 1};
        handover_add_child(state, &child);
    } else if (strncmp(item, "k=", 2) == 0
               && handover_numbers(item + 2, 2, k_min, k_max, v) == 0) {
        child = (HANDOVER_CHILD) {(pid_t) v[0], v[1], 1, -1, 1};
        handover_add_child(state, &child);
    } else if (strncmp(item, "s=", 2) == 0 && handover_source(item + 2, &source) == 0) {
        handover_add_source(state, &source);
    } else if (strcmp(item, "stderr_closed=1") == 0) {
        state->stderr_closed = 1;
    } else if ((strncmp(item, "p=", 2) == 0 || strncmp(item, "x=", 2) == 0
                || strncmp(item, "n=", 2) == 0)
               && handover_numbers(item + 2, 3, p_min, p_max, v) == 0) {
        client = (HANDOVER_CLIENT) {(int) v[0], v[1], (int) v[2], *item == 'x',
        0, *item == 'n'};
        handover_add_client(state, &client);
    } else if (strncmp(item, "pid=", 4) == 0 && state->pid == 0
               && conv_long(item + 4, 2, 0x7fffffff, v) == CONV_OK) {
        state->pid = (pid_t) v[0];
    } else if (strncmp(item, "served=", 7) == 0
               && conv_long(item + 7, 0, LONG_MAX, v) == CONV_OK) {
        state->served = v[0];
    } else if (strncmp(item, "refused=", 8) == 0
               && conv_long(item + 8, 1, LONG_MAX, v) == CONV_OK) {
        state->refused = v[0];
    } else if (strncmp(item, "flow=", 5) == 0 && state->flow_fd < 0
               && conv_long(item + 5, 3, HANDOVER_FD_MAX, v) == CONV_OK) {
        state->flow_fd = (int) v[0];
    } else {
        return (-1);
    }
    return (0);
}

/*
 * handover_bad_item - *err names an item: its first 40 bytes, in one line
 * whatever the variable holds (the error is logged)
 */
static void handover_bad_item(const char *var, const char *item, char **err)
{
    char    shown[41];
    size_t  i;

    for (i = 0; i < sizeof(shown) - 1 && item[i]; i++)
        shown[i] = (unsigned char) item[i] < 0x20 || item[i] == 0x7f ?
            '?' : item[i];
    shown[i] = 0;
    *err = myasprintf("%s: bad item \"%s\"", var, shown);
}

/* handover_parse - read the line handover_format() wrote */
int     handover_parse(const char *text, HANDOVER *state, char **err)
{
    char   *copy = mystrdup(text);
    char   *cursor = copy;
    char   *item;
    size_t  count = 0;

    memset(state, 0, sizeof(*state));
    state->flow_fd = -1;
    if ((item = strsep(&cursor, " ")) == 0 || strcmp(item, "v1") != 0) {
        *err = myasprintf("%s: not a version 1 handover", HANDOVER_ENV);
        myfree(copy);
        return (-1);
    }
    while ((item = strsep(&cursor, " ")) != 0) {
        char   *saved = mystrdup(item);

        if (++count > HANDOVER_ITEMS_MAX || handover_item(item, state) < 0) {
            handover_bad_item(HANDOVER_ENV, saved, err);
            myfree(saved);
            myfree(copy);
            handover_free(state);
            return (-1);
        }
        myfree(saved);
    }
    myfree(copy);
    if (state->pid == 0) {
        *err = myasprintf("%s: no pid", HANDOVER_ENV);
        handover_free(state);
        return (-1);
    }
    return (0);
}

/* handover_free - release what the state holds, leave it empty */
void    handover_free(HANDOVER *state)
{
    myfree(state->children);
    myfree(state->clients);
    myfree(state->sources);
    memset(state, 0, sizeof(*state));
    state->flow_fd = -1;
}

/*
 * handover_format_lingering - the lingering clients, "FD,MS,LISTENER"
 * each, space-separated; null when there are none. A variable of their
 * own: an image from before they were handed over ignores it, where it
 * would refuse an item it does not know in the main line, and exit.
 */
char   *handover_format_lingering(const HANDOVER *state)
{
    size_t  size = 1;
    char   *buf;
    size_t  len = 0;
    size_t  i;
    const HANDOVER_CLIENT *pp;

    for (i = 0; i < state->nclients; i++)
        size += state->clients[i].linger ? HANDOVER_ITEM_MAX : 0;
    if (size == 1)
        return (0);
    buf = mymalloc(size);
    buf[0] = 0;
    for (i = 0; i < state->nclients; i++) {
        if (!(pp = state->clients + i)->linger)
            continue;
        len += snprintf(buf + len, size - len, "%s%d,%ld,%d", len ? " " : "",
                        pp->fd, pp->pause_ms, pp->listener);
    }
    return (buf);
}

/*
 * handover_parse_lingering - the lingering clients that
 * handover_format_lingering() wrote, appended to state: 0, or -1 with
 * *err (the state's clients then as they were)
 */
int     handover_parse_lingering(const char *text, HANDOVER *state, char **err)
{
    char   *copy = mystrdup(text);
    char   *cursor = copy;
    char   *item;
    size_t  before = state->nclients;
    size_t  count = 0;
    HANDOVER_CLIENT client;
    long    v[3];

    while ((item = strsep(&cursor, " ")) != 0) {
        char   *saved = mystrdup(item);

        if (++count > HANDOVER_ITEMS_MAX
            || handover_numbers(item, 3, p_min, p_max, v) < 0) {
            handover_bad_item(HANDOVER_LINGER_ENV, saved, err);
            myfree(saved);
            myfree(copy);
            state->nclients = before;
            return (-1);
        }
        myfree(saved);
        client = (HANDOVER_CLIENT) {(int) v[0], v[1], (int) v[2], 0, 1, 0};
        handover_add_client(state, &client);
    }
    myfree(copy);
    return (0);
}
