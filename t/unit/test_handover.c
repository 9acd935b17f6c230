/*
 * test_handover.c - the re-execution handover line: round trip, and every
 * kind of bad input refused whole
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <sys/socket.h>

#include "handover.h"
#include "mymalloc.h"
#include "tap.h"

/* bad - the text is refused and leaves an empty state */
static void bad(const char *text)
{
    HANDOVER st;
    char   *err = 0;
    int     got = handover_parse(text, &st, &err);

    ok(got < 0 && err != 0 && st.nchildren == 0 && st.nclients == 0
       && st.flow_fd == -1, "refused: \"%s\" (%s)", text, err ? err : "accepted");
    myfree(err);
}

/* same_child - field by field (structs have padding) */
static int same_child(const HANDOVER_CHILD *a, const HANDOVER_CHILD *b)
{
    return (a->pid == b->pid && a->timer_ms == b->timer_ms
            && a->killing == b->killing && a->log_fd == b->log_fd
            && a->reaped == b->reaped);
}

/* round_trip - format, parse, compare */
static void round_trip(void)
{
    HANDOVER in = {.pid = 4242, .served = 1234, .refused = 56, .flow_fd = 7};
    HANDOVER out;
    HANDOVER_CHILD c1 = {4711, 999, 0, 9, 0};
    HANDOVER_CHILD c2 = {4712, -1, 1, -1, 0};
    HANDOVER_CHILD c3 = {4713, -1, 0, 12, 1};
    HANDOVER_CHILD c4 = {4714, 800, 1, -1, 1};
    HANDOVER_CHILD c5 = {4715, 1000L * 2147483647, 0, -1, 0};
    HANDOVER_CLIENT p1 = {10, 250, 1, 0, 0, 0};
    HANDOVER_CLIENT x1 = {11, 4000, 0, 1, 0, 0};
    HANDOVER_CLIENT n1 = {16, 900, 1, 0, 0, 1};
    HANDOVER_SOURCE s1 = {4711, {AF_INET, {127, 0, 0, 1}}};
    HANDOVER_SOURCE s2 = {4712, {AF_INET6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0xff}}};
    char   *text;
    char   *err = 0;

    handover_add_child(&in, &c1);
    handover_add_child(&in, &c2);
    handover_add_child(&in, &c3);
    handover_add_child(&in, &c4);
    handover_add_child(&in, &c5);
    in.stderr_closed = 1;
    handover_add_client(&in, &p1);
    handover_add_client(&in, &x1);
    handover_add_client(&in, &n1);
    handover_add_source(&in, &s1);
    handover_add_source(&in, &s2);
    text = handover_format(&in);
    ok(strcmp(text, "v1 pid=4242 served=1234 refused=56 stderr_closed=1 flow=7 "
              "h=4711,999,0,9 h=4712,-1,1,-1 l=4713,12 k=4714,800 "
              "h=4715,2147483647000,0,-1 p=10,250,1 x=11,4000,0 n=16,900,1 "
              "s=4711,2,7f000001000000000000000000000000 "
              "s=4712,10,20010db8000000ff0000000000000000") == 0,
       "format: %s", text);
    ok(handover_parse(text, &out, &err) == 0, "parse what format wrote");
    ok(out.pid == 4242 && out.served == 1234 && out.refused == 56
       && out.flow_fd == 7
       && out.stderr_closed == 1 && out.nchildren == 5
       && out.nclients == 3, "counts and scalars survive");
    ok(same_child(out.children, &c1) && same_child(out.children + 1, &c2)
       && same_child(out.children + 2, &c3) && same_child(out.children + 3, &c4)
       && same_child(out.children + 4, &c5), "handlers, pipes, groups survive");
    ok(out.clients[0].fd == 10 && out.clients[0].pause_ms == 250
       && out.clients[0].listener == 1 && !out.clients[0].header,
       "paused clients survive");
    ok(out.clients[1].fd == 11 && out.clients[1].pause_ms == 4000
       && out.clients[1].listener == 0 && out.clients[1].header,
       "clients still sending a PROXY header survive");
    ok(out.clients[2].fd == 16 && out.clients[2].pause_ms == 900
       && out.clients[2].listener == 1 && out.clients[2].lookup
       && !out.clients[2].header && !out.clients[1].lookup
       && !out.clients[0].lookup,
       "clients waiting for their host name survive");
    ok(out.nsources == 2 && out.sources[0].pid == 4711
       && memcmp(&out.sources[0].key, &s1.key, sizeof(s1.key)) == 0
       && out.sources[1].pid == 4712
       && memcmp(&out.sources[1].key, &s2.key, sizeof(s2.key)) == 0,
       "per-source slots survive");
    myfree(text);
    handover_free(&in);
    handover_free(&out);
}

/*
 * round_trip_linger - a refused client still lingering goes across, with
 * the time it may still linger, in a variable of its own (an older image
 * ignores that one, where it would refuse an item it does not know)
 */
static void round_trip_linger(void)
{
    HANDOVER in = {.pid = 4242, .flow_fd = -1};
    HANDOVER_CLIENT g1 = {12, 1500, 2, 0, 1, 0};
    HANDOVER_CLIENT p1 = {13, 0, 0, 0, 0, 0};
    HANDOVER_CLIENT g2 = {14, 0, 0, 0, 1, 0};
    HANDOVER out;
    char   *text;
    char   *lingering;
    char   *err = 0;

    ok(handover_format_lingering(&in) == 0, "none linger: no variable");
    handover_add_client(&in, &g1);
    handover_add_client(&in, &p1);
    handover_add_client(&in, &g2);
    text = handover_format(&in);
    lingering = handover_format_lingering(&in);
    ok(strcmp(text, "v1 pid=4242 served=0 p=13,0,0") == 0,
       "the main line leaves them out: %s", text);
    ok(strcmp(lingering, "12,1500,2 14,0,0") == 0,
       "their own variable: %s", lingering);
    ok(handover_parse(text, &out, &err) == 0
       && handover_parse_lingering(lingering, &out, &err) == 0
       && out.nclients == 3 && !out.clients[0].linger
       && out.clients[1].fd == 12 && out.clients[1].pause_ms == 1500
       && out.clients[1].listener == 2 && out.clients[1].linger
       && !out.clients[1].header && out.clients[2].fd == 14
       && out.clients[2].linger, "lingering clients survive");
    ok(handover_parse_lingering("15,1,0 2,10,0", &out, &err) < 0
       && out.nclients == 3 && err
       && strcmp(err, HANDOVER_LINGER_ENV ": bad item \"2,10,0\"") == 0,
       "a lingering client's fd below 3 is refused, nothing taken: %s", err);
    myfree(err);
    err = 0;
    handover_free(&out);
    ok(handover_parse("v1 pid=9 g=12,10,0", &out, &err) < 0,
       "the main line has no g= items: %s", err);
    myfree(err);
    myfree(lingering);
    myfree(text);
    handover_free(&in);
}

/*
 * round_trip_large - an idle server with large counts: the line before the
 * items is longer than 64 bytes, which once overran the buffer
 */
static void round_trip_large(void)
{
    HANDOVER in = {.pid = 0x7fffffff, .served = LONG_MAX, .refused = LONG_MAX,
    .stderr_closed = 1, .flow_fd = HANDOVER_FD_MAX};
    HANDOVER out;
    char   *text = handover_format(&in);
    char   *err = 0;

    ok(strcmp(text, "v1 pid=2147483647 served=9223372036854775807 "
              "refused=9223372036854775807 stderr_closed=1 flow=1048576") == 0,
       "format, large counts: %s", text);
    ok(handover_parse(text, &out, &err) == 0 && out.pid == in.pid
       && out.served == LONG_MAX && out.refused == LONG_MAX
       && out.stderr_closed == 1 && out.flow_fd == HANDOVER_FD_MAX,
       "large counts survive");
    handover_free(&out);
    myfree(err);
    myfree(text);
}

int     main(void)
{
    HANDOVER st;
    char   *err = 0;

    round_trip();
    round_trip_linger();
    round_trip_large();
    ok(handover_parse("v1 pid=99 served=0", &st, &err) == 0 && st.flow_fd == -1
       && st.nchildren == 0, "an idle server: served=0 alone");
    handover_free(&st);
    bad("");
    bad("v2 served=0");
    bad("v1  served=0");                /* an empty item */
    bad("v1 served=0");                 /* no pid */
    bad("v1 pid=1 served=0");           /* not init's */
    bad("v1 pid=5 pid=5 served=0");
    bad("v1 pid=9 served=-1");
    bad("v1 pid=9 served=1x");
    bad("v1 pid=9 flow=2");	/* stdio is never handed over */
    bad("v1 pid=9 flow=4 flow=5");
    bad("v1 pid=9 h=1,0,0,-1");	/* init is nobody's child */
    bad("v1 pid=9 h=100,0,2,-1");	/* killing is 0 or 1 */
    bad("v1 pid=9 h=100,0,0,1");	/* a pipe on stdout */
    bad("v1 pid=9 h=100,0,0");
    bad("v1 pid=9 h=100,0,0,5,");
    bad("v1 pid=9 h=100,,0,5");
    bad("v1 pid=9 h=100,99999999999999,0,5");
    bad("v1 pid=9 l=100,-1");
    bad("v1 pid=9 p=3,0");
    bad("v1 pid=9 x=3,0");
    bad("v1 pid=9 x=3,0,0,1");
    bad("v1 pid=9 p=3,-5,0");
    bad("v1 pid=9 p=2000000,0,0");
    bad("v1 pid=9 x=1");
    bad("v1 pid=9 refused=0");	/* written only when not 0 */
    bad("v1 pid=9 refused=-3");
    bad("v1 pid=9 s=100,2,7f00000100000000000000000000000");    /* 31 digits */
    bad("v1 pid=9 s=100,2,7f0000010000000000000000000000000");  /* 33 */
    bad("v1 pid=9 s=100,2,7F000001000000000000000000000000");   /* upper case */
    bad("v1 pid=9 s=100,3,7f000001000000000000000000000000");   /* family */
    bad("v1 pid=9 s=1,2,7f000001000000000000000000000000");     /* init */
    bad("v1 pid=9 s=100,7f000001000000000000000000000000");
    bad("v1 pid=9 s=100,2,7g000001000000000000000000000000");
    bad("v1 pid=9 served=0 trailing");
    /* The error is logged: one line, whatever the variable holds. */
    ok(handover_parse("v1 pid=9 h=1,\n2\x7f,\x1b[0m", &st, &err) < 0
       && err && strcmp(err, HANDOVER_ENV ": bad item \"h=1,?2?,?[0m\"") == 0,
       "control characters shown as ?: %s", err ? err : "accepted");
    myfree(err);
    return (done_testing());
}
