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
 *	void	notify_stopping(void);
 *	int	notify_enabled(void);
 *	const char *notify_socket_path(void);
 * DESCRIPTION
 *	notify_init() takes $NOTIFY_SOCKET (a path, or "@name" for the
 *	abstract namespace), removes it from the environment so that
 *	handlers do not inherit it, and connects a datagram socket to it
 *	at once, so that it still works after a chroot.
 *
 *	notify_send() sends one datagram such as "READY=1"; without a
 *	socket it does nothing. notify_stopping() sends "STOPPING=1" the
 *	first time it is called and nothing after that; it fits
 *	ss_msg_cleanup(), so that a fatal exit says it too.
 *
 *	notify_socket_path() is the value $NOTIFY_SOCKET had when it could
 *	be connected (for a re-execution to pass on), or null.
 *
 *	notify_enabled() tells whether there is a socket to send to, so
 *	that callers can skip preparing messages nobody reads.
 *
 *	Failures are logged as warnings: a manager that went away is not a
 *	reason to stop serving.
 *--*/

extern void notify_init(void);
extern void notify_send(const char *);
extern void notify_stopping(void);
extern int notify_enabled(void);
extern const char *notify_socket_path(void);

#endif
