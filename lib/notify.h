#ifndef SS_NOTIFY_H
#define SS_NOTIFY_H

/*++
 * NAME
 *	notify 3
 * SUMMARY
 *	tell a service manager about our state (sd_notify protocol)
 * SYNOPSIS
 *	#include <notify.h>
 *
 *	void	notify_init(void);
 *	void	notify_send(const char *state);
 * DESCRIPTION
 *	notify_init() takes $NOTIFY_SOCKET (a path, or "@name" for the
 *	abstract namespace) and removes it from the environment, so that
 *	handlers do not inherit it. notify_send() sends one datagram such as
 *	"READY=1" or "STOPPING=1" there; without a socket it does nothing.
 *	Failures are logged as warnings: a manager that went away is not a
 *	reason to stop serving.
 *--*/

extern void notify_init(void);
extern void notify_send(const char *);

#endif
