#ifndef SS_UPSTREAM_H
#define SS_UPSTREAM_H

/*++
 * NAME
 *	upstream 3
 * SUMMARY
 *	the PROXY step: a client behind a load balancer
 * SYNOPSIS
 *	#include <upstream.h>
 *
 *	UPSTREAM *upstream_open(const char *protocol, long timeout,
 *			const char *networks);
 *	int	upstream_on(const UPSTREAM *up);
 *
 *	void	upstream_start(UPSTREAM *up, struct event_base *base,
 *			UPSTREAM_DONE done, void *context);
 *	void	upstream_receive(UPSTREAM *up,
 *			const SINGLE_SERVER_CLIENT *client, long ms);
 *	int	upstream_count(const UPSTREAM *up);
 *	void	upstream_drop(UPSTREAM *up);
 *	size_t	upstream_export(const UPSTREAM *up, HANDOVER *state,
 *			const SS_LISTENER *listeners);
 *
 *	int	upstream_read(UPSTREAM *up, SINGLE_SERVER_CLIENT *client,
 *			const char **why);
 * DESCRIPTION
 *	With upstream_proxy_protocol = haproxy every client begins with a
 *	PROXY header (proxy.h) that names the real client. This module
 *	reads it without taking a byte more, and makes the client what
 *	the header says before admission sees it: client->proxy is the
 *	connection's own peer, client->peer the header's client address,
 *	the TCP variables those of the header's two addresses, and
 *	PROXYREMOTEIP and PROXYREMOTEPORT the proxy's. A header that
 *	keeps the connection's addresses (v1 UNKNOWN, v2 LOCAL, other
 *	families) only adds the PROXYREMOTE variables.
 *
 *	upstream_open() takes the three parameters (the protocol: empty
 *	or "haproxy"; the timeout in seconds; the list of networks a proxy
 *	may connect from, empty for any) and exits 100 naming the
 *	parameter and where it was set (param_where()) when one is bad.
 *	It returns a state even when the protocol is off: upstream_on()
 *	says which, and the resident reader still finishes headers that
 *	a previous image began to wait for.
 *
 *	Only a peer within upstream_proxy_networks may send a header; a
 *	unix-socket peer always may (the socket's file mode guards it), and
 *	anyone may without a list. Any other is refused before anything
 *	is read, with the reason UPSTREAM_UNTRUSTED.
 *
 *	Resident mode: upstream_start() gives the event loop and the
 *	callback; upstream_receive() takes a copy of an accepted client
 *	(env as the connection says) and reads its header for ms
 *	milliseconds at most (-1: upstream_proxy_timeout); a client
 *	handed over by a previous image is given what it had left, and
 *	its peer is checked against the networks read now. done(client,
 *	why, context) is called once
 *	for it: with why null the header was consumed and client made as
 *	above (the callback owns its connection now); otherwise why says
 *	what was wrong (UPSTREAM_UNTRUSTED, "timeout", "connection closed
 *	before the header ended" (a reset too), or the parser's reason)
 *	and the caller closes the connection and logs. Often the
 *	header is there already: then done() runs before
 *	upstream_receive() returns, and nothing is allocated. While a
 *	header is awaited nothing is taken from the socket: the reader
 *	looks (MSG_PEEK) at what came, woken only when more comes
 *	(edge-triggered), and reads exactly the header's length at the
 *	end. A version 2 header longer than PROXY_V1_MAX bytes is looked
 *	at again only when all of it is there (FIONREAD), so a proxy that
 *	sends it a byte at a time costs one small look per byte. The
 *	deadline is kept on the monotonic clock.
 *
 *	upstream_count() is the number of clients whose header is being
 *	awaited (they count toward process_limit); upstream_drop() closes
 *	them all (the drain is over); upstream_export() adds them to a
 *	handover as clients waiting for their header, with the time they
 *	have left: nothing of their header was taken, so the next image
 *	begins again.
 *
 *	Stream mode: upstream_read() checks the peer, then reads the header
 *	of the client on client->in_fd, waiting upstream_proxy_timeout at
 *	most, without
 *	taking a byte more from a socket, a pipe or a file alike: a
 *	version 1 header a byte at a time, a version 2 header its first
 *	16 bytes and then the length they give. It returns 1 (client made
 *	as above) or 0 with *why.
 *--*/

#include <event2/event.h>

#include "handover.h"
#include "listener.h"
#include "proxy.h"
#include "single_server.h"

typedef struct UPSTREAM UPSTREAM;

typedef struct UPSTREAM_READ {
    int     fd;
    int     peek;                       /* a socket: look, take at the end */
    size_t  want;                       /* peek: bytes to look at next */
    size_t  have;                       /* not a socket: bytes taken, in buf */
    unsigned char *buf;                 /* not a socket: null until needed */
} UPSTREAM_READ;

extern UPSTREAM *upstream_open(const char *, long, const char *);
#define UPSTREAM_UNTRUSTED "peer not in upstream_proxy_networks"

extern int upstream_on(const UPSTREAM *);
extern int upstream_trusted(const UPSTREAM *, const SINGLE_SERVER_CLIENT *);
extern void upstream_apply(SINGLE_SERVER_CLIENT *, const PROXY_HEADER *);
extern long upstream_timeout_ms(const UPSTREAM *);
extern void upstream_read_start(UPSTREAM_READ *, int);
extern short upstream_read_events(const UPSTREAM_READ *);
extern int upstream_read_step(UPSTREAM_READ *, short, PROXY_HEADER *,
                                      const char **);
extern void upstream_read_end(UPSTREAM_READ *);
extern int upstream_read(UPSTREAM *, SINGLE_SERVER_CLIENT *, const char **);

#endif
