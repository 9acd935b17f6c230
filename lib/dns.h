#ifndef SS_DNS_H
#define SS_DNS_H

/*++
 * NAME
 *	dns 3
 * SUMMARY
 *	a client's host name, looked up without waiting (libevent's evdns)
 * SYNOPSIS
 *	#include <dns.h>
 *
 *	int	dns_servers_check(const char *list, char **err);
 *	DNS    *dns_open(struct event_base *base, const char *list,
 *			long timeout_ms, char **err);
 *	DNS_QUERY *dns_lookup(DNS *dns, const struct sockaddr *peer,
 *			socklen_t len, int forward, DNS_DONE done,
 *			void *context);
 *	void	dns_cancel(DNS_QUERY *query);
 *	void	dns_free(DNS *dns);
 *	void	dns_log_start(void);
 * DESCRIPTION
 *	dns_servers_check() checks the dns_servers list (Postfix's list
 *	syntax: commas and/or white space) without opening anything: each
 *	item ADDR, ADDR:PORT or [IPV6]:PORT. The number of items, or -1
 *	and *err (myfree()),
 *	one line naming the culprit: 'bad name server "X" (expected ...)'.
 *
 *	dns_open() makes the resolver, once, at start: the servers of the
 *	list, or with a list without items those of /etc/resolv.conf (read now,
 *	before any chroot; without one, 127.0.0.1). Its sockets are
 *	opened here. timeout_ms is dns_timeout: each attempt waits a third
 *	of it, so that a lost datagram is sent again within the client's
 *	wait. The resolver keeps no event loop alive when idle, and has no
 *	limit of its own on the queries in flight (process_limit is one).
 *
 *	dns_lookup() starts the lookups of one IPv4 or IPv6 peer (an
 *	IPv4-mapped IPv6 one is IPv4): its PTR name, and with forward
 *	the name's A (or AAAA) records, to see whether one is the peer's.
 *	done() is called once, later, from the event loop, with the
 *	result: result->name, the PTR name made clean (hostname_clean():
 *	lower-cased, no final dot) or null; result->verified, 1 when the
 *	forward lookup holds the peer's address; result->bad, when a PTR
 *	name came that hostname_clean() refused, that name made
 *	printable (cut to DNS_BAD_SHOWN bytes, ending in "..." then, a
 *	byte no name may hold shown as "?"), or DNS_UNREADABLE when the answer
 *	could not be read (libevent 2.1 reads PTR names of at most 63
 *	bytes: a longer one, or one over 255, ends so), else null. A
 *	failure, a definite
 *	"no" (NXDOMAIN, SERVFAIL, REFUSED) and an answer with no record
 *	all mean no name. The result lives until done() returns.
 *	dns_lookup() returns null, starting nothing and calling nothing,
 *	when the peer is no IP peer or evdns refused the query.
 *
 *	dns_cancel() ends a query whose done() has not been called: it
 *	will not be. The caller's deadline is what bounds a wait.
 *
 *	dns_free() ends the resolver; queries in flight are cancelled.
 *
 *	dns_log_start() sends libevent's own messages to our log, for the
 *	whole process: its warnings and errors, and with -v its notes
 *	(evdns: "libevent: Nameserver ... has failed ...", "... is back
 *	up"); never its debugging lines, which may hold names. What is not
 *	printable ASCII in them is shown as "?".
 *--*/

#include <sys/socket.h>

#include <event2/event.h>

typedef struct DNS DNS;
typedef struct DNS_QUERY DNS_QUERY;

typedef struct DNS_RESULT {
    const char *name;                   /* clean PTR name, or null */
    int     verified;                   /* a forward record is the peer's */
    const char *bad;                    /* a refused name, printable */
} DNS_RESULT;

typedef void (*DNS_DONE) (void *, const DNS_RESULT *);

#define DNS_BAD_SHOWN	64              /* bytes of a refused name shown */
#define DNS_UNREADABLE	"(unreadable: longer than 63 bytes?)"

extern int dns_servers_check(const char *, char **);
extern DNS *dns_open(struct event_base *, const char *, long, char **);
extern DNS_QUERY *dns_lookup(DNS *, const struct sockaddr *, socklen_t, int,
                                     DNS_DONE, void *);
extern void dns_cancel(DNS_QUERY *);
extern void dns_free(DNS *);
extern void dns_log_start(void);

#endif
