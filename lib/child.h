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
 *	void	child_add(pid_t pid, int log_fd);
 *	void	child_log_flush(void);
 *	void	child_watch(pid_t pid, CHILD_EXIT_FN fn, void *context);
 *	void	child_keep(pid_t pid, CHILD_EXIT_FN fn, void *context);
 *	void	child_export(struct HANDOVER *state);
 *	void	child_import(const struct HANDOVER *state);
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
 *	it is still there; both are logged. Every signal this module sends
 *	goes to the child's process group when the child leads one, so that
 *	what a shell handler started is reached too; once the child itself
 *	was reaped, what it left running is left alone. log_fd, unless -1,
 *	is the non-blocking read end of a pipe on the child's stderr: the
 *	event loop reads it and logs each line as a warning, "handler PID:
 *	LINE", a line longer than CHILD_LOG_LINE bytes in pieces of that
 *	size; the module closes it at end of file.
 *
 *	child_log_flush() logs what the stderr pipes hold now and closes
 *	them: for a process that is leaving its event loop.
 *
 *	child_watch() names one child that is not a handler (one at a
 *	time): when child_reap() collects it, fn is called with its status
 *	instead of the handler bookkeeping; it is not counted, time-limited
 *	or signalled. child_keep() names another such child that lives
 *	long (a TLS relay: relayd.h), any number at once; fn is called once,
 *	when it is collected.
 *
 *	child_export() adds every tracked child (with the time left on its
 *	timer) and every open stderr pipe to a handover for the next image
 *	of this process, and stops reading the pipes (the fds in the
 *	handover are new ones, still close-on-exec). child_import(), in the
 *	next image, tracks them again as they were.
 *
 *	child_reap() collects every tracked (or watched) child that has
 *	ended, each by its pid with WNOHANG, never with waitpid(-1): other
 *	children of the process are not ours to reap (call it on SIGCHLD).
 *	It logs an abnormal end decoded ("exit status 3", "killed by signal
 *	9") as a warning and a normal one with -v, and calls the exit
 *	function for each.
 *
 *	child_count() tells how many tracked children are running, and
 *	child_lingering_count() how many process groups of reaped handlers
 *	still wait for the SIGKILL that follows a SIGTERM by a second, and
 *	child_log_count() how many stderr pipes are being read.
 *	child_signal_all() sends sig to each; child_terminate_all() sends
 *	SIGTERM now and SIGKILL one second later to those still running.
 *
 *	child_status_text() decodes a wait status for a log message.
 *--*/

#include <stddef.h>
#include <sys/types.h>

struct HANDOVER;

struct event_base;

#define CHILD_LOG_LINE 1024             /* longest stderr line logged whole */

typedef void (*CHILD_EXIT_FN)(pid_t, int, void *);

extern void child_init(struct event_base *, long, CHILD_EXIT_FN, void *);
extern void child_add(pid_t, int);
extern void child_log_flush(void);
extern void child_watch(pid_t, CHILD_EXIT_FN, void *);
extern void child_keep(pid_t, CHILD_EXIT_FN, void *);
extern void child_export(struct HANDOVER *);
extern void child_import(const struct HANDOVER *);
extern void child_reap(void);
extern int child_count(void);
extern int child_lingering_count(void);
extern int child_log_count(void);
extern void child_signal_all(int);
extern void child_terminate_all(void);
extern void child_status_text(int, char *, size_t);

#endif
