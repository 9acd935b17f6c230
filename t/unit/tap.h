/*
 * tap.h - a minimal TAP producer for the C unit tests
 *
 * ok(cond, name) prints "ok N - name" or "not ok N - name"; done_testing()
 * prints the plan and returns the exit status.
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

static inline int done_testing(void)
{
    printf("1..%d\n", tap_count);
    return (tap_failed != 0);
}

#endif
