/*
 * tap.h - a minimal TAP producer for the C unit tests
 *
 * ok(cond, name) prints "ok N - name" or "not ok N - name"; skip(reason,
 * name) prints "ok N - name # SKIP reason"; done_testing() prints the plan
 * and returns the exit status.
 */
#ifndef SS_TAP_H
#define SS_TAP_H

#include <stdio.h>

static int tap_count;
static int tap_failed;

#define ok(cond, ...) do { \
	int tap_ok_ = (cond) != 0; \
	printf("%sok %d - ", tap_ok_ ? "" : "not ", ++tap_count); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	if (!tap_ok_) { \
	    tap_failed++; \
	    printf("#   failed at %s line %d\n", __FILE__, __LINE__); \
	} \
    } while (0)

/* skip(reason, name...): "ok N - name # SKIP reason", a test not run here */
#define skip(reason, ...) do { \
	printf("ok %d - ", ++tap_count); \
	printf(__VA_ARGS__); \
	printf(" # SKIP %s\n", (reason)); \
    } while (0)

static inline int done_testing(void)
{
    printf("1..%d\n", tap_count);
    return (tap_failed != 0);
}

#endif
