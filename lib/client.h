#ifndef SS_CLIENT_H
#define SS_CLIENT_H

/*++
 * NAME
 *	client 3
 * SUMMARY
 *	one object per client, one table, one state machine, every mode
 * SYNOPSIS
 *	#include <client.h>
 *
 *	void	client_table_init(CLIENT_TABLE *t, struct event_base *base,
 *			const CLIENT_HOOKS *hooks, void *context);
 *	CLIENT *client_new(CLIENT_TABLE *t, int fd, const SS_LISTENER *lp);
 *	void	client_run(CLIENT *cl, short what);
 *	void	client_pass(CLIENT *cl, int fd);
 *	void	client_start_now(CLIENT *cl);
 *	void	client_reaped(CLIENT_TABLE *t, pid_t pid);
 *	void	client_drop(CLIENT *cl, const char *why);
 *	void	client_linger(CLIENT *cl, long ms);
 *	void	client_resume(CLIENT *cl, CLIENT_STATE state, long ms);
 *	CLIENT *client_adopt(CLIENT_TABLE *t, pid_t pid);
 *	int	client_busy(const CLIENT_TABLE *t);
 *	int	client_count(const CLIENT_TABLE *t, CLIENT_STATE state);
 *	long	client_ms_left(const CLIENT *cl);
 *	CLIENT_FOREACH(cl, next, t) { ... }
 * DESCRIPTION
 *	Every client the process is responsible for is a CLIENT in one
 *	table, in one of these states; client_run() is the one function
 *	that moves a client on as far as it goes, the others below bring
 *	it what it cannot see for itself, and client_move() (static) is
 *	the only place its state changes:
 *
 *	    [passing] --> accepted --> [header] --> [lookup] --> admitted
 *	        --> [handshake]
 *	        --> [paused] --> started --> done
 *	    refused anywhere before started: --> lingering --> done
 *
 *	ACCEPTED: its connection and variables are known; PASSING: under
 *	master(8)'s pass transport, the descriptor is still on its way;
 *	HEADER: its PROXY header is being read (upstream.h), with a
 *	deadline; LOOKUP: its host name is being looked up (dns.h), when
 *	the table has a resolver and the name is wanted: by name rules,
 *	since no address rule but "*" decides for it (admit.h), or for
 *	TCPREMOTEHOST (the table's host_lookup) unless an address rule
 *	denies it anyway; the deadline (dns_ms, or the time a handed-over
 *	client had left) ends the wait without a name, and so does a
 *	failure. A name from DNS (clean: hostname.h) becomes
 *	TCPREMOTEHOST as host_lookup says (yes: as found; paranoid: only
 *	when its forward lookup holds the client's address), and only a
 *	name that passed that check is shown to name rules; the table's
 *	local_host, if any, is TCPLOCALHOST of every TCP client. A PTR
 *	name that is no host name is logged (admit_note()). ADMITTED: the
 *	rules and the per-source limit let it in
 *	(admit.h), it holds its ticket; HANDSHAKE: with TLS on, its
 *	connection was given to the TLS handshake (the handshake hook: a
 *	relay process, or in stream mode this process's own loop), which
 *	brings the outcome: client_handshaken() with the handler's two
 *	descriptors (plaintext) and its TLS variables, or
 *	client_handshake_failed() and why (logged as a refusal, rate
 *	limited per source; the connection was closed there); PAUSED: in its in-flow pause, or
 *	waiting to retry a handler that could not start for want of
 *	processes or memory; STARTED: its handler runs (or the in-process
 *	service serves it), and the client is done when it was reaped;
 *	LINGERING: refused, the message and our end of file sent, what it
 *	still sends read and dropped for a while (no reset). A client
 *	waits in PASSING, HEADER, LOOKUP, HANDSHAKE, PAUSED, STARTED or
 *	LINGERING; it goes
 *	through the others within one call. Each client has one event
 *	(its connection, its timer, or both) and one monotonic deadline.
 *
 *	The table knows nothing of modes. The mode gives hooks: start()
 *	starts the handler (its pid; 0 served in-process; -1 and errno),
 *	admitted() hears of each admitted client (max_use counts it),
 *	nostart() of a handler that could not start (it returns the
 *	milliseconds to wait before a retry, or -1: refuse the client),
 *	started() of a client handed to the application once the process's
 *	own copy of its connection is closed (cl->pid: its handler, 0
 *	served in-process), and
 *	changed() runs after a client moved on in the event loop (the
 *	mode decides what to watch). Counters: served (handed to the
 *	application) and refused (denied, bad header, no handler).
 *
 *	client_new() makes an ACCEPTED client (fd -1: a PASSING one,
 *	whose descriptor client_pass() brings, or -1 if none came;
 *	resident mode makes every accepted client so, and passes it its
 *	connection at once unless master(8)'s pass transport brings it).
 *	client_run() moves it on as far as it can go now; what is the
 *	event that woke it (0: none). client_start_now() ends a pause
 *	(leaving, or a re-execution that cannot hand the client over).
 *	client_reaped() ends the STARTED client of a handler pid.
 *	client_drop() closes a client that waits for something that will
 *	not come now (the drain is over, or the process leaves with
 *	refused clients still lingering), with an end of file, not a
 *	reset; "leaving: closing WHAT" is logged unless what is null.
 *
 *	client_linger() refuses a client: see LINGERING; ms is how long
 *	it may linger. client_resume() takes a client handed over by a
 *	previous image back into HEADER (ms left to send it), LOOKUP (its
 *	lookup made again, within the ms it had left), PAUSED (looked up
 *	again if names are wanted, judged again by the rules read now; ms
 *	left of its pause; it was counted by admitted() in the image that
 *	admitted it, not again) or LINGERING; client_adopt() makes a STARTED client of a handler the
 *	previous image started.
 *
 *	With TLS on, the mode sets the table's handshake function: it
 *	hands an admitted client's connection (the fd given, no longer
 *	the client's) to the handshake (0; -1: it could not, the fd is
 *	closed and the client refused); the outcome may come before it
 *	returns. A client whose outcome does not come within the table's
 *	handshake_ms is refused ("no answer from the TLS relay").
 *	client_resume_tls() makes a client that a previous image
 *	gave to a handshake (a PASSING client of client_new(), its peer
 *	and variables filled in) one of ours with its outcome: judged
 *	again by the rules read now, then as client_handshaken() or
 *	client_handshake_failed() (in_fd -1, why).
 *
 *	client_find() is the HANDSHAKE client of an id (each client gets
 *	one from the table as it enters HANDSHAKE), or null.
 *
 *	client_busy() counts the clients being served or waiting to be
 *	(every state but LINGERING); client_count() those in one state.
 *	client_ms_left() is the time left to a client's deadline, which
 *	is kept on the monotonic clock.
 *--*/

#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#include "admit.h"
#include "dns.h"
#include "listener.h"
#include "single_server.h"
#include "upstream.h"

typedef enum CLIENT_STATE {
    CLIENT_ACCEPTED,
    CLIENT_PASSING,
    CLIENT_HEADER,
    CLIENT_LOOKUP,
    CLIENT_ADMITTED,
    CLIENT_HANDSHAKE,
    CLIENT_PAUSED,
    CLIENT_STARTED,
    CLIENT_LINGERING,
    CLIENT_DONE,
    CLIENT_NSTATES,
} CLIENT_STATE;

typedef struct CLIENT {
    SINGLE_SERVER_CLIENT c;             /* what the application sees */
    CLIENT_STATE state;
    ADMIT_TICKET ticket;                /* its per-source slot */
    pid_t   pid;                        /* STARTED: its handler, or 0 */
    struct event *ev;                   /* its one event, or null */
    struct timespec deadline;           /* CLOCK_MONOTONIC */
    UPSTREAM_READ rd;                   /* HEADER */
    size_t  drained;                    /* LINGERING: bytes dropped */
    unsigned long id;                   /* HANDSHAKE: the relay's name */
    char   *tls_env;                    /* after it: the TLS variables */
    struct DNS_QUERY *query;            /* LOOKUP: its lookup in flight */
    char   *host;                       /* its host name (clean), or null */
    int     verified;                   /* host passed the forward check */
    int     looked;                     /* no lookup (again) */
    long    wait_ms;                    /* handed over: LOOKUP's time left */
    long    resume_ms;                  /* handed over paused: -1, or the */
                                        /* pause left once judged */
    struct CLIENT_TABLE *table;
    struct CLIENT *prev;
    struct CLIENT *next;
} CLIENT;

typedef struct CLIENT_HOOKS {
    pid_t   (*start) (CLIENT *, void *);
    void    (*admitted) (CLIENT *, void *);
    long    (*nostart) (CLIENT *, int, void *);     /* ms to a retry, -1 */
    void    (*started) (CLIENT *, void *);          /* our copy closed */
    void    (*changed) (void *);
} CLIENT_HOOKS;

typedef struct CLIENT_TABLE {
    struct event_base *base;
    const CLIENT_HOOKS *hooks;
    void   *context;
    ADMIT  *admit;                      /* the rules, the per-source limit */
    UPSTREAM *upstream;                 /* the PROXY step */
    int     read_how;                   /* upstream_read_start()'s how */
    int     (*pause) (void *);          /* 1: take the in-flow pause */
    void   *pause_context;
    long    pause_ms;                   /* in_flow_delay */
    long    linger_ms;                  /* a refused client's, at most */
    int     (*handshake) (CLIENT *, int, void *);   /* TLS on: 0, -1 */
    void   *handshake_context;
    long    handshake_ms;               /* then it gave up on an answer */
    struct DNS *dns;                    /* host names wanted: the resolver */
    int     host_lookup;                /* remote_host_lookup: CLIENT_HOST_ */
    long    dns_ms;                     /* dns_timeout */
    const char *local_host;             /* local_host_name, or null */
    const char *service_name;
    CLIENT *head;
    int     count[CLIENT_NSTATES];
    long    served;
    long    refused;
    unsigned long next_id;
} CLIENT_TABLE;

#define CLIENT_HOST_NO       0      /* remote_host_lookup */
#define CLIENT_HOST_YES      1
#define CLIENT_HOST_PARANOID 2

#define CLIENT_LINGER_MS    2000        /* a refused client's end of file */
#define CLIENT_LINGER_MAX   256         /* refused clients lingering at once */

#define CLIENT_FOREACH(cl, nx, t) \
    for ((cl) = (t)->head; (cl) && ((nx) = (cl)->next, 1); (cl) = (nx))

extern void client_table_init(CLIENT_TABLE *, struct event_base *,
                                      const CLIENT_HOOKS *, void *);
extern CLIENT *client_new(CLIENT_TABLE *, int, const SS_LISTENER *);
extern void client_run(CLIENT *, short);
extern void client_pass(CLIENT *, int);
extern void client_start_now(CLIENT *);
extern void client_reaped(CLIENT_TABLE *, pid_t);
extern void client_drop(CLIENT *, const char *);
extern void client_linger(CLIENT *, long);
extern void client_resume(CLIENT *, CLIENT_STATE, long);
extern CLIENT *client_adopt(CLIENT_TABLE *, pid_t);
extern CLIENT *client_find(CLIENT_TABLE *, unsigned long);
extern void client_handshaken(CLIENT *, int, int, const char *, size_t);
extern void client_handshake_failed(CLIENT *, const char *);
extern void client_resume_tls(CLIENT *, int, int, const char *, size_t,
                                      const char *);
extern int client_busy(const CLIENT_TABLE *);
extern int client_count(const CLIENT_TABLE *, CLIENT_STATE);
extern long client_ms_left(const CLIENT *);

#endif
