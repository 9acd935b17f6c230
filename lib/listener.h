#ifndef SS_LISTENER_H
#define SS_LISTENER_H

/*++
 * NAME
 *	listener 3
 * SUMMARY
 *	listening sockets: bound here, or inherited from systemd or inetd
 * SYNOPSIS
 *	#include <listener.h>
 *
 *	int	listener_open(SS_LISTENER_LIST *list, const char *spec,
 *			const SS_LISTENER_OPTS *opts, char **err);
 *	int	listener_check(const char *spec, char **err);
 *	int	listener_inherit_systemd(SS_LISTENER_LIST *list, int own,
 *			char **err);
 *	int	listener_inherit_stdin(SS_LISTENER_LIST *list);
 *	int	listener_inherit_master(SS_LISTENER_LIST *list, int first,
 *			int count, char **err);
 *	int	listener_tune(SS_LISTENER *lp, const SS_LISTENER_OPTS *opts,
 *			char **err);
 *	void	listener_accepted(SS_LISTENER *lp, int fd);
 *	void	listener_tune_conn(int fd, const SS_LISTENER_OPTS *opts);
 *	void	listener_unix_name(SS_LISTENER *lp, const char *spec);
 *	void	listener_close(SS_LISTENER *lp);
 * DESCRIPTION
 *	A SS_LISTENER is one non-blocking, close-on-exec listening socket with
 *	what the per-client work needs precomputed: its display form (as -1
 *	prints it), its local address when that cannot vary (TCP bound to a
 *	specific address) and its unix path.
 *
 *	SS_LISTENER_OPTS holds the listener parameters: the listen(2)
 *	backlog, a unix socket's mode, owner and group ((uid_t) -1 and
 *	(gid_t) -1: as bind(2) makes it), SO_REUSEPORT, and the TCP options
 *	(TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE in seconds and
 *	TCP_DEFER_ACCEPT in seconds; 0 means off, or the kernel's).
 *
 *	listener_open() parses spec (see addr_parse()), creates, binds and
 *	listens. A unix socket path that holds a stale socket (nobody
 *	answers) is replaced; anything else there is left alone and is an
 *	error: a live socket a system one, any file that is not a socket
 *	a configuration one ("not a socket"). The socket file gets mode
 *	unix_mode (octal). With an owner
 *	or a group, the socket is bound in a private directory next to its
 *	path, given its owner and group there, and linked into place: its
 *	path never shows another owner, group or mode. A TCP socket gets
 *	SO_REUSEPORT before bind() when opts asks for it. listener_check()
 *	makes the checks that come before binding (the address, a file in
 *	the way), for --check.
 *
 *	listener_tune() sets the TCP options of opts on a TCP listener (a
 *	unix one is left alone) once, at start: the connections accepted
 *	from it inherit them (Linux), so accepting costs nothing more.
 *	On a listener of our own (lp->own) every option is set as opts
 *	says; on a supervisor's only those opts turns on (its own settings
 *	stand). The connections already waiting when an option was turned
 *	on did not inherit it: listener_accepted() gives it to that many
 *	accepted ones (the caller calls it only while lp->untuned > 0).
 *
 *	listener_tune_conn() sets the per-connection TCP options that opts
 *	turns on on fd, when fd is a TCP socket (stream mode's client).
 *
 *	listener_unix_name() gives a unix listener handed over by a
 *	re-execution the path of spec (its -L address) as its name when
 *	the kernel knows it by its temporary name (see listener_open()).
 *
 *	listener_inherit_systemd() takes the sockets of systemd's socket
 *	activation protocol: when LISTEN_PID is our pid, LISTEN_FDS=n
 *	sockets from fd 3 on, named by LISTEN_FDNAMES. The variables are
 *	removed from our environment. It returns the count (0 for none).
 *	The sockets are marked own when own is set (our own previous image
 *	passed them on a re-execution); listener_open() marks its own.
 *
 *	listener_inherit_stdin() takes fd 0 when it is a listening socket
 *	(inetd "wait", systemd StandardInput=socket), replacing fd 0 by
 *	/dev/null; it returns 1 when it did, 0 otherwise.
 *
 *	listener_inherit_master() takes count listening sockets from fd
 *	first on, as Postfix's master(8) passes them; it returns count, or
 *	-1 with *err set when one of them is not a listening socket.
 *
 *	listener_close() closes one listener (the caller frees its event
 *	first).
 * DIAGNOSTICS
 *	listener_open() returns 0, or the exit status that fits the failure
 *	(SS_MSG_EXIT_USAGE for a bad address or a file in the way,
 *	SS_MSG_EXIT_SYSTEM when the system refused) with *err set;
 *	listener_check() the same, or 0. listener_inherit_systemd()
 *	returns -1 with *err set when a passed descriptor is not a
 *	listening stream socket. listener_tune() returns 0, or -1 with
 *	*err set (the listener stays usable: the caller decides whether
 *	that is fatal).
 *--*/

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

struct event;

typedef struct SS_LISTENER_OPTS {
    int     backlog;                    /* listen(2) */
    long    unix_mode;                  /* unix socket file mode */
    uid_t   unix_uid;                   /* owner, or (uid_t) -1 */
    gid_t   unix_gid;                   /* group, or (gid_t) -1 */
    int     reuseport;                  /* SO_REUSEPORT (TCP) */
    int     nodelay;                    /* TCP_NODELAY */
    int     keepalive;                  /* SO_KEEPALIVE */
    long    keepalive_time;             /* TCP_KEEPIDLE, 0: the kernel's */
    long    defer_accept;               /* TCP_DEFER_ACCEPT, 0: off */
} SS_LISTENER_OPTS;

typedef struct SS_LISTENER {
    int     fd;
    int     family;                     /* AF_INET, AF_INET6 or AF_UNIX */
    char   *display;                    /* "127.0.0.1:40123", "unix:/p" */
    char   *fdname;                     /* LISTEN_FDNAMES entry, or null */
    int     own;                        /* bound by this process (or its */
                                        /* previous image): nobody else */
                                        /* holds it */
    char   *unix_path;                  /* AF_UNIX: the socket's path */
    int     local_fixed;                /* TCP: local address never varies */
    char    local_host[INET6_ADDRSTRLEN];
    char    local_port[8];
    int     untuned;                    /* accepts still due the TCP */
                                        /* options (listener_tune()) */
    const SS_LISTENER_OPTS *opts;       /* set by listener_tune() */
    struct event *ev;                   /* owned by the resident loop */
    void   *context;                    /* for the resident loop */
} SS_LISTENER;

typedef struct SS_LISTENER_LIST {
    SS_LISTENER *items;
    size_t  count;
} SS_LISTENER_LIST;

extern int listener_open(SS_LISTENER_LIST *, const char *,
                                 const SS_LISTENER_OPTS *, char **);
extern int listener_check(const char *, char **);
extern int listener_tune(SS_LISTENER *, const SS_LISTENER_OPTS *, char **);
extern void listener_accepted(SS_LISTENER *, int);
extern void listener_tune_conn(int, const SS_LISTENER_OPTS *);
extern void listener_unix_name(SS_LISTENER *, const char *);
extern int listener_inherit_systemd(SS_LISTENER_LIST *, int, char **);
extern int listener_inherit_stdin(SS_LISTENER_LIST *);
extern int listener_inherit_master(SS_LISTENER_LIST *, int, int, char **);
extern void listener_close(SS_LISTENER *);

#endif
