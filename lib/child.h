#ifndef SS_CHILD_H
#define SS_CHILD_H

/*++
 * NAME
 *	child 3
 * SUMMARY
 *	track, time-limit and reap handler processes
 * SYNOPSIS
 *	#include <child.h>
 *
 *	void	child_init(struct event_base *base, long time_limit,
 *			CHILD_EXIT_FN on_exit, void *context);
 *	void	child_add(pid_t pid);
 *	void	child_reap(void);
 *	int	child_count(void);
 *	void	child_signal_all(int sig);
 *	void	child_terminate_all(void);
 *	void	child_status_text(int status, char *buf, size_t len);
 * DESCRIPTION
 *	child_init() sets the event base, the wall-clock limit for each
 *	child in seconds (0 = none) and a function called after a child was
 *	reaped with its pid and wait status.
 *
 *	child_add() starts tracking a child that was just started. When its
 *	time limit passes it gets SIGTERM, and SIGKILL one second later if
 *	it is still there; both are logged.
 *
 *	child_reap() collects every child that has ended (waitpid() with
 *	WNOHANG in a loop; call it on SIGCHLD), logs an abnormal end decoded
 *	("exit status 3", "killed by signal 9") as a warning and a normal
 *	one with -v, and calls the exit function for each tracked child.
 *
 *	child_count() tells how many tracked children are running.
 *	child_signal_all() sends sig to each; child_terminate_all() sends
 *	SIGTERM now and SIGKILL one second later to those still running.
 *
 *	child_status_text() decodes a wait status for a log message.
 *--*/

#include <stddef.h>
#include <sys/types.h>

struct event_base;

typedef void (*CHILD_EXIT_FN)(pid_t, int, void *);

extern void child_init(struct event_base *, long, CHILD_EXIT_FN, void *);
extern void child_add(pid_t);
extern void child_reap(void);
extern int child_count(void);
extern void child_signal_all(int);
extern void child_terminate_all(void);
extern void child_status_text(int, char *, size_t);

#endif
