#ifndef SS_MASTER_H
#define SS_MASTER_H

/*++
 * NAME
 *	master 3
 * SUMMARY
 *	Postfix master(8) mode: layout, status channel, accept lock, pass
 * SYNOPSIS
 *	#include <master.h>
 *
 *	void	master_init(MASTER *ma);
 *	int	master_detect(long socket_count, const char *transport);
 *	int	master_channel_ok(void);
 *	int	master_transport(const char *name, int listen_family);
 *	int	master_generation(const char *text, unsigned *gen);
 *	void	master_postlog(void);
 *
 *	void	master_lock_open(MASTER *ma, const char *dir,
 *			const char *service);
 *	void	master_start(MASTER *ma, struct event_base *base,
 *			void (*gone)(void *), void (*locked)(void *),
 *			void *context);
 *	int	master_notify(MASTER *ma, int avail);
 *	void	master_lock(MASTER *ma);
 *	void	master_unlock(MASTER *ma);
 *	int	master_may_accept(const MASTER *ma);
 *
 *	void	master_pass_receive(MASTER *ma, int conn,
 *			void (*done)(int fd, void *), void *context);
 *	void	master_pass_cancel(MASTER *ma);
 *	int	master_attrs_scan(MASTER_ATTRS *st, const char *buf,
 *			size_t len);
 * DESCRIPTION
 *	Postfix's master(8) starts a service's processes with a status
 *	channel on fd 5 (a socket pair) and the service's listening
 *	sockets from fd 6 on, the process generation in $GENERATION.
 *	A process tells the master "taken" after it accepted a client
 *	and "available" when it is ready for the next one: 12 bytes each
 *	time, {pid, generation, 0 or 1} in the host's byte order. End of
 *	file on fd 5 means that the master is gone.
 *
 *	master_init() makes ma a state with no lock and no master: every
 *	other function is then a no-op or false, so that callers need not
 *	ask whether master(8) mode is on before each call.
 *
 *	master_detect() says whether we run under master(8): -s or -t was
 *	given (socket_count >= 0, transport not null), or, with neither
 *	(and no systemd sockets for us, which the caller rules out), fd 5
 *	is a pipe or a socket that is not listening and fd 6 a listening
 *	socket.
 *
 *	master_channel_ok() says whether fd 5 is a pipe or a socket that
 *	does not listen, as the status channel must be.
 *
 *	master_transport() maps -t to MASTER_INET, MASTER_UNIX or
 *	MASTER_PASS, or -1 for anything else; without -t (name null) the
 *	family of the first listener decides.
 *
 *	master_generation() converts $GENERATION (octal digits, as the
 *	master writes it); -1 when the text is anything else.
 *
 *	master_postlog() sends every log line to Postfix's postlogd(8)
 *	instead of syslog when the master says so: with maillog_file set
 *	(Postfix 3.4 and later) it gives its children $POSTLOG_SERVICE, the
 *	path of postlogd's socket, and $POSTLOG_HOSTNAME. Call it before
 *	any chroot. A socket that cannot be reached is logged as a warning,
 *	and syslog used.
 *
 *	master_lock_open() opens the accept lock, "SERVICE.TRANSPORT.lock"
 *	in dir, "MAIL_CONFIG.SERVICE.TRANSPORT.lock" when the master set
 *	$MAIL_CONFIG (see state_open() for the characters that are kept);
 *	exit 111 when that fails. Without it
 *	(-l) no lock is taken.
 *
 *	master_start() watches fd 5: at its end, gone(context) runs once.
 *	With a lock, it starts the thread that waits for it; locked(context)
 *	runs in the event loop when the lock was taken after master_lock().
 *
 *	master_notify() writes one status message. It returns -1 when the
 *	master is gone (the write failed, now or before, or fd 5 ended);
 *	gone() is not called for that.
 *
 *	master_lock() asks for the lock, once: a thread of ours blocks in
 *	flock() so that the event loop never does, and wakes the loop when
 *	it has the lock. master_unlock() lets it go (after an accept, or
 *	when leaving); a request still waiting is dropped when the lock
 *	comes. master_may_accept() is true while we hold the lock, or
 *	always when there is none.
 *
 *	master_pass_receive() takes a connection accepted on a "pass"
 *	listener: on it comes one file descriptor (SCM_RIGHTS, with one
 *	byte of data), then, as Postfix's senders write it, an attribute
 *	list, which is read to its end and ignored. Descriptors beyond the
 *	first one are closed; the one kept is made blocking (Postfix passes
 *	non-blocking sockets). When
 *	the descriptor came and the list ended (or the sender closed),
 *	conn is closed and done(fd, context) runs; with -1 for fd after a
 *	failure or MASTER_PASS_TIMEOUT seconds, logged. One at a time.
 *	master_pass_cancel() drops one still being received (leaving), with
 *	a warning and without calling done().
 *
 *	master_attrs_scan() is the parser alone: fed the bytes of an
 *	attribute list piece by piece in a zeroed MASTER_ATTRS, it returns
 *	1 once the list has ended, 0 while more is needed, -1 after more
 *	than MASTER_ATTRS_MAX bytes. The first separator tells the format:
 *	"\0" for attr_print0 ("name\0value\0...", ended by an empty name),
 *	"\n" for attr_print64's "name:value" or plain "name=value" lines,
 *	ended by an empty line.
 * DIAGNOSTICS
 *	A lock that cannot be taken (flock() fails for another reason
 *	than a signal) is fatal.
 *--*/

#include <event2/event.h>

#define MASTER_STATUS_FD        5
#define MASTER_LISTEN_FD        6

#define MASTER_INET     0
#define MASTER_UNIX     1
#define MASTER_PASS     2

#define MASTER_TAKEN    0
#define MASTER_AVAIL    1

#define MASTER_PASS_TIMEOUT 10          /* seconds for a passed descriptor */
#define MASTER_PASS_FDS 8               /* descriptors taken in (1 kept) */
#define MASTER_ATTRS_MAX 4096           /* bytes of attribute list read */

typedef enum MASTER_LOCK_STATE {
    MASTER_LOCK_NONE,                   /* not held, not asked for */
    MASTER_LOCK_WAITING,                /* the thread waits for it */
    MASTER_LOCK_HELD,
} MASTER_LOCK_STATE;

typedef struct MASTER_ATTRS {
    int     format;                     /* 0 not known yet, 1 "\0", '\n' */
    int     value;                      /* "\0" format: a value is next */
    size_t  token_len;                  /* bytes since the last separator */
    size_t  total;                      /* bytes in all */
} MASTER_ATTRS;

typedef struct MASTER {
    int     on;                         /* running under master(8) */
    int     transport;                  /* MASTER_INET, _UNIX, _PASS */
    unsigned generation;                /* $GENERATION */
    int     taken;                      /* said taken: owe "available" */
    int     gone;                       /* the master is gone */
    struct event *status_ev;            /* end of file on fd 5 */
    void    (*gone_fn) (void *);
    void    (*locked_fn) (void *);
    void   *context;
    /* the accept lock, waited for by a thread */
    int     lock_fd;                    /* -1: none (-l) */
    MASTER_LOCK_STATE lock_state;
    int     lock_asked;                 /* the thread has a request */
    int     lock_sock[2];               /* [0] the loop's, [1] the thread's */
    struct event *lock_ev;
    /* a connection on a pass listener, until its descriptor came */
    int     pass_conn;
    int     pass_fd;
    MASTER_ATTRS pass_attrs;            /* how far its attribute list is */
    struct event *pass_ev;
    struct event *pass_timer;           /* MASTER_PASS_TIMEOUT in all */
    void    (*pass_done) (int, void *);
    void   *pass_context;
} MASTER;

extern void master_init(MASTER *);
extern int master_detect(long, const char *);
extern int master_channel_ok(void);
extern int master_transport(const char *, int);
extern void master_postlog(void);
extern int master_generation(const char *, unsigned *);
extern void master_lock_open(MASTER *, const char *, const char *);
extern void master_start(MASTER *, struct event_base *, void (*) (void *),
                                 void (*) (void *), void *);
extern int master_notify(MASTER *, int);
extern void master_lock(MASTER *);
extern void master_unlock(MASTER *);
extern int master_may_accept(const MASTER *);
extern void master_pass_receive(MASTER *, int, void (*) (int, void *), void *);
extern void master_pass_cancel(MASTER *);
extern int master_attrs_scan(MASTER_ATTRS *, const char *, size_t);

#endif
