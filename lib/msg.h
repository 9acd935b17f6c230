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
 *	 *
 *	void	ss_msg_open(const char *tag);
 *	void	ss_msg_syslog(const char *tag, int facility);
 *	void	ss_msg_stderr(int mode);
 *	int	ss_msg_log_server(const char *path, const char *host);
 *	int	ss_msg_log_fd(void);
 *
 *	void	ss_msg_info(const char *fmt, ...);
 *	void	ss_msg_warn(const char *fmt, ...);
 *	void	ss_msg_error(const char *fmt, ...);
 *	void	ss_msg_fatal(const char *fmt, ...);
 *	void	ss_msg_fatal_status(int status, const char *fmt, ...);
 *	void	ss_msg_usage(const char *fmt, ...);
 *	void	ss_msg_panic(const char *fmt, ...);
 *
 *	int	ss_msg_facility(const char *name);
 * DESCRIPTION
 *	One line per event. Each line is written to syslog (with the pid)
 *	and to stderr as "tag[pid]: level: text" as ss_msg_stderr() says.
 *
 *	Syslog is written without ever waiting: the line is formatted here
 *	as syslog(3) would ("<PRI>Mmm dd hh:mm:ss tag[pid]: text") and sent
 *	with MSG_DONTWAIT on a socket connected at ss_msg_open(). When the
 *	syslog daemon does not read (its socket is full) the line is
 *	dropped and counted, and the next line that goes through is preceded
 *	by "warning: N log line(s) dropped: syslog is not reading". When it
 *	refuses the connection (it restarted), the socket is connected again,
 *	where /dev/log can still be reached, at most once a second.
 *
 *	A copy on stderr starts with the local time, RFC 3339 with
 *	milliseconds ("2026-12-07T10:23:45.123+01:00 "), unless stderr is a
 *	terminal (no prefix) or the systemd journal (JOURNAL_STREAM names
 *	its device and inode): then with the sd-daemon(3) priority, "<2>"
 *	for fatal and panic, "<3>" error, "<4>" warning, "<6>" info.
 *
 *	ss_msg_open() sets the tag (program name) before anything else is
 *	known and opens syslog under it (facility daemon) when /dev/log is a
 *	socket that answers, so that even a
 *	usage error is logged. It also looks at fd 2 and at /dev/log, once:
 *	a socket on fd 2 is never written to (under inetd it is the client
 *	or the listening socket), and when /dev/log cannot be reached (no
 *	syslog daemon) every line goes to stderr instead, whatever
 *	ss_msg_stderr() says, unless fd 2 is a socket. Until ss_msg_stderr() is
 *	called, warnings, errors and fatal messages are copied to stderr
 *	(SS_MSG_STDERR_PROBLEMS). What a stderr copy starts with is chosen
 *	here too, and the time zone read (before any chroot).
 *
 *	ss_msg_syslog() sets the final tag (for example "single-server/echo")
 *	and facility (a LOG_* value), keeping the connection to /dev/log.
 *	Without /dev/log at ss_msg_open() nothing goes to syslog at all: no
 *	socket is made, and a /dev/log that appears later is used from the
 *	next start (or re-execution) on.
 *
 *	ss_msg_log_fd() is the log socket's descriptor (-1: none now), for
 *	a forked helper that closes every other one.
 *
 *	ss_msg_log_server() sends every line from now on to the unix datagram
 *	socket at path instead of syslog, as "Mmm dd hh:mm:ss host
 *	tag[pid]: text" with the first label of host: the records that
 *	Postfix's postlogd(8) writes to its log file as they are. It connects
 *	at once (call it before any chroot) and returns 0, or -1 with errno
 *	set, syslog then staying as it was. The non-blocking send and the
 *	count of dropped lines are as for syslog.
 *
 *	Every log socket is made at or above the descriptor base
 *	(fdbase.h), out of the way of the listeners that a re-execution
 *	puts on fds 3 and up.
 *
 *	ss_msg_stderr() chooses what is copied to stderr: SS_MSG_STDERR_NONE,
 *	SS_MSG_STDERR_PROBLEMS (warning and worse) or SS_MSG_STDERR_ALL (-V).
 *
 *	ss_msg_info() logs at LOG_INFO; ss_msg_warn() adds "warning: ",
 *	ss_msg_error() "error: " (and carries on), ss_msg_fatal() "fatal: " and
 *	exits with status 111 (a system failure), ss_msg_fatal_status() the same
 *	with the given status, ss_msg_usage() "fatal: " with status 100
 *	(usage or configuration error), ss_msg_panic() "panic: " and
 *	abort()s: a bug.
 *	None of them changes errno before reading it, so "%m" works.
 *	Threads may log at the same time: a mutex makes one line wait for
 *	the other (never call them from a signal handler). A fork() waits
 *	for a line being sent, so that the child does not inherit the lock.
 *
 *	ss_msg_verbose counts -v options; callers test it before chatter.
 *
 *	ss_msg_usage_hint() names a line (the usage line) that ss_msg_usage()
 *	then writes to stderr after its own.
 *
 *	ss_msg_emergency_prepare() formats a fatal line now, for
 *	ss_msg_emergency() to send later from a signal handler: it only calls
 *	clock_gettime(), write() and send() (async-signal-safe), to stderr as
 *	ss_msg_stderr() says and to syslog over a socket connected in
 *	advance, without waiting (MSG_DONTWAIT). Its time stamp is made with
 *	the offset from UTC of the last line logged, or of the time zone
 *	ss_msg_tz_load() read (UTC when neither happened).
 *
 *	ss_msg_tz_load() reads the time zone now: before a chroot, which
 *	hides the zone's file (otherwise it is read at the first line that
 *	needs a time).
 *
 *	ss_msg_facility() maps a syslog facility name ("daemon", "local0", ...)
 *	to its LOG_* value, or -1.
 *
 *	ss_msg_cleanup() registers a function that the fatal functions call
 *	before exit (for example to tell a supervisor that we stop).
 *--*/

#include <stdarg.h>
#include <stdnoreturn.h>

#include "single_server.h"		/* the public ss_msg_ functions */

#define SS_MSG_STDERR_NONE		0
#define SS_MSG_STDERR_PROBLEMS	1
#define SS_MSG_STDERR_ALL		2

extern void ss_msg_open(const char *);
extern void ss_msg_syslog(const char *, int);
extern void ss_msg_stderr(int);
extern int ss_msg_log_server(const char *, const char *);
extern int ss_msg_log_fd(void);
extern void ss_msg_cleanup(void (*)(void));
extern int ss_msg_facility(const char *);
extern void ss_msg_usage_hint(const char *);
extern void ss_msg_emergency_prepare(const char *);
extern void ss_msg_emergency(void);
extern void ss_msg_tz_load(void);

extern noreturn void ss_msg_usage(const char *,...) SS_MSG_PRINTF(1, 2);

#endif
