/*
 * test_flow.c - token bucket arithmetic on an injected clock
 */
#include "config.h"

#include <stdint.h>

#include "flow.h"
#include "tap.h"

#define SEC 1000000
#define UNIT ((int64_t) FLOW_UNIT)

/* takes - how many of n back-to-back takes at time now get a token */
static int takes(FLOW_BUCKET *b, int n, int64_t now, long rate, long burst)
{
    int     got = 0;

    while (n-- > 0) {
        flow_bucket_take(b, now, rate, burst);
        got += b->granted;
    }
    return (got);
}

int     main(void)
{
    FLOW_BUCKET b;

    b = (FLOW_BUCKET) {5 * UNIT, 0, 0};
    ok(takes(&b, 5, 0, 5, 5) == 5, "a full bucket of 5 grants 5");
    ok(takes(&b, 1, 0, 5, 5) == 0, "then the sixth client waits");
    ok(b.tokens == -1 * UNIT, "and borrows its token: the bucket is at -1");
    ok(takes(&b, 100, 0, 5, 5) == 0 && b.tokens == -5 * UNIT,
       "the debt stops at -burst");
    ok(takes(&b, 1, SEC, 5, 5) == 0, "after 1 s at 5/s the debt is repaid, no more");
    ok(takes(&b, 1, SEC + SEC / 5 + SEC / 5, 5, 5) == 1,
       "0.4 s later at 5/s there is a token again");

    b = (FLOW_BUCKET) {0, 0, 0};
    ok(takes(&b, 1, SEC / 10, 5, 5) == 0, "0.1 s at 5/s is half a token: wait");
    b = (FLOW_BUCKET) {0, 0, 0};
    ok(takes(&b, 1, SEC / 5, 5, 5) == 1, "0.2 s at 5/s refills one token");

    b = (FLOW_BUCKET) {0, 0, 0};
    ok(takes(&b, 1, 10 * SEC, 5, 5) == 1 && b.tokens == 4 * UNIT,
       "refill is capped at the burst");

    b = (FLOW_BUCKET) {1 * UNIT, 0, 0};
    ok(takes(&b, 1, 0, 1, 1) == 1, "rate 1 burst 1: the first client runs");
    ok(takes(&b, 1, 0, 1, 1) == 0, "the second, right after, waits");
    ok(takes(&b, 1, SEC, 1, 1) == 0,
       "the third, a second later, waits too (the second borrowed)");
    ok(takes(&b, 1, 3 * SEC, 1, 1) == 1, "two idle seconds later, a token");

    b = (FLOW_BUCKET) {0, 100 * (int64_t) SEC, 0};
    ok(takes(&b, 1, 50 * (int64_t) SEC, 10, 10) == 0,
       "a clock that went backwards refills nothing");
    ok(b.stamp_us == 50 * (int64_t) SEC, "and the bucket restarts from it");
    ok(takes(&b, 1, 50 * (int64_t) SEC + SEC / 5, 10, 10) == 1,
       "then refills normally from the new reading");

    b = (FLOW_BUCKET) {-5 * UNIT, 0, 0};
    ok(takes(&b, 2000000, INT64_MAX / 2, 1000000, 1000000) == 1000000,
       "a huge gap at the highest rate fills exactly to the burst, no overflow");

    b = (FLOW_BUCKET) {INT64_MAX, 0, 0};
    ok(takes(&b, 4, 0, 1, 3) == 3, "a stored value over the burst is capped");

    b = (FLOW_BUCKET) {INT64_MIN, 0, 0};
    ok(takes(&b, 1, 0, 1, 3) == 0 && b.tokens == -3 * UNIT,
       "a stored value under -burst is raised to -burst");
    return (done_testing());
}
