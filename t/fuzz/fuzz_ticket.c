/*
 * fuzz_ticket.c - libFuzzer target for the TLS relay's tickets
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_ticket.c lib/client_env.c lib/addr.c lib/conv.c \
 *	    lib/mymalloc.c t/fuzz/fuzz_msg.c -o fuzz_ticket
 *	mkdir -p corpus && ./fuzz_ticket -max_total_time=60 corpus
 *
 * A handshake that a relay of a previous image finishes comes back to
 * the new image with the ticket the old one wrote: who the client is
 * (its listener, its addresses, its variables), read by
 * resident_tls_unticket() in lib/resident_tls.c. The relay is a child
 * of ours, but the server checks every length it reads, and this is the
 * check. Both functions are static: this file includes resident_tls.c
 * and stands in for what the rest of it calls (the client table, the
 * relays, the children) with stubs, so that the library needs no change
 * for a test. Only client_new() does something; every other stub abort()s,
 * since reading a ticket must not reach them.
 *
 * The first byte picks how many listeners this image has (0 to 3), the
 * rest is the ticket, in a buffer of exactly its size (ASan: nothing past
 * it is read). A ticket refused makes no client. One accepted makes a
 * client whose listener is one of ours, whose addresses fit their
 * storage, and whose variables are at most SS_CLIENT_ENV_MAX terminated
 * strings, each shorter than SS_CLIENT_ENV_LEN, the list ending in a
 * null. resident_tls_ticket() writes that client as a ticket that reads
 * back to the same listener and addresses, the variables a prefix of its
 * own (a ticket holds RELAYD_TICKET_MAX bytes), and that writes again to
 * the same bytes.
 */
#include "../../lib/resident_tls.c"

#include <stdint.h>
#include <stdio.h>

#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#define FUZZ_LISTENERS  3

/* The stand-ins: a client is made, nothing else is ever called. */

#define FUZZ_NEVER(what) do { \
	fprintf(stderr, "fuzz: reading a ticket called %s\n", (what)); \
	abort(); } while (0)

CLIENT *client_new(CLIENT_TABLE *t, int fd, const SS_LISTENER *lp)
{
    CLIENT *cl = mycalloc(1, sizeof(*cl));

    cl->c.in_fd = cl->c.out_fd = fd;
    cl->c.err_fd = -1;
    cl->c.listener = lp;
    cl->table = t;
    return (cl);
}

CLIENT *client_find(CLIENT_TABLE *t, unsigned long id)
{
    (void) t, (void) id;
    FUZZ_NEVER("client_find");
}

void    client_handshaken(CLIENT *cl, int in, int out, const char *e, size_t n)
{
    (void) cl, (void) in, (void) out, (void) e, (void) n;
    FUZZ_NEVER("client_handshaken");
}

void    client_handshake_failed(CLIENT *cl, const char *why)
{
    (void) cl, (void) why;
    FUZZ_NEVER("client_handshake_failed");
}

void    client_resume_tls(CLIENT *cl, int in, int out, const char *e,
                                  size_t n, const char *why)
{
    (void) cl, (void) in, (void) out, (void) e, (void) n, (void) why;
    FUZZ_NEVER("client_resume_tls");
}

RELAYD *relayd_start(struct event_base *b, TLS_SERVER *tls, long ms,
                             int devnull, int keep_stderr, const int *keep,
                             int n, RELAYD_FN fn, void *c)
{
    (void) b, (void) tls, (void) ms, (void) devnull, (void) keep_stderr;
    (void) keep, (void) n, (void) fn, (void) c;
    FUZZ_NEVER("relayd_start");
}

RELAYD *relayd_adopt(struct event_base *b, pid_t pid, int fd, RELAYD_FN fn,
                             void *c)
{
    (void) b, (void) pid, (void) fd, (void) fn, (void) c;
    FUZZ_NEVER("relayd_adopt");
}

int     relayd_send(RELAYD *rd, unsigned long id, int fd, const void *t,
                            size_t len)
{
    (void) rd, (void) id, (void) fd, (void) t, (void) len;
    FUZZ_NEVER("relayd_send");
}

void    relayd_retire(RELAYD *rd)
{
    (void) rd;
    FUZZ_NEVER("relayd_retire");
}

void    relayd_free(RELAYD *rd)
{
    (void) rd;
    FUZZ_NEVER("relayd_free");
}

void    child_keep(pid_t pid, CHILD_EXIT_FN fn, void *c)
{
    (void) pid, (void) fn, (void) c;
    FUZZ_NEVER("child_keep");
}

void    child_status_text(int status, char *buf, size_t len)
{
    (void) status, (void) buf, (void) len;
    FUZZ_NEVER("child_status_text");
}

void    resident_update(RESIDENT *rs)
{
    (void) rs;
    FUZZ_NEVER("resident_update");
}

void    admit_no_messages(void)
{
    FUZZ_NEVER("admit_no_messages");
}

int     event_base_once(struct event_base *b, evutil_socket_t fd, short what,
                                event_callback_fn fn, void *arg,
                                const struct timeval *tv)
{
    (void) b, (void) fd, (void) what, (void) fn, (void) arg, (void) tv;
    FUZZ_NEVER("event_base_once");
}

int     ss_msg_log_fd(void)
{
    FUZZ_NEVER("ss_msg_log_fd");
}

/* fuzz_client_ok - an accepted ticket's client is within its bounds */
static void fuzz_client_ok(const RESIDENT *rs, const CLIENT *cl)
{
    const SINGLE_SERVER_CLIENT *c = &cl->c;
    const SS_LISTENER_LIST *ls = &rs->sk->listeners;
    int     i;

    FUZZ_ASSERT(c->listener >= ls->items && c->listener < ls->items + ls->count);
    FUZZ_ASSERT(c->peer_len <= sizeof(c->peer));
    FUZZ_ASSERT(c->proxy_len <= sizeof(c->proxy));
    FUZZ_ASSERT(c->env.count >= 0 && c->env.count <= SS_CLIENT_ENV_MAX);
    FUZZ_ASSERT(c->env.nrule == 0 && c->env.ntls == 0);
    for (i = 0; i < c->env.count; i++) {
        FUZZ_ASSERT(c->env.vars[i] == c->env.buf[i]);
        FUZZ_ASSERT(memchr(c->env.buf[i], 0, SS_CLIENT_ENV_LEN) != 0);
    }
    FUZZ_ASSERT(c->env.vars[c->env.count] == 0);
}

/* fuzz_unticket - a ticket in a buffer of its own size; the client or 0 */
static CLIENT *fuzz_unticket(RESIDENT *rs, const unsigned char *t, size_t len)
{
    unsigned char *copy = mymalloc(len ? len : 1);
    CLIENT *cl = 0;

    memcpy(copy, t, len);
    if (resident_tls_unticket(rs, &cl, copy, len) == 0) {
        FUZZ_ASSERT(cl != 0);
        fuzz_client_ok(rs, cl);
    } else {
        cl = 0;
    }
    myfree(copy);
    return (cl);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static SS_LISTENER items[FUZZ_LISTENERS];
    static SKELETON sk;
    static CLIENT_TABLE table;
    RESIDENT rs = {.sk = &sk, .clients = &table};
    unsigned char t1[RELAYD_TICKET_MAX];
    unsigned char t2[RELAYD_TICKET_MAX];
    size_t  n1;
    size_t  n2;
    CLIENT *cl;
    CLIENT *back;
    int     i;

    if (size < 1)
        return (0);
    sk.listeners.items = items;
    sk.listeners.count = data[0] % (FUZZ_LISTENERS + 1);
    if ((cl = fuzz_unticket(&rs, data + 1, size - 1)) == 0)
        return (0);

    /* Written again, read back: the same client, the same bytes. */
    n1 = resident_tls_ticket(&rs, cl, t1, sizeof(t1));
    FUZZ_ASSERT(n1 <= sizeof(t1));
    back = fuzz_unticket(&rs, t1, n1);
    FUZZ_ASSERT(back != 0);
    FUZZ_ASSERT(back->c.listener == cl->c.listener);
    FUZZ_ASSERT(back->c.peer_len == cl->c.peer_len);
    FUZZ_ASSERT(memcmp(&back->c.peer, &cl->c.peer, cl->c.peer_len) == 0);
    FUZZ_ASSERT(back->c.proxy_len == cl->c.proxy_len);
    FUZZ_ASSERT(memcmp(&back->c.proxy, &cl->c.proxy, cl->c.proxy_len) == 0);
    FUZZ_ASSERT(back->c.env.count <= cl->c.env.count);
    for (i = 0; i < back->c.env.count; i++)
        FUZZ_ASSERT(strcmp(back->c.env.vars[i], cl->c.env.vars[i]) == 0);
    n2 = resident_tls_ticket(&rs, back, t2, sizeof(t2));
    FUZZ_ASSERT(n2 == n1 && memcmp(t1, t2, n1) == 0);
    myfree(back);
    myfree(cl);
    return (0);
}
