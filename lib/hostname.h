#ifndef SS_HOSTNAME_H
#define SS_HOSTNAME_H

/*++
 * NAME
 *	hostname 3
 * SUMMARY
 *	host names as the server takes them: from DNS and from rules files
 * SYNOPSIS
 *	#include <hostname.h>
 *
 *	int	hostname_clean(const char *in, size_t len, char *out);
 *	char	hostname_char(unsigned char c);
 * DESCRIPTION
 *	A name from a DNS answer is hostile input: a PTR record may hold
 *	any bytes its owner likes, and the name ends up in log lines, in a
 *	handler's environment (TCPREMOTEHOST) and in rule matching. This
 *	module decides which names pass and in what form, once, for the
 *	resolver and the rules parser alike.
 *
 *	hostname_clean() takes len bytes of in (no null byte needed at the
 *	end; a null byte inside is refused, never a terminator) and, when
 *	they are a name, writes it to out (room for HOSTNAME_MAX + 1
 *	bytes) lower-cased, without one final dot, null-terminated, and
 *	returns 0. It returns -1, out unspecified, when they are no name:
 *	empty, or "." alone; longer than HOSTNAME_MAX bytes once the final
 *	dot is dropped; a byte other than A-Z a-z 0-9 "-" "." "_" (so no
 *	white space, no control or 8-bit byte, no "*" or "/"); an empty
 *	label (a leading dot, ".." anywhere, two final dots); a label of
 *	more than 63 bytes. Names that differ only in case or in the final
 *	dot come out the same, so a comparison of two clean names is a
 *	strcmp().
 *
 *	hostname_char() is the byte c as a name holds it (lower-cased), or 0
 *	when no name may hold it; for callers that show a refused name.
 *
 *	Both are pure functions: no I/O, no logging, no allocation.
 *--*/

#include <stddef.h>

#define HOSTNAME_MAX    253             /* bytes of a clean name, no final dot */
#define HOSTNAME_LABEL_MAX 63           /* bytes of one label */

extern int hostname_clean(const char *, size_t, char *);
extern char hostname_char(unsigned char);

#endif
