#ifndef SS_HANDOVER_H
#define SS_HANDOVER_H

/*++
 * NAME
 *	handover 3
 * SUMMARY
 *	what one image of a server passes to the next across execve()
 * SYNOPSIS
 *	#include <handover.h>
 *
 *	char   *handover_format(const HANDOVER *state);
 *	int	handover_parse(const char *text, HANDOVER *state, char **err);
 *	void	handover_add_child(HANDOVER *state, const HANDOVER_CHILD *child);
 *	void	handover_add_client(HANDOVER *state, const HANDOVER_CLIENT *client);
 *	void	handover_add_source(HANDOVER *state, const HANDOVER_SOURCE *source);
 *	void	handover_free(HANDOVER *state);
 *
 *	char   *handover_format_lingering(const HANDOVER *state);
 *	int	handover_parse_lingering(const char *text, HANDOVER *state,
 *			char **err);
 * DESCRIPTION
 *	A resident server that holds its own listening sockets re-executes
 *	itself (same pid) instead of exiting, so that nobody is refused.
 *	The listening sockets go across as systemd passes them (LISTEN_FDS);
 *	the rest of what is in flight is described by one line of text in
 *	the environment variable HANDOVER_ENV, written by handover_format()
 *	and read by handover_parse(), here and nowhere else:
 *
 *	    v1 pid=PID served=N [refused=N] [stderr_closed=1] [flow=FD]
 *	       [h=PID,MS,KILLING,LOGFD]... [l=PID,FD]... [k=PGID,MS]...
 *	       [p=FD,MS,LISTENER]... [x=FD,MS,LISTENER]...
 *	       [n=FD,MS,LISTENER]...
 *	       [s=PID,FAMILY,HEX]...
 *
 *	pid is the process the line is meant for (as LISTEN_PID: a stray
 *	variable inherited from elsewhere is not ours to trust); served and
 *	refused are the counts of clients served and refused so far (for
 *	STATUS=); stderr_closed says
 *	that fd 2 was closed when the first image started (it is /dev/null
 *	since); flow the
 *	descriptor of the in-flow state file; each h= a running handler
 *	(the same process after execve, so still our child): MS
 *	milliseconds left on its timer (the time limit, or with KILLING 1
 *	the grace before SIGKILL; -1 for no timer) and the read end of its
 *	stderr pipe (-1 for none); each l= a stderr pipe whose handler was
 *	already reaped; each k= the process group of a handler reaped after
 *	SIGTERM, whose SIGKILL is due in MS milliseconds; each p= a client in its in-flow pause: its
 *	connection, the milliseconds left, and the index of its listener;
 *	each x= the same for a client still sending its PROXY header (none
 *	of which was read), MS the time left to send it; each n= the same
 *	for a client waiting for its host name (the next image looks it up
 *	again), MS the time left to wait;
 *	each s= the source (see persource.h) whose per-source slot handler
 *	PID holds: the key's family (AF_INET, AF_INET6 or AF_UNIX as a
 *	number) and its 16 bytes in 32 lowercase hex digits.
 *
 *	handover_parse() is a pure parser (no I/O, no logging): the text is
 *	checked strictly and completely, every number within bounds
 *	(descriptors from 3 to HANDOVER_FD_MAX, pids above 1, at most
 *	HANDOVER_ITEMS_MAX items), or nothing is taken. handover_add_child(),
 *	handover_add_client() and handover_add_source() append to a state
 *	that starts zeroed.
 *
 *	Refused clients that linger (their message and end of file sent,
 *	what they still send read and dropped, so that they get no reset)
 *	go in a variable of their own, HANDOVER_LINGER_ENV, as
 *	"FD,MS,LISTENER" items (MS: the time each may still linger),
 *	written by handover_format_lingering() (null: none linger) and
 *	appended to a state by handover_parse_lingering(), as strictly: an
 *	image from before they were handed over ignores that variable,
 *	where it would refuse an item it does not know in the main line,
 *	and exit (a downgrade). Such an image keeps their descriptors open,
 *	unread, until it re-executes in turn.
 * DIAGNOSTICS
 *	handover_parse() returns 0, or -1 with *err (free with myfree())
 *	naming the first bad item; state is then empty.
 *--*/

#include <sys/types.h>

#include "persource.h"

#define HANDOVER_ENV        "SINGLE_SERVER_HANDOVER"
#define HANDOVER_LINGER_ENV "SINGLE_SERVER_LINGERING"
#define HANDOVER_FD_MAX     (1 << 20)
#define HANDOVER_ITEMS_MAX  100000

typedef struct HANDOVER_CHILD {
    pid_t   pid;
    long    timer_ms;                   /* left on its timer, -1: none */
    int     killing;                    /* SIGTERM sent, SIGKILL is next */
    int     log_fd;                     /* its stderr pipe, or -1 */
    int     reaped;                     /* only its pipe is left (l=), */
                                        /* or with log_fd -1 only its */
                                        /* group's SIGKILL (k=) */
} HANDOVER_CHILD;

typedef struct HANDOVER_CLIENT {
    int     fd;                         /* the connection */
    long    pause_ms;                   /* left of its in-flow pause */
    int     listener;                   /* index of its listener */
    int     header;                     /* still sending its PROXY header: */
                                        /* pause_ms is the time it has left */
    int     linger;                     /* refused, lingering: pause_ms is */
                                        /* the time it may still linger */
                                        /* (HANDOVER_LINGER_ENV) */
    int     lookup;                     /* waiting for its host name: */
                                        /* pause_ms is the time it has left */
} HANDOVER_CLIENT;

typedef struct HANDOVER_SOURCE {
    pid_t   pid;                        /* the handler holding the slot */
    PERSOURCE_KEY key;
} HANDOVER_SOURCE;

typedef struct HANDOVER {
    pid_t   pid;                        /* the process it is meant for */
    long    served;
    long    refused;
    int     stderr_closed;              /* fd 2 was closed at first */
    int     flow_fd;                    /* -1: none */
    HANDOVER_CHILD *children;
    size_t  nchildren;
    HANDOVER_CLIENT *clients;
    size_t  nclients;
    HANDOVER_SOURCE *sources;
    size_t  nsources;
} HANDOVER;

extern char *handover_format(const HANDOVER *);
extern int handover_parse(const char *, HANDOVER *, char **);
extern void handover_add_child(HANDOVER *, const HANDOVER_CHILD *);
extern void handover_add_client(HANDOVER *, const HANDOVER_CLIENT *);
extern void handover_add_source(HANDOVER *, const HANDOVER_SOURCE *);
extern void handover_free(HANDOVER *);
extern char *handover_format_lingering(const HANDOVER *);
extern int handover_parse_lingering(const char *, HANDOVER *, char **);

#endif
