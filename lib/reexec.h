#ifndef SS_REEXEC_H
#define SS_REEXEC_H

/*
 * reexec.h - a resident server replaces its own image, keeping its pid.
 * Private to the library (see skeleton.h); the manual's IMPLEMENTATION
 * NOTES tell the whole story.
 *
 *	char   *reexec_self_path(const char *argv0, int handed_over);
 *		the absolute path we were started from: after a
 *		re-execution, the one the previous image passed on
 *		(REEXEC_PROGRAM_ENV, taken out of the environment).
 *	pid_t	reexec_check(struct SKELETON *sk);
 *		start "PROGRAM --check ARGS..."; its pid, or -1 with errno.
 *	void	reexec_exec(struct SKELETON *sk, HANDOVER *state);
 *		become a new image of the same program, same pid, the
 *		listeners on fds 3.. (LISTEN_FDS) and state in the
 *		environment; returns only to exit on failure. Under -u,
 *		the exec is of a copy that user cannot read (memfd): the
 *		new image is non-dumpable from the exec on.
 *	void	reexec_stamp(struct SKELETON *sk, char *buf, size_t len);
 *		what identifies the program, the parameter file and (once
 *		sk->re.rules_path is set) the access rules on disk, and
 *		the TLS files (sk->re.tls_files); reexec_stamp_list()
 *		appends the stamps of a comma or space separated list.
 *	void	reexec_stamp_file(const char *path, char *buf, size_t len);
 *	void	reexec_stamp_list(const char *list, char *buf, size_t len);
 *		one file's part of that, appended to buf.
 *	int	reexec_changed(struct SKELETON *sk, const char *then);
 *		has either changed since that stamp was taken?
 *	int	reexec_room(struct SKELETON *sk, size_t items, char **why);
 *		1 when descriptors and the environment have room for a
 *		re-execution with that many handlers and clients; else 0
 *		and a reason (free it).
 *	long	reexec_ms_left(struct event_base *base, struct event *ev);
 *		milliseconds until a pending timer fires (0 if overdue), or
 *		-1 when it is not pending: what a handover carries. Taken
 *		on libevent's monotonic clock: a wall clock step moves none.
 *	void	reexec_notify_reloading(void);
 *		RELOADING=1 and MONOTONIC_USEC= to the service manager.
 *	void	reexec_name(const char *self_path);
 *		a re-executed image names itself (comm) after the program
 *		again: under -u it ran from a copy (reexec_exec()).
 *	int	reexec_take(HANDOVER *state);
 *		1 and the state when a previous image handed over, else 0.
 *	long	reexec_count(int handed_over);
 *		how many re-executions led to this image (REEXEC_COUNT_ENV,
 *		passed beside the handover, taken out of the environment).
 *	void	reexec_warned_take(int handed_over);
 *		the reason a previous image warned that it ran the new one
 *		by its path (REEXEC_WARNED_ENV, taken out likewise): a
 *		warning is said once for each reason in a process's life.
 */

#include <sys/types.h>

#include "handover.h"

struct event;
struct event_base;
struct SKELETON;

#define REEXEC_ITEMS_MAX 2000           /* in flight, at most, per exec */
#define REEXEC_STAMP_LEN 384
#define REEXEC_COUNT_ENV "SINGLE_SERVER_REEXECS"
#define REEXEC_PROGRAM_ENV "SINGLE_SERVER_PROGRAM"
#define REEXEC_WARNED_ENV "SINGLE_SERVER_EXPOSED"

/* What the skeleton keeps for re-executing itself, in one place. */
typedef struct REEXEC {
    int     argc;                       /* the command line, for */
    char  **argv;                       /* a re-execution */
    char   *self_path;                  /* absolute, as we were started */
    char    stamp[REEXEC_STAMP_LEN];    /* program, parameters, rules */
    const char *rules_path;             /* access_rules, or null */
    char   *tls_files;                  /* the tls_*_file lists, or null */
    char    check_stamp[REEXEC_STAMP_LEN];  /* ... when the check started */
    int     reloading;                  /* a re-execution is being checked */
    pid_t   check_pid;                  /* PROGRAM --check */
    struct event *check_ev;             /* its time limit */
    int     due;                        /* exec when out of the loop */
    int     reload_notified;            /* RELOADING=1 was sent */
    int     handed_over;                /* a previous image of us ran */
    long    count;                      /* re-executions before this image */
    HANDOVER handover;                  /* what it handed over */
} REEXEC;

extern char *reexec_self_path(const char *, int);
extern pid_t reexec_check(struct SKELETON *);
extern void reexec_exec(struct SKELETON *, HANDOVER *);
extern void reexec_name(const char *);
extern int reexec_take(HANDOVER *);
extern long reexec_count(int);
extern void reexec_warned_take(int);
extern void reexec_stamp(struct SKELETON *, char *, size_t);
extern void reexec_stamp_list(const char *, char *, size_t);
extern void reexec_stamp_file(const char *, char *, size_t);
extern int reexec_changed(struct SKELETON *, const char *);
extern int reexec_room(struct SKELETON *, size_t, char **);
extern void reexec_notify_reloading(void);
extern long reexec_ms_left(struct event_base *, struct event *);

#endif
