#ifndef SS_RELAY_H
#define SS_RELAY_H

/*++
 * NAME
 *	relay 3
 * SUMMARY
 *	one TLS client: its handshake, then plaintext to and from a handler
 * SYNOPSIS
 *	#include <relay.h>
 *
 *	void	relay_start(struct event_base *base, TLS_SERVER *tls,
 *			int fd, long timeout_ms, RELAY_FN fn, void *context);
 *	int	relay_count(void);
 * DESCRIPTION
 *	relay_start() takes a client's connection (fd, now ours) and
 *	does its TLS handshake, for at most timeout_ms. Then fn is called
 *	once: ok 1 with the handler's variables (tls_env(): env, env_len
 *	bytes) and the two descriptors the handler is to have, in_fd (its
 *	fd 0: the client's plaintext) and out_fd (its fd 1: what it sends
 *	to the client), which fn owns from then on; or ok 0 and why the
 *	handshake failed (the connection is closed).
 *
 *	After a handshake the session relays by itself until both ways
 *	are over, and frees everything it had. When the handler's output
 *	ends (every copy of its fd 1 closed, or shut down for writing) and
 *	all it wrote went out, the client gets close_notify and our end of
 *	file, while the handler may still read; when the client sends
 *	close_notify, or just closes, the handler reads end of file once it
 *	read everything before. A reset, or a bad record, ends both ways
 *	at once. What the client sends after the handler closed its fd 0
 *	is dropped.
 *
 *	Memory per session: the SSL object (its record buffers are freed
 *	while idle) and a 16 kB buffer each way while bytes are in flight.
 *
 *	relay_count() is the number of sessions (in handshake or relaying).
 *--*/

#include <event2/event.h>

#include "tls.h"

typedef void (*RELAY_FN) (void *context, int ok, const char *why,
                                  const char *env, size_t env_len,
                                  int in_fd, int out_fd);

extern void relay_start(struct event_base *, TLS_SERVER *, int, long,
                                RELAY_FN, void *);
extern int relay_count(void);

#endif
