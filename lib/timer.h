#ifndef SS_TIMER_H
#define SS_TIMER_H

/*++
 * NAME
 *	timer 3
 * SUMMARY
 *	arm a libevent timer, or die trying
 * SYNOPSIS
 *	#include <timer.h>
 *
 *	void	timer_arm(struct event *ev, const struct timeval *tv);
 *
 *	void	timer_deadline(struct timespec *deadline, long ms);
 *	long	timer_left(const struct timespec *deadline);
 *	int	timer_until(struct event *ev, const struct timespec *deadline);
 * DESCRIPTION
 *	timer_arm() adds ev with the timeout tv, as evtimer_add() and
 *	event_add() do. Every timer here stands for something that must
 *	happen: a time limit, a drain, an idle exit, a retry. One that
 *	silently failed to arm would leave a handler running forever or a
 *	server that never leaves, so a failure (libevent could not grow
 *	its timer heap) is fatal, as a failed event_add() is elsewhere.
 *
 *	A deadline is kept on the monotonic clock: a wall clock set back
 *	would let a slow client keep its slot that much longer.
 *	timer_deadline() sets one ms milliseconds from now; timer_left()
 *	says how many milliseconds are left to it (0 once it is past).
 *	timer_until() adds ev (an event that a wake-up re-arms, whose own
 *	timeout would start again each time) with the time left to the
 *	deadline, and returns 1; 0 when none is left (ev not added).
 * DIAGNOSTICS
 *	Fatal (exit 111) when libevent refuses the timer.
 *--*/

#include <time.h>

#include <event2/event.h>

extern void timer_arm(struct event *, const struct timeval *);
extern void timer_deadline(struct timespec *, long);
extern long timer_left(const struct timespec *);
extern int timer_until(struct event *, const struct timespec *);

#endif
