#ifndef SS_RESIDENT_H
#define SS_RESIDENT_H

/*
 * resident.h - resident mode's own state, shared by resident.c (accept,
 * serve, leave), resident_listen.c (the listening sockets, at start),
 * reload.c (re-execute: check, hand over, take over) and master_policy.c.
 * Private to the library.
 *
 *	void	resident_update(RESIDENT *rs);
 *		the one place that decides what to watch, and whether
 *		to leave.
 *	void	resident_idle_start(RESIDENT *rs);
 *		(re)start the max_idle clock.
 *	void	resident_stop(RESIDENT *rs);
 *		accept no more: close the listeners.
 *	void	resident_reload(RESIDENT *rs, const char *why,
 *			int always_check);
 *		own listeners at max_use or SIGHUP: check, then re-execute.
 *	void	resident_reexec_now(RESIDENT *rs);
 *		the exec is due, out of the loop: hand over, or serve on.
 *	void	resident_reload_events(RESIDENT *rs);
 *		reload.c's timers.
 *	void	resident_take_over(RESIDENT *rs);
 *		serve on what a previous image handed over.
 *	void	resident_client_env(SINGLE_SERVER_CLIENT *c);
 *		a new client's UCSPI variables.
 *	void	resident_listeners(SKELETON *sk, int handed_over);
 *	void	resident_tune(SKELETON *sk, int handed_over);
 *		open or inherit the listening sockets; set their options.
 *	int	resident_own(SKELETON *sk);
 *		are they all ours, and can we run the program again?
 *	void	resident_print_addresses(SKELETON *sk);
 *		-1: each bound address on stdout, then stdout closed.
 *
 *	void	master_policy_start(RESIDENT *rs);
 *		master(8) mode: the policy below, and the status channel.
 *	void	resident_tls_start(RESIDENT *rs);
 *		TLS: take the previous images' relays, start ours.
 *	void	resident_tls_export(RESIDENT *rs);
 *		TLS: the relays, for the next image (before the exec).
 *	int	resident_tls_relay_kept(void);
 *		TLS: did the previous image hand over its relay, which
 *		can serve on when this image cannot read the keys?
 *
 * The master(8) policy is a RESIDENT_POLICY: when a client may be taken,
 * what an accept means, what to do when the process goes idle or stops.
 * Without master(8), policy is null and none of it runs.
 */

#include "client.h"
#include "skeleton.h"

typedef struct RESIDENT RESIDENT;

typedef struct RESIDENT_POLICY {
    int     (*may_accept) (RESIDENT *);     /* beyond process_limit */
    void    (*accepted) (RESIDENT *, int);  /* accept() gave this */
    int     (*pass) (RESIDENT *, CLIENT *, int);    /* 1: PASSING */
    void    (*update) (RESIDENT *);         /* after every change */
    void    (*stop) (RESIDENT *);           /* accept no more */
    void    (*drop) (RESIDENT *);           /* the drain is over */
} RESIDENT_POLICY;

struct RESIDENT {
    SKELETON *sk;
    const RESIDENT_POLICY *policy;      /* master(8), or null */
    CLIENT_TABLE *clients;              /* sk->clients */
    long    use_count;                  /* clients accepted */
    char    status_sent[128];           /* the last STATUS= sent */
    struct event *status_ev;            /* STATUS= at most once a second */
    int     watching;                   /* listeners armed */
    int     stopping;                   /* no more accepts: max_use, signal */
    int     leaving;                    /* a signal came */
    int     backoff;                    /* accept ran out of descriptors */
    int     backoff_warned;             /* said so; cleared by an accept */
    int     own;                        /* every listener is ours alone: */
                                        /* re-execute, never leave */
    int     finished;                   /* resident_finish() was called */
    struct event *linger_ev;            /* leaving: groups still due SIGKILL */
    struct event *idle_ev;              /* max_idle */
    struct event *drain_ev;             /* drain_timeout */
    struct event *backoff_ev;           /* EMFILE/ENFILE pause */
    struct RELAYD *relay;               /* TLS: this image's relay */
    struct RELAYD *relays;              /* and every one alive */
};

extern void master_policy_start(RESIDENT *);

extern void resident_update(RESIDENT *);
extern void resident_idle_start(RESIDENT *);
extern void resident_stop(RESIDENT *);
extern void resident_reload(RESIDENT *, const char *, int);
extern void resident_reexec_now(RESIDENT *);
extern void resident_reload_events(RESIDENT *);
extern void resident_take_over(RESIDENT *);
extern void resident_client_env(SINGLE_SERVER_CLIENT *);
extern int resident_own(SKELETON *);
extern void resident_listeners(SKELETON *, int);
extern void resident_tune(SKELETON *, int);
extern void resident_print_addresses(SKELETON *);

#ifdef HAVE_TLS
extern void resident_tls_start(RESIDENT *);
extern void resident_tls_export(RESIDENT *);
extern int resident_tls_relay_kept(void);
#else
#define resident_tls_start(rs)	((void) 0)
#define resident_tls_export(rs)	((void) 0)
#endif

#endif
