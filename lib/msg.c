/*
 * msg.c - diagnostics: syslog with an optional copy on stderr
 *
 * The text is formatted once into a local buffer and then handed to
 * syslog() and/or written to stderr with a single write(), so that lines
 * from concurrent processes sharing one stderr do not interleave.
 *
 * Why stderr is looked at once, at ss_msg_open(): under inetd "nowait" fd 2
 * is the client's socket and under "wait" the listening socket; a line
 * written there would reach a remote peer (or kill us with SIGPIPE), so
 * a socket on fd 2 is never written to. Syslog is probed the same way:
 * glibc's syslog() drops messages silently when /dev/log is missing (a
 * bare container), and then stderr is the only place left.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "msg.h"

int     ss_msg_verbose;

static char ss_msg_tag[256] = "single-server";
static int ss_msg_to_syslog;
static int ss_msg_syslog_facility = LOG_DAEMON;
static int ss_msg_to_stderr = SS_MSG_STDERR_PROBLEMS;
static int ss_msg_stderr_socket;			/* fd 2 is a socket: never write */
static int ss_msg_syslog_fd = -1;			/* connected to /dev/log, or -1 */
static void (*ss_msg_cleanup_fn)(void);
static const char *ss_msg_hint;

/*
 * ss_msg_syslog_probe - a socket connected to /dev/log, or -1: datagram
 * first, then stream, as glibc's syslog() tries them; no socket at all
 * when there is no /dev/log (a bare container: every start would pay
 * for two sockets that cannot connect)
 */
static int ss_msg_syslog_probe(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    struct stat st;
    size_t  i;
    int     fd;

    if (stat(sun.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
	return (-1);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
	if ((fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) < 0)
	    continue;
	if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0)
	    return (fd);
	close(fd);
    }
    return (-1);
}

/* ss_msg_open - the tag, syslog from now on, and what fd 2 is */
void    ss_msg_open(const char *tag)
{
    const char *slash = strrchr(tag, '/');
    struct stat st;

    snprintf(ss_msg_tag, sizeof ss_msg_tag, "%s", slash ? slash + 1 : tag);
    ss_msg_stderr_socket = fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode);
    if (ss_msg_syslog_fd < 0)
	ss_msg_syslog_fd = ss_msg_syslog_probe();	/* kept for ss_msg_emergency() */
    ss_msg_syslog(ss_msg_tag, LOG_DAEMON);
}

/* ss_msg_syslog - log to syslog under this tag and facility */
void    ss_msg_syslog(const char *tag, int facility)
{
    if (tag != ss_msg_tag)
	snprintf(ss_msg_tag, sizeof ss_msg_tag, "%s", tag);

    /*
     * Without /dev/log nothing goes to syslog() (ss_msg_vlog), so glibc
     * need not try to connect. Called again, openlog() sets the tag and
     * facility and keeps the connection, made before any chroot.
     */
    if (ss_msg_syslog_fd >= 0)
	openlog(ss_msg_tag, LOG_PID | LOG_NDELAY, facility);
    ss_msg_to_syslog = 1;
    ss_msg_syslog_facility = facility;
}

/* ss_msg_stderr - choose what is copied to stderr */
void    ss_msg_stderr(int mode)
{
    ss_msg_to_stderr = mode;
}

/* ss_msg_cleanup - register a function to run before a fatal exit */
void    ss_msg_cleanup(void (*fn)(void))
{
    ss_msg_cleanup_fn = fn;
}

/* ss_msg_stderr_wanted - is a line at this level copied to stderr? */
static int ss_msg_stderr_wanted(int level)
{
    if (ss_msg_stderr_socket)
	return (0);				/* it may be a client */
    if (ss_msg_syslog_fd < 0)
	return (1);				/* or it would go nowhere */
    return (ss_msg_to_stderr == SS_MSG_STDERR_ALL
	    || (ss_msg_to_stderr == SS_MSG_STDERR_PROBLEMS && level <= LOG_WARNING));
}

/* ss_msg_vlog - format one line and send it where it belongs */
static void ss_msg_vlog(int level, const char *label, const char *fmt, va_list ap)
{
    int     saved_errno = errno;
    char    text[2048];
    char    line[2048 + 300];
    int     len;

    errno = saved_errno;			/* for %m */
    vsnprintf(text, sizeof text, fmt, ap);
    /* Without /dev/log, glibc would try to connect again for every line. */
    if (ss_msg_to_syslog && ss_msg_syslog_fd >= 0)
	syslog(level, "%s%s", label, text);
    if (ss_msg_stderr_wanted(level)) {
	len = snprintf(line, sizeof line, "%s[%ld]: %s%s\n",
		       ss_msg_tag, (long) getpid(), label, text);
	if (len > (int) sizeof line - 1) {
	    len = sizeof line - 1;
	    line[len - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, len) < 0) {
	    /* nowhere left to complain */ ;
	}
    }
    errno = saved_errno;
}

#define SS_MSG_FORWARD(level, label) do { \
	va_list ap; \
	va_start(ap, fmt); \
	ss_msg_vlog((level), (label), fmt, ap); \
	va_end(ap); \
    } while (0)

/* ss_msg_info - informational message */
void    ss_msg_info(const char *fmt,...)
{
    SS_MSG_FORWARD(LOG_INFO, "");
}

/* ss_msg_warn - something is wrong but we carry on */
void    ss_msg_warn(const char *fmt,...)
{
    SS_MSG_FORWARD(LOG_WARNING, "warning: ");
}

/* ss_msg_error - an error, and we still carry on */
void    ss_msg_error(const char *fmt,...)
{
    SS_MSG_FORWARD(LOG_ERR, "error: ");
}

/* ss_msg_leave - run the cleanup hook once, then exit */
static noreturn void ss_msg_leave(int status)
{
    void    (*fn)(void) = ss_msg_cleanup_fn;

    ss_msg_cleanup_fn = 0;
    if (fn)
	fn();
    exit(status);
}

/* ss_msg_fatal - a system failure: exit 111 */
void    ss_msg_fatal(const char *fmt,...)
{
    SS_MSG_FORWARD(LOG_CRIT, "fatal: ");
    ss_msg_leave(SS_MSG_EXIT_SYSTEM);
}

/* ss_msg_fatal_status - fatal, with the caller's exit status */
void    ss_msg_fatal_status(int status, const char *fmt,...)
{
    SS_MSG_FORWARD(LOG_CRIT, "fatal: ");
    ss_msg_leave(status);
}

/* ss_msg_usage_hint - a line for ss_msg_usage() to add on stderr */
void    ss_msg_usage_hint(const char *line)
{
    ss_msg_hint = line;
}

/* ss_msg_usage - a usage or configuration error: exit 100 */
void    ss_msg_usage(const char *fmt,...)
{
    SS_MSG_FORWARD(LOG_CRIT, "fatal: ");
    if (ss_msg_hint && ss_msg_stderr_wanted(LOG_CRIT)
        && write(STDERR_FILENO, ss_msg_hint, strlen(ss_msg_hint)) < 0) {
        /* nowhere left to complain */ ;
    }
    ss_msg_leave(SS_MSG_EXIT_USAGE);
}

/* ss_msg_panic - a bug: leave a core behind */
void    ss_msg_panic(const char *fmt,...)
{
    SS_MSG_FORWARD(LOG_CRIT, "panic: ");
    abort();
}

/* ss_msg_facility - syslog facility name to LOG_* value */
int     ss_msg_facility(const char *name)
{
    static const struct {
	const char *name;
	int     value;
    } table[] = {
	{"auth", LOG_AUTH}, {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
	{"daemon", LOG_DAEMON}, {"ftp", LOG_FTP}, {"kern", LOG_KERN},
	{"lpr", LOG_LPR}, {"mail", LOG_MAIL}, {"news", LOG_NEWS},
	{"syslog", LOG_SYSLOG}, {"user", LOG_USER}, {"uucp", LOG_UUCP},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
	{"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    size_t  i;

    for (i = 0; i < sizeof table / sizeof table[0]; i++)
	if (strcasecmp(name, table[i].name) == 0)
	    return (table[i].value);
    return (-1);
}

static char ss_msg_emerg_stderr[512];
static char ss_msg_emerg_syslog[512];

/* ss_msg_emergency_prepare - format a fatal line now, to send it later */
void    ss_msg_emergency_prepare(const char *text)
{
    snprintf(ss_msg_emerg_stderr, sizeof(ss_msg_emerg_stderr), "%s[%ld]: fatal: %s\n",
             ss_msg_tag, (long) getpid(), text);
    snprintf(ss_msg_emerg_syslog, sizeof(ss_msg_emerg_syslog), "<%d>%s[%ld]: fatal: %s",
             ss_msg_syslog_facility | LOG_CRIT, ss_msg_tag, (long) getpid(), text);
}

/* ss_msg_emergency - send the prepared line: write() and send() only */
void    ss_msg_emergency(void)
{
    if (ss_msg_syslog_fd >= 0)
        (void) send(ss_msg_syslog_fd, ss_msg_emerg_syslog, strlen(ss_msg_emerg_syslog),
                    MSG_NOSIGNAL);
    if (ss_msg_stderr_wanted(LOG_CRIT)
        && write(STDERR_FILENO, ss_msg_emerg_stderr, strlen(ss_msg_emerg_stderr)) < 0) {
        /* nowhere left to complain */ ;
    }
}
