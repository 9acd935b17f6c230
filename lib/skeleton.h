#ifndef SS_SKELETON_H
#define SS_SKELETON_H

/*
 * skeleton.h - state shared by single_server.c, skeleton.c, stream.c and
 * the resident files (resident.h).
 * Private to the library: applications see only single_server.h.
 *
 *	void	skeleton_init_process(SKELETON *sk, int argc, char **argv);
 *		pre_init, chroot and privilege drop, post_init, in that order.
 *	void	skeleton_signals(SKELETON *sk);
 *		SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 (log the counters)
 *		and SIGUSR2 (ignored) through one callback.
 *	void	skeleton_counters(SKELETON *sk, char *buf, size_t len);
 *		"served N, running N, paused N, refused N", as STATUS= and
 *		SIGUSR1 say them.
 *	int	stream_run(SKELETON *sk, int argc, char **argv);
 *	int	resident_run(SKELETON *sk, int argc, char **argv);
 *		the two modes; each returns the exit status.
 *	void	resident_leave(SKELETON *sk, int sig);
 *	void	stream_leave(SKELETON *sk, int sig);
 *		a signal asked the resident loop to leave; in stream mode,
 *		the handler's once it runs, before that one that ends the
 *		client's wait (its PROXY header, its in-flow pause).
 *	void	skeleton_admit_open(SKELETON *sk);
 *		read the access rules (before any chroot), and set up the
 *		per-source limit (resident mode only, not under master(8))
 *		and the PROXY step;
 *		exit 100 when the rules or the upstream_proxy_ parameters
 *		are bad.
 *	void	skeleton_flow_open(SKELETON *sk, int fd);
 *		open the in-flow bucket when in_flow_rate is set (before
 *		privileges are dropped); exit 111 when it is unsafe. fd, unless
 *		-1, is the bucket file a previous image handed over.
 *	int	skeleton_flow_pause(SKELETON *sk);
 *		take a token for a new client; 1 when the client must wait
 *		in_flow_delay first (logged with -v).
 *	pid_t	skeleton_spawn(SKELETON *sk, SINGLE_SERVER_CLIENT *client);
 *		the application's spawn(), with the child's stderr as
 *		handler_stderr says and its own process group; tracked by
 *		child.c. -1 with errno set on failure.
 *	void	skeleton_clients(SKELETON *sk, const CLIENT_HOOKS *hooks,
 *			void *context);
 *		the client table (client.h), with the mode's hooks, the
 *		admission and PROXY steps and the in-flow pause.
 */

#include <time.h>

#include <event2/event.h>

#include "admit.h"
#include "client.h"
#include "flow.h"
#include "reexec.h"
#include "listener.h"
#include "master.h"
#include "options.h"
#include "privs.h"
#include "single_server.h"
#include "upstream.h"

typedef enum SKELETON_STDERR {
    SKELETON_STDERR_INHERIT,            /* the tool's own fd 2 */
    SKELETON_STDERR_LOG,                /* a pipe, logged line by line */
    SKELETON_STDERR_NULL,               /* /dev/null */
} SKELETON_STDERR;

typedef struct SKELETON {
    const SINGLE_SERVER_APP *app;
    OPTIONS opts;
    REEXEC  re;                         /* re-execution: reexec.h */
    MASTER  ma;                         /* master(8) mode: master.h */
    struct event_base *base;
    int     devnull;                    /* /dev/null, opened before chroot */
    int     stderr_closed;              /* fd 2 was closed when we started */
    SKELETON_STDERR handler_stderr;     /* handlers' fd 2 */
    int     new_group;                  /* handlers lead their own group */
    int     pipe_warned;                /* said that stderr pipes ran out */
    int     idle_given;                 /* max_idle set by -i, -o or -f */
    SS_LISTENER_LIST listeners;
    SS_LISTENER_OPTS listen_opts;       /* listener parameters */
    PRIVS   privs;
    struct event *signal_ev[6];         /* CHLD, TERM, INT, HUP, USR1, USR2 */
    time_t  started;                    /* this image's start, for SIGUSR1 */
    FLOW   *flow;                       /* in-flow bucket, or null */
    ADMIT  *admit;                      /* access rules: admit.h */
    UPSTREAM *upstream;                 /* the PROXY step: upstream.h */
    CLIENT_TABLE clients;               /* every client: client.h */
    struct RESIDENT *resident;          /* resident mode's state, or null */
    struct TLS_SERVER *tls;             /* TLS on: tls.h; or null */
    long    tls_timeout_ms;             /* tls_handshake_timeout */
    int     tls_kept;                   /* on, with a handed-over relay's keys */
    struct DNS *dns;                    /* host names wanted: dns.h */
    int     host_lookup;                /* remote_host_lookup: CLIENT_HOST_ */
    long    dns_ms;                     /* dns_timeout */
    const char *local_host;             /* local_host_name (clean), or null */
} SKELETON;

extern void skeleton_init_process(SKELETON *, int, char **);
extern void skeleton_signals(SKELETON *);
extern void skeleton_counters(SKELETON *, char *, size_t);
extern int stream_run(SKELETON *, int, char **);
extern int resident_run(SKELETON *, int, char **);
extern void resident_leave(SKELETON *, int);
extern void stream_leave(SKELETON *, int);
extern void skeleton_admit_open(SKELETON *);
extern void skeleton_flow_open(SKELETON *, int);
extern int skeleton_flow_pause(SKELETON *);
extern pid_t skeleton_spawn(SKELETON *, SINGLE_SERVER_CLIENT *);
extern void skeleton_clients(SKELETON *, const CLIENT_HOOKS *, void *);

#endif
