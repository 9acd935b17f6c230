/*
 * fuzz_handover.c - libFuzzer target for the re-execution handover line
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_handover.c lib/handover.c lib/conv.c lib/mymalloc.c \
 *	    t/fuzz/fuzz_msg.c -o fuzz_handover
 *	mkdir -p corpus && ./fuzz_handover -max_total_time=60 corpus
 *
 * The same bytes are used three times. First as the text of the variable (up
 * to the first null byte), to handover_parse(): a refusal leaves the
 * state empty and says 'SINGLE_SERVER_HANDOVER: ...' in one line; what
 * is accepted keeps handover.h's bounds (pids above 1, descriptors from
 * 3 to HANDOVER_FD_MAX or -1 where none is allowed, times from -1 or 0
 * to the longest time parameter, at most HANDOVER_ITEMS_MAX items, one
 * of three families), and handover_format() writes it as a line that
 * parses back to the same state and formats the same again.
 *
 * Second as the text of SINGLE_SERVER_LINGERING, to
 * handover_parse_lingering(): refused in one line naming that variable,
 * nothing taken; or lingering clients within the bounds, which
 * handover_format_lingering() writes back to be read the same.
 *
 * Third as the numbers of a state, each taken within the bounds the
 * parser accepts (a byte may pick either end), made the way the server
 * makes one (handover_add_child() and friends), some clients lingering:
 * handover_format() and handover_format_lingering() must write what
 * handover_parse() and handover_parse_lingering() read back equal, field
 * by field.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handover.h"
#include "mymalloc.h"

#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#define FUZZ_PID_MAX    0x7fffffffL
#define FUZZ_MS_MAX     (1000L * INT_MAX)
#define FUZZ_ITEMS      40              /* of each kind, from bytes */

/* fuzz_empty - the state a refusal leaves */
static int fuzz_empty(const HANDOVER *st)
{
    return (st->pid == 0 && st->served == 0 && st->refused == 0
            && st->stderr_closed == 0 && st->flow_fd == -1
            && st->children == 0 && st->nchildren == 0
            && st->clients == 0 && st->nclients == 0
            && st->sources == 0 && st->nsources == 0);
}

/* fuzz_fd - a descriptor the line may carry */
static int fuzz_fd(long fd, int none_ok)
{
    return ((none_ok && fd == -1) || (fd >= 3 && fd <= HANDOVER_FD_MAX));
}

/* fuzz_bounds - an accepted state is within handover.h's bounds */
static void fuzz_bounds(const HANDOVER *st)
{
    const HANDOVER_CHILD *cp;
    const HANDOVER_CLIENT *pp;
    const HANDOVER_SOURCE *sp;
    size_t  i;

    FUZZ_ASSERT(st->pid >= 2 && st->served >= 0 && st->refused >= 0);
    FUZZ_ASSERT(st->stderr_closed == 0 || st->stderr_closed == 1);
    FUZZ_ASSERT(fuzz_fd(st->flow_fd, 1));
    FUZZ_ASSERT(st->nchildren + st->nclients + st->nsources
                <= HANDOVER_ITEMS_MAX);
    for (i = 0; i < st->nchildren; i++) {
        cp = st->children + i;
        FUZZ_ASSERT(cp->pid >= 2 && cp->timer_ms >= -1
                    && cp->timer_ms <= FUZZ_MS_MAX);
        FUZZ_ASSERT(cp->killing == 0 || cp->killing == 1);
        FUZZ_ASSERT(cp->reaped == 0 || cp->reaped == 1);
        FUZZ_ASSERT(fuzz_fd(cp->log_fd, 1));
        if (cp->reaped && cp->log_fd >= 0)     /* l= */
            FUZZ_ASSERT(cp->timer_ms == -1 && cp->killing == 0);
        if (cp->reaped && cp->log_fd < 0)      /* k= */
            FUZZ_ASSERT(cp->timer_ms >= 0 && cp->killing == 1);
    }
    for (i = 0; i < st->nclients; i++) {
        pp = st->clients + i;
        FUZZ_ASSERT(fuzz_fd(pp->fd, 0));
        FUZZ_ASSERT(pp->pause_ms >= 0 && pp->pause_ms <= FUZZ_MS_MAX);
        FUZZ_ASSERT(pp->listener >= 0 && pp->listener <= HANDOVER_ITEMS_MAX);
        FUZZ_ASSERT(pp->header == 0 || pp->header == 1);
        FUZZ_ASSERT((pp->linger == 0 || pp->linger == 1)
                    && !(pp->header && pp->linger));
    }
    for (i = 0; i < st->nsources; i++) {
        sp = st->sources + i;
        FUZZ_ASSERT(sp->pid >= 2);
        FUZZ_ASSERT(sp->key.family == AF_INET || sp->key.family == AF_INET6
                    || sp->key.family == AF_UNIX);
    }
}

/* fuzz_equal - field by field (the structs have padding) */
static void fuzz_equal(const HANDOVER *a, const HANDOVER *b)
{
    const HANDOVER_CHILD *ca;
    const HANDOVER_CHILD *cb;
    const HANDOVER_CLIENT *pa;
    const HANDOVER_CLIENT *pb;
    size_t  i;
    size_t  j;

    FUZZ_ASSERT(a->pid == b->pid && a->served == b->served
                && a->refused == b->refused
                && a->stderr_closed == b->stderr_closed
                && a->flow_fd == b->flow_fd);
    FUZZ_ASSERT(a->nchildren == b->nchildren && a->nclients == b->nclients
                && a->nsources == b->nsources);
    for (i = 0; i < a->nchildren; i++) {
        ca = a->children + i;
        cb = b->children + i;
        FUZZ_ASSERT(ca->pid == cb->pid && ca->timer_ms == cb->timer_ms
                    && ca->killing == cb->killing && ca->log_fd == cb->log_fd
                    && ca->reaped == cb->reaped);
    }
    /* Lingering clients come back after the others (their own variable). */
    for (i = j = 0; i < a->nclients; i++) {
        pa = a->clients + i;
        if (pa->linger)
            continue;
        pb = b->clients + j++;
        FUZZ_ASSERT(pa->fd == pb->fd && pa->pause_ms == pb->pause_ms
                    && pa->listener == pb->listener
                    && pa->header == pb->header && !pb->linger);
    }
    for (i = 0; i < a->nclients; i++) {
        pa = a->clients + i;
        if (!pa->linger)
            continue;
        pb = b->clients + j++;
        FUZZ_ASSERT(pa->fd == pb->fd && pa->pause_ms == pb->pause_ms
                    && pa->listener == pb->listener && pb->linger);
    }
    for (i = 0; i < a->nsources; i++) {
        FUZZ_ASSERT(a->sources[i].pid == b->sources[i].pid
                    && a->sources[i].key.family == b->sources[i].key.family
                    && memcmp(a->sources[i].key.addr, b->sources[i].key.addr,
                              sizeof(a->sources[i].key.addr)) == 0);
    }
}

/*
 * fuzz_round_trip - format (the line, and the lingering clients' own
 * variable), parse back: the same state, the same text
 */
static void fuzz_round_trip(const HANDOVER *st)
{
    char   *text = handover_format(st);
    char   *lingering = handover_format_lingering(st);
    char   *again;
    char   *err = 0;
    HANDOVER back;

    if (handover_parse(text, &back, &err) != 0
        || (lingering && handover_parse_lingering(lingering, &back, &err) != 0)) {
        fprintf(stderr, "fuzz: handover_format() wrote \"%s\" and \"%s\", "
                "refused: %s\n", text, lingering ? lingering : "", err);
        abort();
    }
    FUZZ_ASSERT(err == 0);
    fuzz_equal(st, &back);
    again = handover_format(&back);
    FUZZ_ASSERT(strcmp(text, again) == 0);
    myfree(again);
    again = handover_format_lingering(&back);
    FUZZ_ASSERT((lingering == 0) == (again == 0));
    FUZZ_ASSERT(lingering == 0 || strcmp(lingering, again) == 0);
    handover_free(&back);
    myfree(again);
    myfree(lingering);
    myfree(text);
}

/*
 * fuzz_lingering - the bytes as the lingering clients' variable: refused
 * in one line naming it, nothing taken; or clients that all linger,
 * within bounds, written and read back the same
 */
static void fuzz_lingering(const char *text)
{
    HANDOVER st = {.pid = 2, .flow_fd = -1};
    char   *err = 0;
    size_t  i;

    if (handover_parse_lingering(text, &st, &err) != 0) {
        FUZZ_ASSERT(err != 0 && strchr(err, '\n') == 0);
        FUZZ_ASSERT(strncmp(err, HANDOVER_LINGER_ENV ": ",
                            sizeof(HANDOVER_LINGER_ENV) + 1) == 0);
        FUZZ_ASSERT(st.nclients == 0);
        myfree(err);
    } else {
        FUZZ_ASSERT(err == 0 && st.nclients > 0);
        fuzz_bounds(&st);
        for (i = 0; i < st.nclients; i++)
            FUZZ_ASSERT(st.clients[i].linger && !st.clients[i].header);
        fuzz_round_trip(&st);
    }
    handover_free(&st);
}

/* fuzz_text - the bytes as the variable's text */
static void fuzz_text(const uint8_t *data, size_t size)
{
    char   *text = mystrndup((const char *) data, size);
    char   *err = 0;
    HANDOVER st;

    if (handover_parse(text, &st, &err) != 0) {
        FUZZ_ASSERT(err != 0 && strchr(err, '\n') == 0);
        FUZZ_ASSERT(strncmp(err, HANDOVER_ENV ": ", sizeof(HANDOVER_ENV) + 1)
                    == 0);
        FUZZ_ASSERT(fuzz_empty(&st));
        myfree(err);
    } else {
        FUZZ_ASSERT(err == 0);
        fuzz_bounds(&st);
        fuzz_round_trip(&st);
        handover_free(&st);
        FUZZ_ASSERT(fuzz_empty(&st));
    }
    fuzz_lingering(text);
    myfree(text);
}

/* A reader of bytes that yields zeros when they run out. */
typedef struct FUZZ_BYTES {
    const uint8_t *data;
    size_t  size;
} FUZZ_BYTES;

/* fuzz_byte - the next byte */
static unsigned fuzz_byte(FUZZ_BYTES *in)
{
    if (in->size == 0)
        return (0);
    in->size--;
    return (*in->data++);
}

/* fuzz_long - a number within [min, max]: either end, or from 8 bytes */
static long fuzz_long(FUZZ_BYTES *in, long min, long max)
{
    unsigned pick = fuzz_byte(in) % 4;
    uint64_t raw = 0;
    uint64_t span = (uint64_t) max - (uint64_t) min;
    int     i;

    if (pick == 0)
        return (min);
    if (pick == 1)
        return (max);
    for (i = 0; i < 8; i++)
        raw = raw << 8 | fuzz_byte(in);
    if (span != UINT64_MAX)
        raw %= span + 1;
    return ((long) ((uint64_t) min + raw));
}

/* fuzz_fd_from - a descriptor, or -1 where none is allowed */
static int fuzz_fd_from(FUZZ_BYTES *in, int none_ok)
{
    if (none_ok && fuzz_byte(in) % 2)
        return (-1);
    return ((int) fuzz_long(in, 3, HANDOVER_FD_MAX));
}

/* fuzz_state - the bytes as the numbers of a state, made as the server does */
static void fuzz_state(const uint8_t *data, size_t size)
{
    static const int families[] = {AF_INET, AF_INET6, AF_UNIX};
    FUZZ_BYTES in = {data, size};
    HANDOVER st = {0};
    HANDOVER_CHILD child;
    HANDOVER_CLIENT client;
    HANDOVER_SOURCE source;
    unsigned n;
    size_t  k;

    st.pid = (pid_t) fuzz_long(&in, 2, FUZZ_PID_MAX);
    st.served = fuzz_long(&in, 0, LONG_MAX);
    st.refused = fuzz_long(&in, 0, LONG_MAX);
    st.stderr_closed = fuzz_byte(&in) % 2;
    st.flow_fd = fuzz_fd_from(&in, 1);
    for (n = fuzz_byte(&in) % FUZZ_ITEMS; n > 0; n--) {
        child.pid = (pid_t) fuzz_long(&in, 2, FUZZ_PID_MAX);
        switch (fuzz_byte(&in) % 3) {
        case 0:                                 /* running: h= */
            child.timer_ms = fuzz_long(&in, -1, FUZZ_MS_MAX);
            child.killing = fuzz_byte(&in) % 2;
            child.log_fd = fuzz_fd_from(&in, 1);
            child.reaped = 0;
            break;
        case 1:                                 /* its pipe left: l= */
            child.timer_ms = -1;
            child.killing = 0;
            child.log_fd = fuzz_fd_from(&in, 0);
            child.reaped = 1;
            break;
        default:                                /* SIGKILL due: k= */
            child.timer_ms = fuzz_long(&in, 0, FUZZ_MS_MAX);
            child.killing = 1;
            child.log_fd = -1;
            child.reaped = 1;
            break;
        }
        handover_add_child(&st, &child);
    }
    for (n = fuzz_byte(&in) % FUZZ_ITEMS; n > 0; n--) {
        client.fd = fuzz_fd_from(&in, 0);
        client.pause_ms = fuzz_long(&in, 0, FUZZ_MS_MAX);
        client.listener = (int) fuzz_long(&in, 0, HANDOVER_ITEMS_MAX);
        client.header = fuzz_byte(&in) % 3;
        client.linger = client.header == 2;
        client.header = client.header == 1;
        handover_add_client(&st, &client);
    }
    for (n = fuzz_byte(&in) % FUZZ_ITEMS; n > 0; n--) {
        memset(&source, 0, sizeof(source));
        source.pid = (pid_t) fuzz_long(&in, 2, FUZZ_PID_MAX);
        source.key.family = families[fuzz_byte(&in) % 3];
        for (k = 0; k < sizeof(source.key.addr); k++)
            source.key.addr[k] = (unsigned char) fuzz_byte(&in);
        handover_add_source(&st, &source);
    }
    fuzz_bounds(&st);
    fuzz_round_trip(&st);
    handover_free(&st);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_text(data, size);
    fuzz_state(data, size);
    return (0);
}
