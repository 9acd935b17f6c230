#ifndef SS_PERSOURCE_H
#define SS_PERSOURCE_H

/*++
 * NAME
 *	persource 3
 * SUMMARY
 *	clients at once per source: counted per address, prefix or uid
 * SYNOPSIS
 *	#include <persource.h>
 *
 *	int	persource_key(const struct sockaddr *peer, socklen_t len,
 *			long uid, int v6_prefix, PERSOURCE_KEY *key);
 *	void	persource_text(const PERSOURCE_KEY *key, int v6_prefix,
 *			char *buf, size_t len);
 *
 *	PERSOURCE *persource_create(void);
 *	void	persource_free(PERSOURCE *ps);
 *	int	persource_take(PERSOURCE *ps, const PERSOURCE_KEY *key,
 *			long limit);
 *	void	persource_release(PERSOURCE *ps, const PERSOURCE_KEY *key);
 *	long	persource_count(const PERSOURCE *ps, const PERSOURCE_KEY *key);
 *	void	persource_bind(PERSOURCE *ps, long pid, const PERSOURCE_KEY *key);
 *	void	persource_reap(PERSOURCE *ps, long pid);
 *	size_t	persource_each(const PERSOURCE *ps,
 *			void (*fn)(long pid, const PERSOURCE_KEY *key, void *),
 *			void *context);
 * DESCRIPTION
 *	A source is an IPv4 address (an IPv4-mapped IPv6 peer is one),
 *	an IPv6 prefix of v6_prefix bits, or the uid of a unix-socket
 *	peer. persource_key() computes it from a peer address or, for a
 *	unix peer, its uid (uid -1 and a peer of another family: no
 *	source, -1 returned). persource_text() writes a key as logs name
 *	it ("10.1.2.3", "2001:db8::/64", "unix uid 1000").
 *
 *	A PERSOURCE counts clients per source; only sources with clients
 *	take memory. persource_take() counts one more client for key and
 *	returns 1, or returns 0 when limit are there already (limit 0: no
 *	limit). persource_release() counts one client less.
 *
 *	persource_bind() says that process pid now holds a client of key
 *	(its handler); persource_reap() releases the client of a process
 *	that ended, and does nothing for a pid that holds none.
 *	persource_each() calls fn (unless null) for every process that
 *	holds a client, and returns their count. persource_free() releases
 *	ps and everything it counts (a null ps: nothing).
 *
 *	Lookups hash the key: their cost does not grow with the number of
 *	sources.
 *--*/

#include <stddef.h>
#include <sys/socket.h>

typedef struct PERSOURCE_KEY {
    int     family;                     /* AF_INET, AF_INET6, AF_UNIX */
    unsigned char addr[16];             /* the address, prefix or uid */
} PERSOURCE_KEY;

typedef struct PERSOURCE PERSOURCE;

extern int persource_key(const struct sockaddr *, socklen_t, long, int,
                                 PERSOURCE_KEY *);
extern void persource_text(const PERSOURCE_KEY *, int, char *, size_t);
extern PERSOURCE *persource_create(void);
extern void persource_free(PERSOURCE *);
extern int persource_take(PERSOURCE *, const PERSOURCE_KEY *, long);
extern void persource_release(PERSOURCE *, const PERSOURCE_KEY *);
extern long persource_count(const PERSOURCE *, const PERSOURCE_KEY *);
extern void persource_bind(PERSOURCE *, long, const PERSOURCE_KEY *);
extern void persource_reap(PERSOURCE *, long);
extern size_t persource_each(const PERSOURCE *,
                        void (*) (long, const PERSOURCE_KEY *, void *), void *);

#endif
