#ifndef SS_FDBASE_H
#define SS_FDBASE_H

/*++
 * NAME
 *	fdbase 3
 * SUMMARY
 *	the tool's own descriptors, above a base fixed at start
 * SYNOPSIS
 *	#include <fdbase.h>
 *
 *	void	fdbase_init(int argc);
 *	int	fdbase_get(void);
 *	int	fdbase_lift(int fd);
 *	int	fdbase_dup(int fd);
 *	void	fdbase_hold(int fd);
 *	void	fdbase_release(void);
 * DESCRIPTION
 *	Low descriptor numbers have a meaning: 0-2 for inetd, 3 and up
 *	for systemd's LISTEN_FDS and for the listeners a re-execution
 *	puts there with dup2(), 5 and 6 up for master(8). Those are read
 *	once at start. Every descriptor the tool opens and keeps for
 *	itself (/dev/null, the log socket, the event loop's, the stderr
 *	pipes, state files, the copy of the program) lives at or above a
 *	base instead, so that putting the listeners in place for a
 *	re-execution never lands on one of them. Clients from accept()
 *	and listeners are not ours in that sense and may stay low.
 *
 *	fdbase_init() fixes the base, once, before anything is opened:
 *	3 + argc rounded up to a multiple of FDBASE_MIN (64), so at least
 *	64. argc bounds the number of -L listeners (each takes a word of
 *	argv), and with it the places 3.. that a re-execution gives them.
 *	When the soft RLIMIT_NOFILE is less than twice that, the base is
 *	half the limit instead (room is left above it), though never less
 *	than 3 + argc.
 *
 *	fdbase_get() is the base (0 before fdbase_init(): no constraint).
 *
 *	fdbase_lift() moves fd to the lowest free descriptor at or above
 *	the base, close-on-exec, and closes fd; fd itself when it is there
 *	already. A negative fd is passed through (errno unchanged), so that
 *	it wraps a call that opens: fdbase_lift(socket(...)). On failure
 *	fd is closed and -1 returned with errno set; EMFILE also when the
 *	descriptor limit is at or below the base (the kernel says EINVAL).
 *
 *	fdbase_dup() is fdbase_lift() without closing fd: a second
 *	descriptor of the same file, at or above the base.
 *
 *	fdbase_hold() occupies every free descriptor from 3 up to the base
 *	with a copy of fd, so that a library that opens descriptors of its
 *	own (libevent: its epoll instance and its signal pipe, made by
 *	event_base_new()) gets them above the base; fdbase_release()
 *	closes those copies again. Only between the two may such a library
 *	open what it keeps.
 *--*/

#define FDBASE_MIN	64

extern void fdbase_init(int);
extern int fdbase_get(void);
extern int fdbase_lift(int);
extern int fdbase_dup(int);
extern void fdbase_hold(int);
extern void fdbase_release(void);

#endif
