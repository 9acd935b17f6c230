#ifndef SS_FLOW_H
#define SS_FLOW_H

/*++
 * NAME
 *	flow 3
 * SUMMARY
 *	in-flow delay: a token bucket shared by every process of a service
 * SYNOPSIS
 *	#include <flow.h>
 *
 *	FLOW   *flow_open(const char *dir, const char *service, long rate,
 *			long burst, char **err);
 *	int	flow_take(FLOW *flow);
 *	FLOW   *flow_adopt(int fd, const char *dir, const char *service,
 *			long rate, long burst);
 *	int	flow_fd(const FLOW *flow);
 *
 *	void	flow_bucket_take(FLOW_BUCKET *bucket, int64_t now_us,
 *			long rate, long burst);
 * DESCRIPTION
 *	Each new client of a service takes one token from a bucket that is
 *	refilled at rate tokens per second and holds at most burst tokens.
 *	A client that finds the bucket empty is not refused: the caller
 *	serves it after a pause (in_flow_delay). The bucket lives in a file
 *	named after the service in dir, so that every process of the
 *	service (stream-mode runs started by inetd or systemd, resident
 *	servers) shares one budget.
 *
 *	flow_open() opens or creates "SERVICE.flow" in dir with
 *	state_open(), which refuses an unsafe directory or file. Call it
 *	before privileges are dropped.
 *
 *	flow_take() takes a token under an exclusive flock() on the file
 *	(the kernel drops the lock of a process that dies, so a crash
 *	leaves nothing that blocks the others; and it waits at most about
 *	50 ms for a process that holds it but was stopped, and then, for a
 *	second, not at all). It returns 1 when a token was taken, 0 when
 *	the bucket was empty. A lock or I/O error counts as a token: flow
 *	control must never stop the service. A stuck lock is logged once,
 *	and once more when it works again.
 *
 *	flow_fd() is the file's descriptor, and flow_adopt() takes one
 *	that a previous image of this process opened with flow_open() and
 *	passed across execve() (after privileges were dropped, the
 *	directory may no longer be ours to open).
 *
 *	flow_bucket_take() is the arithmetic alone, on a FLOW_BUCKET and a
 *	clock reading in microseconds passed in (CLOCK_MONOTONIC in
 *	flow_take(), anything in tests): refill for the time since the last
 *	update, capped at burst; a clock that went backwards refills
 *	nothing; then take one token, setting bucket->granted to 1 when
 *	there was one and to 0 when the client must wait. A waiting client
 *	still takes its token, borrowed from the next refill (the bucket
 *	goes down to -burst at the lowest), so that back-to-back clients
 *	are paused until the rate has caught up. Tokens are kept in millionths, so rates
 *	up to a million per second are exact enough and nothing overflows
 *	even after years without a client.
 * DIAGNOSTICS
 *	flow_open() returns null with *err set (free with myfree()) when the
 *	directory or file is unsafe or cannot be made.
 *--*/

#include <stdint.h>

#define FLOW_UNIT 1000000               /* millionths of a token */

typedef struct FLOW_BUCKET {
    int64_t tokens;                     /* in FLOW_UNITs */
    int64_t stamp_us;                   /* clock at the last update */
    int     granted;                    /* last take got a token */
} FLOW_BUCKET;

typedef struct FLOW FLOW;

extern FLOW *flow_open(const char *, const char *, long, long, char **);
extern int flow_take(FLOW *);
extern FLOW *flow_adopt(int, const char *, const char *, long, long);
extern int flow_fd(const FLOW *);
extern void flow_bucket_take(FLOW_BUCKET *, int64_t, long, long);

#endif
