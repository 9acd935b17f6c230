#ifndef SS_SKELETON_H
#define SS_SKELETON_H

/*
 * skeleton.h - state shared by single_server.c, stream.c and resident.c.
 * Private to the library: applications see only single_server.h.
 *
 *	void	skeleton_init_process(SKELETON *sk, int argc, char **argv);
 *		pre_init, chroot and privilege drop, post_init, in that order.
 *	void	skeleton_signals(SKELETON *sk);
 *		SIGCHLD, SIGTERM, SIGINT and SIGHUP through one callback.
 *	int	stream_run(SKELETON *sk, int argc, char **argv);
 *	int	resident_run(SKELETON *sk, int argc, char **argv);
 *		the two modes; each returns the exit status.
 *	void	resident_leave(SKELETON *sk, int sig);
 *		a signal asked the resident loop to leave.
 */

#include <event2/event.h>

#include "listener.h"
#include "options.h"
#include "privs.h"
#include "single_server.h"

typedef struct SKELETON {
    const SINGLE_SERVER_APP *app;
    OPTIONS opts;
    struct event_base *base;
    LISTENER_LIST listeners;
    PRIVS   privs;
    struct event *signal_ev[4];         /* CHLD, TERM, INT, HUP */
    /* stream mode */
    int     stream_status;              /* exit status from the handler */
    /* resident mode */
    long    use_count;                  /* clients accepted */
    int     watching;                   /* listeners armed */
    int     stopping;                   /* no more accepts: max_use, signal */
    int     leaving;                    /* a signal came */
    int     backoff;                    /* accept ran out of descriptors */
    int     busy_in_process;            /* an in-process service runs */
    struct event *idle_ev;              /* max_idle */
    struct event *drain_ev;             /* drain_timeout */
    struct event *backoff_ev;           /* EMFILE/ENFILE pause */
} SKELETON;

extern void skeleton_init_process(SKELETON *, int, char **);
extern void skeleton_signals(SKELETON *);
extern int stream_run(SKELETON *, int, char **);
extern int resident_run(SKELETON *, int, char **);
extern void resident_leave(SKELETON *, int);

#endif
