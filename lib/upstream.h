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
 *	int	upstream_may_peek(struct event_base *base);
 *
 *	long	upstream_timeout_ms(const UPSTREAM *up);
 *	int	upstream_trusted(const UPSTREAM *up,
 *			const SINGLE_SERVER_CLIENT *client);
 *	void	upstream_apply(SINGLE_SERVER_CLIENT *client,
 *			const PROXY_HEADER *hdr);
 *
 *	void	upstream_read_start(UPSTREAM_READ *rd, int fd, int how);
 *	short	upstream_read_events(const UPSTREAM_READ *rd);
 *	int	upstream_read_step(UPSTREAM_READ *rd, short what,
 *			PROXY_HEADER *hdr, const char **why);
 *	void	upstream_read_end(UPSTREAM_READ *rd);
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
 *	upstream_may_peek(), asked once at start, says whether the event
 *	loop's backend can watch a socket as the peeking reader needs
 *	(edge-triggered, with early close: epoll); without it (poll or
 *	select, as EVENT_NOEPOLL asks libevent) a socket is read exactly
 *	as a pipe is.
 *
 *	The client table (client.h) keeps each client's reader, event and
 *	deadline (on the monotonic clock), in both modes. While a header
 *	is awaited nothing is taken from a socket: the reader looks
 *	(MSG_PEEK) at what came, woken only when more comes
 *	(edge-triggered), and reads exactly the header's length at the
 *	end. A version 2 header longer than PROXY_V1_MAX bytes is looked
 *	at again only when all of it is there (FIONREAD), so a proxy that
 *	sends it a byte at a time costs one small look per byte. Nothing
 *	of a header awaited across a re-execution was taken: the next
 *	image begins again.
 *
 *	upstream_timeout_ms() is upstream_proxy_timeout in milliseconds;
 *	upstream_trusted() says whether the client's peer may send a
 *	header (as above); upstream_apply() makes the client what a header
 *	says (as above).
 *
 *	The reader, for either mode: upstream_read_start() begins to read
 *	the header of the client on fd (nothing is read yet; a socket is
 *	told from a pipe, fifo, tty or file here, once, unless how has
 *	UPSTREAM_SOCKET: the caller knows; a socket is looked at only
 *	when how has UPSTREAM_MAY_PEEK, upstream_may_peek()'s answer).
 *	upstream_read_step() reads what is there and never blocks; what
 *	is 0 on the first try, else the flags the event on rd->fd fired
 *	with. It returns 1 when the header was taken, exactly (not a byte
 *	more, from a socket, a pipe or a file alike), hdr filled (the
 *	caller applies it); 0 when it is not all there yet: wait for
 *	upstream_read_events() on rd->fd and step again; -1 with *why:
 *	"timeout" (what has EV_TIMEOUT), "connection closed before the
 *	header ended" (an end of file, a reset, a hangup), "connection
 *	error", or the parser's reason. upstream_read_events() gives the
 *	libevent flags to watch rd->fd with: EV_READ | EV_CLOSED | EV_ET |
 *	EV_PERSIST for a socket looked at (as above), EV_READ |
 *	EV_PERSIST for a socket not looked at, a pipe, fifo or tty (read
 *	exactly what the header still lacks, as much of it as FIONREAD
 *	says is there: a version 1 header a byte at a time past its first
 *	15, a version 2 one its 16 bytes and then the length they give),
 *	and 0 for what cannot be waited for (a regular file, /dev/null),
 *	for which step never says wait: a file read to its end has ended.
 *	There a wake-up with nothing to read is an end of file. The
 *	timeout is the caller's (event_add()), as is the deadline it
 *	keeps.
 *	upstream_read_end() frees what the reader holds (the buffer of a
 *	pipe or file); it does not close fd.
 *--*/

#include <event2/event.h>

#include "proxy.h"
#include "single_server.h"

typedef struct UPSTREAM UPSTREAM;

typedef struct UPSTREAM_READ {
    int     fd;
    int     peek;                       /* a socket: look (MSG_PEEK), take */
                                        /* the header at the end */
    size_t  want;                       /* peek: how many bytes to look at next */
    size_t  have;                       /* not a socket: bytes taken so far, in buf */
    int     waits;                      /* a socket, pipe, fifo or tty */
    unsigned char *buf;                 /* not a socket: null until needed */
} UPSTREAM_READ;

extern UPSTREAM *upstream_open(const char *, long, const char *);
#define UPSTREAM_UNTRUSTED "peer not in upstream_proxy_networks"

extern int upstream_on(const UPSTREAM *);
extern int upstream_may_peek(struct event_base *);
extern long upstream_timeout_ms(const UPSTREAM *);
extern int upstream_trusted(const UPSTREAM *, const SINGLE_SERVER_CLIENT *);
extern void upstream_apply(SINGLE_SERVER_CLIENT *, const PROXY_HEADER *);
#define UPSTREAM_MAY_PEEK   1           /* the loop can watch edge-triggered */
#define UPSTREAM_SOCKET     2           /* fd is a socket: no fstat() */

extern void upstream_read_start(UPSTREAM_READ *, int, int);
extern short upstream_read_events(const UPSTREAM_READ *);
extern int upstream_read_step(UPSTREAM_READ *, short, PROXY_HEADER *,
                                      const char **);
extern void upstream_read_end(UPSTREAM_READ *);

#endif
