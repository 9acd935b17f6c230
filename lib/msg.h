#ifndef SS_MSG_H
#define SS_MSG_H

/*++
 * NAME
 *	msg 3
 * SUMMARY
 *	diagnostics: syslog with an optional copy on stderr
 * SYNOPSIS
 *	#include <msg.h>
 *
 *	extern int msg_verbose;
 *
 *	void	msg_open(const char *tag);
 *	void	msg_syslog(const char *tag, int facility);
 *	void	msg_stderr(int mode);
 *
 *	void	msg_info(const char *fmt, ...);
 *	void	msg_warn(const char *fmt, ...);
 *	void	msg_error(const char *fmt, ...);
 *	void	msg_fatal(const char *fmt, ...);
 *	void	msg_fatal_status(int status, const char *fmt, ...);
 *	void	msg_usage(const char *fmt, ...);
 *	void	msg_panic(const char *fmt, ...);
 *
 *	int	msg_facility(const char *name);
 * DESCRIPTION
 *	One line per event. Each line is written to syslog (with LOG_PID)
 *	and to stderr as "tag[pid]: level: text" as msg_stderr() says.
 *
 *	msg_open() sets the tag (program name) before anything else is
 *	known and opens syslog under it (facility daemon), so that even a
 *	usage error is logged. It also looks at fd 2 and at /dev/log, once:
 *	a socket on fd 2 is never written to (under inetd it is the client
 *	or the listening socket), and when /dev/log cannot be reached (no
 *	syslog daemon) every line goes to stderr instead, whatever
 *	msg_stderr() says, unless fd 2 is a socket. Until msg_stderr() is
 *	called, warnings, errors and fatal messages are copied to stderr
 *	(MSG_STDERR_PROBLEMS).
 *
 *	msg_syslog() reopens syslog with the final tag (for example
 *	"single-server/echo") and facility (a LOG_* value).
 *
 *	msg_stderr() chooses what is copied to stderr: MSG_STDERR_NONE,
 *	MSG_STDERR_PROBLEMS (warning and worse) or MSG_STDERR_ALL (-V).
 *
 *	msg_info() logs at LOG_INFO; msg_warn() adds "warning: ",
 *	msg_error() "error: " (and carries on), msg_fatal() "fatal: " and
 *	exits with status 111 (a system failure), msg_fatal_status() the same
 *	with the given status, msg_usage() "fatal: " with status 100 (usage or
 *	configuration error), msg_panic() "panic: " and abort()s: a bug.
 *	None of them changes errno before reading it, so "%m" works.
 *
 *	msg_verbose counts -v options; callers test it before chatter.
 *
 *	msg_usage_hint() names a line (the usage line) that msg_usage()
 *	then writes to stderr after its own.
 *
 *	msg_emergency_prepare() formats a fatal line now, for
 *	msg_emergency() to send later from a signal handler: it only calls
 *	write() and send() (async-signal-safe), to stderr as msg_stderr()
 *	says and to syslog over a socket connected in advance.
 *
 *	msg_facility() maps a syslog facility name ("daemon", "local0", ...)
 *	to its LOG_* value, or -1.
 *
 *	msg_cleanup() registers a function that the fatal functions call
 *	before exit (for example to tell a supervisor that we stop).
 *--*/

#include <stdarg.h>
#include <stdnoreturn.h>

#define MSG_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define MSG_STDERR_NONE		0
#define MSG_STDERR_PROBLEMS	1
#define MSG_STDERR_ALL		2

#define MSG_EXIT_USAGE	100		/* usage or configuration error */
#define MSG_EXIT_SYSTEM	111		/* system failure */

extern int msg_verbose;

extern void msg_open(const char *);
extern void msg_syslog(const char *, int);
extern void msg_stderr(int);
extern void msg_cleanup(void (*)(void));
extern int msg_facility(const char *);
extern void msg_usage_hint(const char *);
extern void msg_emergency_prepare(const char *);
extern void msg_emergency(void);

extern void msg_info(const char *,...) MSG_PRINTF(1, 2);
extern void msg_warn(const char *,...) MSG_PRINTF(1, 2);
extern void msg_error(const char *,...) MSG_PRINTF(1, 2);
extern noreturn void msg_fatal(const char *,...) MSG_PRINTF(1, 2);
extern noreturn void msg_fatal_status(int, const char *,...) MSG_PRINTF(2, 3);
extern noreturn void msg_usage(const char *,...) MSG_PRINTF(1, 2);
extern noreturn void msg_panic(const char *,...) MSG_PRINTF(1, 2);

#endif
