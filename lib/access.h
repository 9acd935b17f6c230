#ifndef SS_ACCESS_H
#define SS_ACCESS_H

/*++
 * NAME
 *	access 3
 * SUMMARY
 *	access rules: who may connect, and what its handler is told
 * SYNOPSIS
 *	#include <access.h>
 *
 *	typedef int (*ACCESS_UID_FN)(const char *name, long *uid);
 *
 *	ACCESS *access_parse(const char *text, size_t len, const char *label,
 *			ACCESS_UID_FN uid_fn, char **err);
 *	ACCESS *access_read(const char *path, char **err);
 *	ACCESS *access_networks(const char *list, const char *label,
 *			char **err);
 *	const ACCESS_RULE *access_match(const ACCESS *acc,
 *			const struct sockaddr *peer, socklen_t len, long uid);
 *	int	access_has_names(const ACCESS *acc);
 *	const ACCESS_RULE *access_match_name(const ACCESS *acc,
 *			const char *name);
 *	size_t	access_count(const ACCESS *acc);
 *	void	access_free(ACCESS *acc);
 * DESCRIPTION
 *	A rules file has one rule per line; blank lines and lines whose
 *	first non-blank character is "#" are ignored (a "#" later in a line
 *	is text, so a deny message may hold one). A rule is
 *
 *	    PATTERN  allow [NAME=value]...
 *	    PATTERN  deny [message]
 *
 *	with white space between the words (blanks, tabs, \r, \v, \f).
 *	PATTERN is one of: an IPv4 or IPv6 address; a network "a.b.c.d/n"
 *	or "v6addr/n" whose host bits are zero; "uid:N" (N from 0 to
 *	4294967294) or "uid:NAME", the uid of a unix-socket peer;
 *	"=host.example.org", a client of that name exactly;
 *	"=.example.org", a client whose name lies strictly under that
 *	domain (a.example.org, b.a.example.org, not example.org itself);
 *	"*", anything. The name of a name rule is taken as
 *	hostname_clean(3) takes a name from DNS: letters, digits, "-",
 *	"_" and "." only, labels of 1 to 63 bytes, at most 253 bytes; it
 *	is lower-cased and may end in one dot, so "=Client.Test." is
 *	"=client.test". An IPv4-mapped IPv6 pattern ("::ffff:a.b.c.d", or a
 *	network of 96 bits or more within ::ffff:0:0/96) is taken as the
 *	IPv4 pattern it maps, since mapped peers are IPv4 peers:
 *	"::ffff:10.0.0.0/104" is "10.0.0.0/8" (and IPv6 networks of fewer
 *	bits, ::/0 too, never match a mapped peer). Two rules with the
 *	same pattern are an error; sameness is that of the canonical form:
 *	an address is its /32 or /128 network, "/08" is "/8", a mapped
 *	pattern is its IPv4 one, "uid:NAME" is the uid that it names, a
 *	name is its clean form ("=host" and "=.host" differ).
 *
 *	allow may add NAME=value assignments to the handler's environment,
 *	separated by white space, at most ACCESS_ENV_MAX of them. NAME is
 *	[A-Za-z_][A-Za-z0-9_]*, at most
 *	once per rule. An unquoted value ends at white space and holds no
 *	double quote; a value in double quotes may hold white space, with
 *	\" for a quote and \\ for a backslash (any other backslash stands
 *	for itself), and the closing quote ends the assignment. deny may
 *	give a message: the rest of the line after the white space that
 *	follows "deny", less trailing white space (and so a carriage
 *	return); without one the message is null.
 *
 *	access_parse() reads rules from len bytes of text (no null byte
 *	needed at the end; none may occur anywhere) and returns them ready
 *	for lookups. label names the text in error messages (the file
 *	name). uid_fn resolves "uid:NAME" (returns 0 and sets *uid, or -1
 *	for an unknown user); with a null uid_fn only numeric uids are
 *	accepted. It is a pure parser: no I/O, no logging, no exit, nothing
 *	but memory and uid_fn. A line holds at most ACCESS_LINE_MAX bytes.
 *
 *	access_read() reads the file at path (at most ACCESS_FILE_MAX
 *	bytes) and parses it, user names resolved with getpwnam(). This
 *	is the only I/O here. A file without a rule (empty, or only
 *	comments and blank lines) is an error: it would deny everyone,
 *	which a file that says "* deny" does on purpose.
 *
 *	access_networks() reads a list of addresses and networks, as
 *	patterns above, separated by commas and/or white space (Postfix's
 *	list syntax), each an allow rule without assignments (line 0), so
 *	that access_match() says whether a peer is within one of them. An
 *	item listed twice counts once; "*", "uid:" and names are not
 *	networks (such a list decides by the address alone, before any
 *	lookup). Errors name the label without a line: 'parameter NAME:
 *	network "10.1.2.3/8" has host bits set', 'parameter NAME: host
 *	name "=proxy.example.org" is not a network'.
 *
 *	access_match() returns the rule that decides for a peer, or a null
 *	pointer when no rule matches (the caller then denies). The most
 *	specific rule wins, whatever the order of the lines: for an IPv4 or
 *	IPv6 peer, the matching network with the longest prefix in its
 *	family (an IPv4-mapped IPv6 peer is an IPv4 peer); for any other
 *	peer (a unix socket; peer may be null), the rule for uid unless uid
 *	is -1; failing those, "*". uid rules never match IP peers, IP rules
 *	never match other peers, name rules never match here. A lookup
 *	visits at most 33 or 129 nodes of a path-compressed binary trie,
 *	whatever the number of rules.
 *
 *	Name rules are the caller's to consult, and only when the address
 *	has not decided: when access_match() returns the "*" rule (any is
 *	1) or nothing, and access_has_names() says that there are name
 *	rules, the caller looks the client's name up (and checks it
 *	forward) and asks access_match_name(); the rule it returns, if
 *	any, decides instead. An address rule, ::/0 and 0.0.0.0/0 too,
 *	always beats a name rule; a name rule always beats "*".
 *
 *	access_has_names() says whether any rule is a name rule (when
 *	none is, no lookup is needed for the rules' sake).
 *
 *	access_match_name() returns the most specific name rule that
 *	matches name, which must be clean (hostname_clean()'s output), or
 *	a null pointer: "=name" exactly first, then "=.domain" for each
 *	domain above name, the longest first ("=.a.example.org" beats
 *	"=.example.org", which beats "=.org"). Matching ignores case, as
 *	both sides are lower case. A lookup costs one search of a balanced
 *	tree for the name and one for each domain above it: O(log n) for
 *	n name rules, never a scan.
 *
 *	The ACCESS_RULE belongs to acc: allow is 1 or 0; message is a deny
 *	rule's message or null; env holds an allow rule's "NAME=value"
 *	strings in line order, null-terminated (never null itself); line is
 *	the rule's line number; any is 1 for the "*" rule, 0 for others.
 *
 *	access_count() returns the number of rules; access_free() releases
 *	everything (a null acc is fine).
 * DIAGNOSTICS
 *	access_parse() and access_read() return a null pointer and set *err
 *	(free with myfree()) to one line that names the label, the line and
 *	the culprit, for example:
 *
 *	    rules, line 3: network "10.1.2.3/8" has host bits set
 *	    rules, line 5: duplicate pattern "10.0.0.0/8" (also on line 2)
 *	    rules, line 7: unknown action "permit" (expected allow or deny)
 *	    rules, line 9: bad address "10.0.0.300"
 *	    rules, line 4: unknown user "nosuchuser"
 *	    rules, line 6: unterminated quote in "GREETING="hello"
 *	    rules, line 8: bad host name "=exa!mple.org"
 *	    rules, line 9: duplicate pattern "=Client.Test." (also on line 2)
 *
 *	A culprit is cut to ACCESS_CULPRIT_MAX bytes (then "..." follows),
 *	control characters shown as "?". The first error found is the one
 *	reported; nothing is kept of the rest. access_read() adds errors
 *	that name the file: 'cannot open rules file "PATH": REASON',
 *	'cannot read rules file ...', 'rules file "PATH" is larger than N
 *	bytes', 'PATH: no rules; write "* deny" to refuse everyone'.
 *--*/

#include <stddef.h>
#include <sys/socket.h>

#define ACCESS_LINE_MAX     65536       /* bytes in one line, no newline */
#define ACCESS_FILE_MAX     (64L << 20) /* bytes that access_read() takes */
#define ACCESS_CULPRIT_MAX  100         /* bytes of a culprit in errors */
#define ACCESS_ENV_MAX      16          /* assignments of one allow rule */

typedef struct ACCESS ACCESS;

typedef struct ACCESS_RULE {
    int     allow;                      /* 1 allow, 0 deny */
    const char *message;                /* deny: the message, or null */
    char  **env;                        /* allow: "NAME=value", null-ended */
    int     line;                       /* its line in the file */
    int     any;                        /* 1: the "*" rule */
} ACCESS_RULE;

typedef int (*ACCESS_UID_FN) (const char *, long *);

extern ACCESS *access_parse(const char *, size_t, const char *,
                                    ACCESS_UID_FN, char **);
extern ACCESS *access_read(const char *, char **);
extern ACCESS *access_networks(const char *, const char *, char **);
extern const ACCESS_RULE *access_match(const ACCESS *, const struct sockaddr *,
                                               socklen_t, long);
extern int access_has_names(const ACCESS *);
extern const ACCESS_RULE *access_match_name(const ACCESS *, const char *);
extern size_t access_count(const ACCESS *);
extern void access_free(ACCESS *);

#endif
