#ifndef SS_WATCHDOG_H
#define SS_WATCHDOG_H

/*++
 * NAME
 *	watchdog 3
 * SUMMARY
 *	abort a process whose event loop is stuck
 * SYNOPSIS
 *	#include <watchdog.h>
 *
 *	void	watchdog_start(struct event_base *base, long timeout);
 * DESCRIPTION
 *	watchdog_start() arms an alarm of timeout seconds (0 = no watchdog)
 *	and a timer in the event loop that re-arms it a few times per
 *	period. When the loop does not get back to the timer for timeout
 *	seconds (a callback blocked, an in-process service hangs), SIGALRM
 *	ends the process with a "watchdog timeout" message and status 111,
 *	so that whoever started it can start a fresh one.
 *--*/

struct event_base;

extern void watchdog_start(struct event_base *, long);

#endif
