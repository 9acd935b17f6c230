/*
 * msg.c - diagnostics: syslog with an optional copy on stderr
 *
 * The text is formatted once into a local buffer; the syslog line and
 * the stderr copy are each built around it and handed over with a single
 * send() or write(), so that lines from concurrent processes sharing one
 * stderr do not interleave.
 *
 * Why stderr is looked at once, at ss_msg_open(): under inetd "nowait" fd 2
 * is the client's socket and under "wait" the listening socket; a line
 * written there would reach a remote peer (or kill us with SIGPIPE), so
 * a socket on fd 2 is never written to. Syslog is probed the same way:
 * when /dev/log is missing (a bare container) lines would go nowhere,
 * and then stderr is the only place left. What a stderr copy starts
 * with (a time, a journal priority, nothing) is decided there too.
 *
 * Why not syslog(3): glibc's send() waits when the syslog daemon does not
 * read (a full datagram queue), and then the event loop, every client and
 * the watchdog's last words wait with it. Here the line is formatted as
 * glibc does ("<PRI>Mmm dd hh:mm:ss TAG[PID]: text", a NUL after each line
 * on a stream socket) and sent with MSG_DONTWAIT on a socket connected
 * before any chroot; a line that cannot go at once is dropped and counted,
 * and the count is sent ahead of the next line that can. A stream socket
 * that took only part of a line is closed (its reader sees the end of a
 * record) and connected again, as glibc reconnects after an error.
 *
 * Every time stamp is written digit by digit from a struct tm: the same
 * code serves ss_msg_emergency() in a signal handler, where localtime_r()
 * and snprintf() may not be called; there the broken-down time comes from
 * the offset from UTC of the last line logged or of the time zone read
 * before a chroot (UTC, said as +00:00, when neither was). The time zone is loaded at the first line that needs a
 * time, not at start (a stream-mode start would pay for reading it), or
 * before a chroot (privs_chroot()).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fdbase.h"
#include "msg.h"

int     ss_msg_verbose;

/* what a copy on stderr starts with */
#define SS_MSG_STAMP_NONE	0	/* a terminal: a person reads it */
#define SS_MSG_STAMP_TIME	1	/* a file or a pipe: RFC 3339 */
#define SS_MSG_STAMP_PRIORITY	2	/* the journal: "<N>" */

static char ss_msg_tag[256] = "single-server";
static int ss_msg_to_syslog;
static int ss_msg_syslog_facility = LOG_DAEMON;
static int ss_msg_to_stderr = SS_MSG_STDERR_PROBLEMS;
static int ss_msg_stderr_socket;	/* fd 2 is a socket: never write */
static int ss_msg_stamp;		/* SS_MSG_STAMP_* */
static void (*ss_msg_cleanup_fn)(void);
static const char *ss_msg_hint;
static long ss_msg_pid;			/* 0: ask getpid() */
static long ss_msg_gmtoff;		/* of the last local time */

/*
 * The log socket: /dev/log, or a log server's (ss_msg_log_server). It
 * is kept across chroot; ss_msg_log_ok says a socket answered at start,
 * ss_msg_syslog_fd is -1 between a lost connection and the next one.
 * It lives above the descriptor base (fdbase.h): the listeners put on
 * fds 3.. for a re-execution never replace it, and the line that a
 * failed execve() logs goes where it should.
 */
static int ss_msg_syslog_fd = -1;
static int ss_msg_log_ok;
static int ss_msg_log_type;		/* SOCK_DGRAM or SOCK_STREAM */
static int ss_msg_log_dgram_only;
static char ss_msg_log_path[sizeof(((struct sockaddr_un *) 0)->sun_path)]
	= "/dev/log";
static char ss_msg_log_host[64];	/* log server format: host */
static unsigned long ss_msg_dropped;
static pthread_mutex_t ss_msg_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t ss_msg_log_retry;		/* next reconnect, when lost */

/* a line in the making: characters are added until end, never past it */
typedef struct {
    char   *p;
    char   *end;
} SS_MSG_LINE;

/* ss_msg_put - add a string (async-signal-safe) */
static void ss_msg_put(SS_MSG_LINE *lp, const char *s)
{
    while (*s && lp->p < lp->end)
	*lp->p++ = *s++;
}

/* ss_msg_put_num - add a number, zero-padded to width (async-signal-safe) */
static void ss_msg_put_num(SS_MSG_LINE *lp, unsigned long n, int width)
{
    char    digits[24];
    int     i = sizeof(digits) - 1;

    digits[i] = 0;
    do {
	digits[--i] = '0' + n % 10;
	n /= 10;
    } while ((n > 0 || sizeof(digits) - 1 - i < (size_t) width) && i > 0);
    ss_msg_put(lp, digits + i);
}

/*
 * ss_msg_civil - the date of a day counted from 1970-01-01, proleptic
 * Gregorian (async-signal-safe: arithmetic only). Days are shifted to
 * start the year on March 1st, so that February's length comes last;
 * an era is 400 years, 146097 days.
 */
static void ss_msg_civil(long long days, struct tm *tm)
{
    long long z = days + 719468;		/* days since 0000-03-01 */
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long    doe = (long) (z - era * 146097);	/* [0, 146096] */
    long    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long    mp = (5 * doy + 2) / 153;		/* March is 0 */

    tm->tm_mday = (int) (doy - (153 * mp + 2) / 5 + 1);
    tm->tm_mon = (int) (mp < 10 ? mp + 2 : mp - 10);
    tm->tm_year = (int) (yoe + era * 400 + (tm->tm_mon < 2) - 1900);
}

/* ss_msg_tm_offset - local time from UTC and an offset (async-signal-safe) */
static void ss_msg_tm_offset(time_t t, long gmtoff, struct tm *tm)
{
    long long local = (long long) t + gmtoff;
    long long days = (local >= 0 ? local : local - 86399) / 86400;
    long    secs = (long) (local - days * 86400);

    ss_msg_civil(days, tm);
    tm->tm_hour = (int) (secs / 3600);
    tm->tm_min = (int) (secs / 60 % 60);
    tm->tm_sec = (int) (secs % 60);
    tm->tm_gmtoff = gmtoff;
}

/* ss_msg_put_hms - "hh:mm:ss" */
static void ss_msg_put_hms(SS_MSG_LINE *lp, const struct tm *tm)
{
    ss_msg_put_num(lp, (unsigned long) tm->tm_hour, 2);
    ss_msg_put(lp, ":");
    ss_msg_put_num(lp, (unsigned long) tm->tm_min, 2);
    ss_msg_put(lp, ":");
    ss_msg_put_num(lp, (unsigned long) tm->tm_sec, 2);
}

/* ss_msg_put_bsd_time - "Mmm dd hh:mm:ss": the day space- or zero-padded */
static void ss_msg_put_bsd_time(SS_MSG_LINE *lp, const struct tm *tm,
				        int zero)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

    ss_msg_put(lp, months[tm->tm_mon % 12]);
    ss_msg_put(lp, tm->tm_mday < 10 && !zero ? "  " : " ");
    ss_msg_put_num(lp, (unsigned long) tm->tm_mday, zero ? 2 : 1);
    ss_msg_put(lp, " ");
    ss_msg_put_hms(lp, tm);
}

/* ss_msg_put_rfc3339 - "2026-12-07T10:23:45.123+01:00" */
static void ss_msg_put_rfc3339(SS_MSG_LINE *lp, const struct tm *tm, long ms)
{
    long    off = tm->tm_gmtoff < 0 ? -tm->tm_gmtoff : tm->tm_gmtoff;

    ss_msg_put_num(lp, (unsigned long) (tm->tm_year + 1900), 4);
    ss_msg_put(lp, "-");
    ss_msg_put_num(lp, (unsigned long) tm->tm_mon + 1, 2);
    ss_msg_put(lp, "-");
    ss_msg_put_num(lp, (unsigned long) tm->tm_mday, 2);
    ss_msg_put(lp, "T");
    ss_msg_put_hms(lp, tm);
    ss_msg_put(lp, ".");
    ss_msg_put_num(lp, (unsigned long) ms, 3);
    ss_msg_put(lp, tm->tm_gmtoff < 0 ? "-" : "+");
    ss_msg_put_num(lp, (unsigned long) off / 3600, 2);
    ss_msg_put(lp, ":");
    ss_msg_put_num(lp, (unsigned long) off / 60 % 60, 2);
}

/*
 * ss_msg_put_head - what comes before "TAG[PID]: " on the log socket:
 * "<PRI>Mmm dd hh:mm:ss " for syslog, or "Mmm dd hh:mm:ss HOST " for a
 * log server, as Postfix's postlogd(8) writes it to the log file as is
 */
static void ss_msg_put_head(SS_MSG_LINE *lp, const struct tm *tm, int level)
{
    if (*ss_msg_log_host) {
	ss_msg_put_bsd_time(lp, tm, 1);
	ss_msg_put(lp, " ");
	ss_msg_put(lp, ss_msg_log_host);
    } else {
	ss_msg_put(lp, "<");
	ss_msg_put_num(lp, (unsigned long) (ss_msg_syslog_facility | level), 1);
	ss_msg_put(lp, ">");
	ss_msg_put_bsd_time(lp, tm, 0);
    }
    ss_msg_put(lp, " ");
}

/* ss_msg_put_ident - "TAG[PID]: " */
static void ss_msg_put_ident(SS_MSG_LINE *lp, long pid)
{
    ss_msg_put(lp, ss_msg_tag);
    ss_msg_put(lp, "[");
    ss_msg_put_num(lp, (unsigned long) pid, 1);
    ss_msg_put(lp, "]: ");
}

/* ss_msg_put_stamp - what a stderr copy starts with, as ss_msg_open chose */
static void ss_msg_put_stamp(SS_MSG_LINE *lp, const struct tm *tm, long ms,
			             int level)
{
    if (ss_msg_stamp == SS_MSG_STAMP_PRIORITY) {
	ss_msg_put(lp, "<");
	ss_msg_put_num(lp, (unsigned long) level, 1);
	ss_msg_put(lp, ">");
    } else if (ss_msg_stamp == SS_MSG_STAMP_TIME) {
	ss_msg_put_rfc3339(lp, tm, ms);
	ss_msg_put(lp, " ");
    }
}

/*
 * ss_msg_connect - a socket connected to the log socket path, or -1:
 * datagram first, then stream (as glibc's syslog() tries them) unless
 * only datagrams will do. No socket at all when the path is not a socket
 * (a bare container: every start would pay for sockets that cannot
 * connect). Non-blocking: a stream listener with a full backlog is
 * not waited for either.
 */
static int ss_msg_connect(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    struct stat st;
    size_t  i;
    int     fd;

    memcpy(sun.sun_path, ss_msg_log_path, sizeof(sun.sun_path));
    if (stat(sun.sun_path, &st) < 0)
	return (-1);
    if (!S_ISSOCK(st.st_mode)) {
	errno = ENOTSOCK;
	return (-1);
    }
    for (i = 0; i < (ss_msg_log_dgram_only ? 1 : 2); i++) {
	fd = fdbase_lift(socket(AF_UNIX, types[i] | SOCK_CLOEXEC
				| SOCK_NONBLOCK, 0));
	if (fd < 0)
	    continue;
	if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0) {
	    ss_msg_log_type = types[i];
	    return (fd);
	}
	close(fd);
    }
    return (-1);
}

/* ss_msg_log_fd - the log socket's descriptor, or -1 (a forked helper keeps it) */
int     ss_msg_log_fd(void)
{
    return (ss_msg_syslog_fd);
}

/* ss_msg_disconnect - forget the log socket; try again at the next line */
static void ss_msg_disconnect(void)
{
    if (ss_msg_syslog_fd >= 0)
	(void) close(ss_msg_syslog_fd);
    ss_msg_syslog_fd = -1;
    ss_msg_log_retry = 0;
}

/*
 * ss_msg_fork_prepare, ss_msg_fork_parent, ss_msg_forked - no fork()
 * while another thread sends a line: the child would inherit the lock
 * held, and wait for it for ever at its first line. A child of fork()
 * also has a pid of its own.
 */
static void ss_msg_fork_prepare(void)
{
    (void) pthread_mutex_lock(&ss_msg_lock);
}

static void ss_msg_fork_parent(void)
{
    (void) pthread_mutex_unlock(&ss_msg_lock);
}

static void ss_msg_forked(void)
{
    ss_msg_pid = 0;
    (void) pthread_mutex_unlock(&ss_msg_lock);
}

/* ss_msg_getpid - our pid, asked once per process */
static long ss_msg_getpid(void)
{
    if (ss_msg_pid == 0)
	ss_msg_pid = (long) getpid();
    return (ss_msg_pid);
}

/* ss_msg_decimal - digits from s up to end, strictly, without overflow */
static int ss_msg_decimal(const char *s, const char *end,
			          unsigned long long *out)
{
    unsigned long long n = 0;

    if (s >= end)
	return (-1);
    for (; s < end; s++) {
	if (*s < '0' || *s > '9' || n > (~0ULL - (*s - '0')) / 10)
	    return (-1);
	n = n * 10 + (*s - '0');
    }
    *out = n;
    return (0);
}

/*
 * ss_msg_stamp_choose - what a stderr copy starts with: nothing on a
 * terminal, the "<N>" priority on the journal (JOURNAL_STREAM is
 * "DEV:INO" of the stream systemd connected; fd 2 may have been
 * redirected since), the time anywhere else
 */
static int ss_msg_stamp_choose(const struct stat *st)
{
    const char *js = getenv("JOURNAL_STREAM");
    const char *colon;
    unsigned long long dev, ino;

    if (isatty(STDERR_FILENO))
	return (SS_MSG_STAMP_NONE);
    if (js != 0 && (colon = strchr(js, ':')) != 0
	&& ss_msg_decimal(js, colon, &dev) == 0
	&& ss_msg_decimal(colon + 1, colon + 1 + strlen(colon + 1), &ino) == 0
	&& dev == (unsigned long long) st->st_dev
	&& ino == (unsigned long long) st->st_ino)
	return (SS_MSG_STAMP_PRIORITY);
    return (SS_MSG_STAMP_TIME);
}

/* ss_msg_open - the tag, syslog from now on, and what fd 2 is */
void    ss_msg_open(const char *tag)
{
    static int forked_hook;
    const char *slash = strrchr(tag, '/');
    struct stat st;

    snprintf(ss_msg_tag, sizeof ss_msg_tag, "%s", slash ? slash + 1 : tag);
    if (fstat(STDERR_FILENO, &st) == 0) {
	ss_msg_stderr_socket = S_ISSOCK(st.st_mode);
	ss_msg_stamp = ss_msg_stamp_choose(&st);
    }
    if (!forked_hook && pthread_atfork(ss_msg_fork_prepare,
				       ss_msg_fork_parent, ss_msg_forked) == 0)
	forked_hook = 1;
    ss_msg_pid = 0;
    if (ss_msg_syslog_fd < 0)		/* kept for ss_msg_emergency() */
	ss_msg_syslog_fd = ss_msg_connect();
    ss_msg_log_ok = ss_msg_syslog_fd >= 0;
    ss_msg_syslog(ss_msg_tag, LOG_DAEMON);
}

/* ss_msg_syslog - log to syslog under this tag and facility */
void    ss_msg_syslog(const char *tag, int facility)
{
    if (tag != ss_msg_tag)
	snprintf(ss_msg_tag, sizeof ss_msg_tag, "%s", tag);
    ss_msg_to_syslog = 1;
    ss_msg_syslog_facility = facility;
}

/*
 * ss_msg_log_server - from now on, lines go to the unix datagram socket
 * path instead of syslog, as "Mmm dd hh:mm:ss HOST TAG[PID]: text" with
 * HOST the first label of host. Connected now, before any chroot. On
 * failure (errno set) syslog stays as it was.
 */
int     ss_msg_log_server(const char *path, const char *host)
{
    char    saved[sizeof(ss_msg_log_path)];
    int     fd;
    int     old = ss_msg_syslog_fd;

    if (strlen(path) >= sizeof(ss_msg_log_path)) {
	errno = ENAMETOOLONG;
	return (-1);
    }
    memcpy(saved, ss_msg_log_path, sizeof(saved));
    snprintf(ss_msg_log_path, sizeof(ss_msg_log_path), "%s", path);
    ss_msg_log_dgram_only = 1;
    if ((fd = ss_msg_connect()) < 0) {
	memcpy(ss_msg_log_path, saved, sizeof(saved));
	ss_msg_log_dgram_only = 0;
	return (-1);
    }
    if (old >= 0)
	(void) close(old);
    ss_msg_syslog_fd = fd;
    ss_msg_log_retry = 0;
    ss_msg_log_ok = 1;
    if (*host == 0 || *host == '.')		/* no first label */
	host = "localhost";
    snprintf(ss_msg_log_host, sizeof(ss_msg_log_host), "%.*s",
	     (int) strcspn(host, "."), host);
    return (0);
}

/*
 * ss_msg_tz_load - read the time zone now (before a chroot hides its
 * file), and keep its offset for a watchdog line that no line precedes
 */
void    ss_msg_tz_load(void)
{
    time_t  now = time(0);
    struct tm tm;

    (void) pthread_mutex_lock(&ss_msg_lock);
    tzset();
    if (localtime_r(&now, &tm) != 0)
	ss_msg_gmtoff = tm.tm_gmtoff;
    (void) pthread_mutex_unlock(&ss_msg_lock);
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
    if (!ss_msg_log_ok)
	return (1);				/* or it would go nowhere */
    return (ss_msg_to_stderr == SS_MSG_STDERR_ALL
	    || (ss_msg_to_stderr == SS_MSG_STDERR_PROBLEMS
		&& level <= LOG_WARNING));
}

/* ss_msg_send_once - one send that never waits; 0 sent, -1 (errno) not */
static int ss_msg_send_once(const char *buf, size_t len)
{
    ssize_t n;

    do {
	n = send(ss_msg_syslog_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0 && (size_t) n < len) {		/* a stream took a part */
	ss_msg_disconnect();		/* its reader sees a record end */
	errno = EAGAIN;
	return (-1);
    }
    return (n < 0 ? -1 : 0);
}

/*
 * ss_msg_send - send one line, or drop it: 0 sent, -1 dropped. A syslog
 * daemon that restarted refuses the old connection: connect again (the
 * path may be out of reach in a chroot) and send once more. After that,
 * a lost socket is tried again at most once a second.
 */
static int ss_msg_send(const char *buf, size_t len, time_t now)
{
    if (ss_msg_syslog_fd < 0) {
	if (now < ss_msg_log_retry)
	    return (-1);
	ss_msg_log_retry = now + 1;
	if ((ss_msg_syslog_fd = ss_msg_connect()) < 0)
	    return (-1);
    }
    if (ss_msg_send_once(buf, len) == 0)
	return (0);
    if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ECONNRESET
	&& errno != EPIPE)
	return (-1);
    ss_msg_disconnect();
    ss_msg_log_retry = now + 1;
    if ((ss_msg_syslog_fd = ss_msg_connect()) < 0)
	return (-1);
    return (ss_msg_send_once(buf, len));
}

/* ss_msg_line_end - a stream socket needs a NUL after each line */
static size_t ss_msg_line_end(SS_MSG_LINE *lp, char *start)
{
    if (ss_msg_log_type == SOCK_STREAM) {
	*lp->p++ = 0;			/* end is one before the buffer's */
    }
    return (lp->p - start);
}

/* ss_msg_to_log - a line to the log socket; first the count of drops */
static void ss_msg_to_log(int level, const char *label, const char *text,
			          const struct tm *tm, time_t now)
{
    char    buf[2048 + 400];
    SS_MSG_LINE line = {buf, buf + sizeof(buf) - 1};
    long    pid = ss_msg_getpid();

    if (ss_msg_dropped > 0) {
	ss_msg_put_head(&line, tm, LOG_WARNING);
	ss_msg_put_ident(&line, pid);
	ss_msg_put(&line, "warning: ");
	ss_msg_put_num(&line, ss_msg_dropped, 1);
	ss_msg_put(&line, " log line(s) dropped: syslog is not reading");
	if (ss_msg_send(buf, ss_msg_line_end(&line, buf), now) < 0) {
	    ss_msg_dropped++;			/* the one we are logging */
	    return;
	}
	ss_msg_dropped = 0;
	line.p = buf;
    }
    ss_msg_put_head(&line, tm, level);
    ss_msg_put_ident(&line, pid);
    ss_msg_put(&line, label);
    ss_msg_put(&line, text);
    if (ss_msg_send(buf, ss_msg_line_end(&line, buf), now) < 0)
	ss_msg_dropped++;
}

/* ss_msg_to_stderr_copy - the copy on stderr, with its stamp */
static void ss_msg_to_stderr_copy(int level, const char *label,
		              const char *text, const struct tm *tm, long ms)
{
    char    buf[2048 + 300];
    SS_MSG_LINE line = {buf, buf + sizeof(buf) - 1};

    ss_msg_put_stamp(&line, tm, ms, level);
    ss_msg_put_ident(&line, ss_msg_getpid());
    ss_msg_put(&line, label);
    ss_msg_put(&line, text);
    *line.p++ = '\n';			/* end is one before the buffer's */
    if (write(STDERR_FILENO, buf, line.p - buf) < 0) {
	/* nowhere left to complain */ ;
    }
}

/* ss_msg_vlog - format one line and send it where it belongs */
static void ss_msg_vlog(int level, const char *label, const char *fmt,
			        va_list ap)
{
    int     saved_errno = errno;
    int     to_log = ss_msg_to_syslog && ss_msg_log_ok;
    int     to_stderr = ss_msg_stderr_wanted(level);
    char    text[2048];
    struct timespec ts = {0, 0};
    struct tm tm = {0};

    errno = saved_errno;			/* for %m */
    vsnprintf(text, sizeof text, fmt, ap);
    /* One line at a time: the socket, the count of drops, the pid. */
    (void) pthread_mutex_lock(&ss_msg_lock);
    /* The time only for a line that is written somewhere, and needs one. */
    if (to_log || (to_stderr && ss_msg_stamp == SS_MSG_STAMP_TIME)) {
	(void) clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) != 0)
	    ss_msg_gmtoff = tm.tm_gmtoff;	/* for ss_msg_emergency() */
    }
    if (to_log)
	ss_msg_to_log(level, label, text, &tm, ts.tv_sec);
    if (to_stderr)
	ss_msg_to_stderr_copy(level, label, text, &tm, ts.tv_nsec / 1000000);
    (void) pthread_mutex_unlock(&ss_msg_lock);
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

/* "TAG[PID]: fatal: text", made by ss_msg_emergency_prepare() */
static char ss_msg_emerg_body[512];

/* ss_msg_emergency_prepare - format a fatal line now, to send it later */
void    ss_msg_emergency_prepare(const char *text)
{
    snprintf(ss_msg_emerg_body, sizeof(ss_msg_emerg_body), "%s[%ld]: fatal: %s",
	     ss_msg_tag, (long) getpid(), text);
}

/*
 * ss_msg_emergency - send the prepared line with the time of now: only
 * async-signal-safe calls (clock_gettime, send, write), and the send
 * never waits for a syslog daemon that does not read
 */
void    ss_msg_emergency(void)
{
    char    buf[sizeof(ss_msg_emerg_body) + 100];
    SS_MSG_LINE line = {buf, buf + sizeof(buf) - 1};
    struct timespec ts = {0, 0};
    struct tm tm = {0};

    (void) clock_gettime(CLOCK_REALTIME, &ts);
    ss_msg_tm_offset(ts.tv_sec, ss_msg_gmtoff, &tm);
    if (ss_msg_syslog_fd >= 0) {
	ss_msg_put_head(&line, &tm, LOG_CRIT);
	ss_msg_put(&line, ss_msg_emerg_body);
	(void) send(ss_msg_syslog_fd, buf, ss_msg_line_end(&line, buf),
		    MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    if (ss_msg_stderr_wanted(LOG_CRIT)) {
	line.p = buf;
	ss_msg_put_stamp(&line, &tm, ts.tv_nsec / 1000000, LOG_CRIT);
	ss_msg_put(&line, ss_msg_emerg_body);
	*line.p++ = '\n';
	if (write(STDERR_FILENO, buf, line.p - buf) < 0) {
	    /* nowhere left to complain */ ;
	}
    }
}
