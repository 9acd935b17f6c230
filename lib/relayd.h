#ifndef SS_RELAYD_H
#define SS_RELAYD_H

/*++
 * NAME
 *	relayd 3
 * SUMMARY
 *	the TLS relay process of a resident server
 * SYNOPSIS
 *	#include <relayd.h>
 *
 *	RELAYD	*relayd_start(struct event_base *base, TLS_SERVER *tls,
 *			long timeout_ms, int devnull, int keep_stderr,
 *			const int *keep, int nkeep, RELAYD_FN fn,
 *			void *context);
 *	RELAYD	*relayd_adopt(struct event_base *base, pid_t pid, int fd,
 *			RELAYD_FN fn, void *context);
 *	int	relayd_send(RELAYD *rd, unsigned long id, int fd,
 *			const void *ticket, size_t len);
 *	void	relayd_retire(RELAYD *rd);
 *	void	relayd_free(RELAYD *rd);
 * DESCRIPTION
 *	The loop that accepts never does cryptography: each admitted TLS
 *	client goes, with its descriptor, to a relay process that does its
 *	handshake (relay.h) and then relays its bytes for as long as the
 *	session lasts. The relay is a child of the server, forked once per
 *	image of it: a re-execution leaves the old relay serving the
 *	sessions it has (it leaves when the last one ends) and starts a new
 *	one for new clients, so that no session is cut and nobody waits.
 *
 *	relayd_start() forks the relay from a process that has read its
 *	certificates (tls). The relay has devnull (/dev/null) on fds 0
 *	and 1, and on fd 2 unless keep_stderr (it may be a listener under
 *	inetd "wait", or a pipe someone reads to its end), keeps the
 *	descriptors in
 *	keep (the log socket) and its end of the channel, and nothing else
 *	of ours: no listener, no client of the server's, no event loop of
 *	its own making but a new one. It is not dumpable: the keys are in
 *	its memory.
 *
 *	relayd_send() gives the relay one client: the descriptor (closed
 *	here whatever happens), the server's id for it, and a ticket of at
 *	most RELAYD_TICKET_MAX bytes that comes back with the result, so
 *	that a later image, which never saw the client, can still make it
 *	one of its own. Returns 0, or -1 (the relay is gone; errno).
 *
 *	Results come to fn: ok 1 with the handler's variables and its two
 *	descriptors (relay.h), or 0 and why the handshake failed. When the
 *	channel ends (the relay died) fn is called with id 0 and ok -1.
 *
 *	relayd_adopt() takes over a relay that a previous image started,
 *	from its pid and channel (the handover): its results come to fn as
 *	well. relayd_retire() tells a relay that no client will come any
 *	more: it leaves once its sessions are over. relayd_gone() says
 *	that its pid was reaped. relayd_free() forgets it, closing the
 *	channel.
 *--*/

#include <sys/types.h>

#include <event2/event.h>

#include "tls.h"

#define RELAYD_TICKET_MAX	2048

typedef struct RELAYD RELAYD;

typedef void (*RELAYD_FN) (void *context, RELAYD *rd, unsigned long id,
                                   int ok, const char *why,
                                   const void *ticket, size_t ticket_len,
                                   const char *env, size_t env_len,
                                   int in_fd, int out_fd);

struct RELAYD {
    pid_t   pid;
    int     fd;                         /* the channel */
    int     retired;
    unsigned long old_ids;              /* ids up to this: a former image's */
    struct event *ev;
    RELAYD_FN fn;
    void   *context;
    RELAYD *next;                       /* the caller's list */
};

extern RELAYD *relayd_start(struct event_base *, TLS_SERVER *, long, int,
                                    int, const int *, int, RELAYD_FN, void *);
extern RELAYD *relayd_adopt(struct event_base *, pid_t, int, RELAYD_FN,
                                    void *);
extern int relayd_send(RELAYD *, unsigned long, int, const void *, size_t);
extern void relayd_retire(RELAYD *);
extern void relayd_free(RELAYD *);

#endif
