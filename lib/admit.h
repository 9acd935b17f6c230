#ifndef SS_ADMIT_H
#define SS_ADMIT_H

/*++
 * NAME
 *	admit 3
 * SUMMARY
 *	the admission step: access rules and the per-source limit
 * SYNOPSIS
 *	#include <admit.h>
 *
 *	ADMIT  *admit_open(const char *rules_path, long limit,
 *			int v6_prefix, const char *limit_message);
 *	int	admit_has_names(const ADMIT *admit);
 *	int	admit_wants_name(const ADMIT *admit,
 *			const SINGLE_SERVER_CLIENT *client);
 *	int	admit_client(ADMIT *admit, SINGLE_SERVER_CLIENT *client,
 *			const char *name, ADMIT_TICKET *ticket);
 *	void	admit_bind(ADMIT *admit, long pid, ADMIT_TICKET *ticket);
 *	void	admit_release(ADMIT *admit, ADMIT_TICKET *ticket);
 *	void	admit_reap(ADMIT *admit, long pid);
 *	void	admit_header_refused(ADMIT *admit,
 *			const SINGLE_SERVER_CLIENT *client, const char *why);
 *	void	admit_no_messages(void);
 *	void	admit_refused(ADMIT *admit,
 *			const SINGLE_SERVER_CLIENT *client, const char *why);
 *	void	admit_note(ADMIT *admit, const SINGLE_SERVER_CLIENT *client,
 *			const char *text);
 *	int	admit_drain(int fd, size_t *total);
 *	size_t	admit_export(const ADMIT *admit, HANDOVER *state);
 *	void	admit_import(ADMIT *admit, const HANDOVER *state);
 *	void	admit_free(ADMIT *admit);
 * DESCRIPTION
 *	Every client, in every mode, passes here before it takes an
 *	in-flow token, counts toward max_use or gets a handler.
 *
 *	admit_open() reads the rules file (see access.h), once, at start;
 *	an empty path means no rules. limit is per_source_limit (0: none),
 *	counted per IPv4 address, IPv6 prefix of v6_prefix bits or unix
 *	peer uid (see persource.h); limit_message, unless empty, is
 *	written to a client refused by it.
 *
 *	admit_has_names() says whether the rules have name rules.
 *
 *	admit_wants_name() says whether the rules need the client's host
 *	name: 1 when no address rule but "*" matches it (or none does) and
 *	the rules have name rules; -1 when it is denied whatever its name
 *	(an address rule denies it, or with no name rules "*" does, or no
 *	rule matches), so that a lookup would be wasted; 0 otherwise (no
 *	rules, no IP peer, or an address rule admits it).
 *
 *	admit_client() judges the client by its address (client->peer),
 *	or for a unix socket by its peer's uid, and where no address rule
 *	but "*" matches, by name: the host name that passed the forward
 *	check (clean, see hostname.h), or null, then, with a ticket (a
 *	null ticket: no per-source limit, as in stream mode), takes a
 *	slot of its source. Admitted, the allow rule's assignments are
 *	added to client->env and 1 is returned; the slot, if any, is the
 *	ticket's. Denied or refused, the message (if any) and "\r\n" are
 *	written to client->out_fd without waiting (what does not fit in
 *	the socket buffer is lost), the refusal is logged at info level,
 *	at most once a second per source with a count of those not logged,
 *	and 0 is returned: the caller starts nothing, and closes the
 *	connection so that the message reaches it (the client table
 *	lingers: client.h).
 *
 *	Behind a proxy (client->proxy_len > 0) logs name the client as
 *	"CLIENT via PROXY", unless the header kept the connection's own
 *	addresses.
 *
 *	admit_header_refused() logs a client refused for its PROXY header
 *	(or its proxy's address) before admission, as a denial is logged
 *	(at most once a second per source): "service NAME: refuse SOURCE
 *	(PROXY header: WHY)". The caller closes the connection.
 *
 *	admit_no_messages(): from now on no message is written to a
 *	refused client (a TLS port, where plaintext would be noise).
 *
 *	admit_refused() logs another refusal the same way, why being the
 *	whole reason ("TLS handshake: wrong version number").
 *
 *	admit_note() logs something else of a client the same way, at most
 *	once a second per source: "service NAME: no host name for SOURCE
 *	(TEXT)".
 *
 *	admit_drain() reads and drops what a refused client sent, adding
 *	the count to *total: 0 at its end (or an error), 1 when more may
 *	come.
 *
 *	admit_bind() gives the ticket's slot to the handler pid, which
 *	admit_reap() frees when that process was reaped, however it ended.
 *	admit_release() frees the slot of a client that got no handler.
 *
 *	admit_export() adds the slots that handlers hold to a handover for
 *	the next image of this process (with a null state it only counts
 *	them), and returns their count; admit_import(), in that image,
 *	counts them again, bound to the same handlers, whatever the limit
 *	is now (with no limit now, they are not counted).
 * DIAGNOSTICS
 *	A bad rules file is a configuration error (exit 100) naming the
 *	file, the line and the culprit.
 *--*/

#include <event2/event.h>

#include "handover.h"
#include "persource.h"
#include "single_server.h"

#define ADMIT_LINGER_BYTES 65536        /* a refused client's, dropped */

typedef struct ADMIT ADMIT;

typedef struct ADMIT_TICKET {
    int     held;                       /* a slot of key is taken */
    PERSOURCE_KEY key;
} ADMIT_TICKET;

extern ADMIT *admit_open(const char *, long, int, const char *);
extern int admit_has_names(const ADMIT *);
extern int admit_wants_name(const ADMIT *, const SINGLE_SERVER_CLIENT *);
extern int admit_client(ADMIT *, SINGLE_SERVER_CLIENT *, const char *,
                                ADMIT_TICKET *);
extern void admit_bind(ADMIT *, long, ADMIT_TICKET *);
extern void admit_release(ADMIT *, ADMIT_TICKET *);
extern void admit_reap(ADMIT *, long);
extern void admit_header_refused(ADMIT *, const SINGLE_SERVER_CLIENT *,
                                         const char *);
extern void admit_no_messages(void);
extern void admit_refused(ADMIT *, const SINGLE_SERVER_CLIENT *,
                                  const char *);
extern void admit_note(ADMIT *, const SINGLE_SERVER_CLIENT *, const char *);
extern int admit_drain(int, size_t *);
extern size_t admit_export(const ADMIT *, HANDOVER *);
extern void admit_import(ADMIT *, const HANDOVER *);
extern void admit_free(ADMIT *);

#endif
