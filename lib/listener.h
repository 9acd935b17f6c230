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
 *			int backlog, long unix_mode, char **err);
 *	int	listener_check(const char *spec, char **err);
 *	int	listener_inherit_systemd(SS_LISTENER_LIST *list, int own,
 *			char **err);
 *	int	listener_inherit_stdin(SS_LISTENER_LIST *list);
 *	int	listener_inherit_master(SS_LISTENER_LIST *list, int first,
 *			int count, char **err);
 *	void	listener_close(SS_LISTENER *lp);
 * DESCRIPTION
 *	A SS_LISTENER is one non-blocking, close-on-exec listening socket with
 *	what the per-client work needs precomputed: its display form (as -1
 *	prints it), its local address when that cannot vary (TCP bound to a
 *	specific address) and its unix path.
 *
 *	listener_open() parses spec (see addr_parse()), creates, binds and
 *	listens. A unix socket path that holds a stale socket (nobody
 *	answers) is replaced; anything else there is left alone and is an
 *	error: a live socket a system one, any file that is not a socket
 *	a configuration one ("not a socket"). The socket file gets mode
 *	unix_mode (octal). listener_check() makes the checks that come
 *	before binding (the address, a file in the way), for --check.
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
 *	listening stream socket.
 *--*/

#include <netinet/in.h>
#include <sys/socket.h>

struct event;

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
    struct event *ev;                   /* owned by the resident loop */
    void   *context;                    /* for the resident loop */
} SS_LISTENER;

typedef struct SS_LISTENER_LIST {
    SS_LISTENER *items;
    size_t  count;
} SS_LISTENER_LIST;

extern int listener_open(SS_LISTENER_LIST *, const char *, int, long, char **);
extern int listener_check(const char *, char **);
extern int listener_inherit_systemd(SS_LISTENER_LIST *, int, char **);
extern int listener_inherit_stdin(SS_LISTENER_LIST *);
extern int listener_inherit_master(SS_LISTENER_LIST *, int, int, char **);
extern void listener_close(SS_LISTENER *);

#endif
