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
 * DESCRIPTION
 *	timer_arm() adds ev with the timeout tv, as evtimer_add() and
 *	event_add() do. Every timer here stands for something that must
 *	happen: a time limit, a drain, an idle exit, a retry. One that
 *	silently failed to arm would leave a handler running forever or a
 *	server that never leaves, so a failure (libevent could not grow
 *	its timer heap) is fatal, as a failed event_add() is elsewhere.
 * DIAGNOSTICS
 *	Fatal (exit 111) when libevent refuses the timer.
 *--*/

#include <event2/event.h>

extern void timer_arm(struct event *, const struct timeval *);

#endif
