#ifndef SS_ADDR_H
#define SS_ADDR_H

/*++
 * NAME
 *	addr 3
 * SUMMARY
 *	socket address parsing and printing
 * SYNOPSIS
 *	#include <addr.h>
 *
 *	int	addr_parse(const char *spec, ADDR_SPEC *out, char **err);
 *	void	addr_wildcard_ipv4(ADDR_SPEC *spec);
 *	void	addr_free(ADDR_SPEC *spec);
 *	int	addr_numeric(const struct sockaddr *sa, socklen_t len,
 *			char *host, size_t hostlen, char *port, size_t portlen);
 *	char   *addr_display(const struct sockaddr *sa, socklen_t len);
 *	void	addr_unix_path(const struct sockaddr *sa, socklen_t len,
 *			char *buf, size_t size);
 * DESCRIPTION
 *	addr_parse() splits a listen address: "HOST:PORT", "[IPV6]:PORT",
 *	"unix:PATH" or an absolute "/PATH"; "PORT", ":PORT" and "*:PORT"
 *	mean every address. For TCP, HOST is resolved once with
 *	getaddrinfo() and the first answer is kept; PORT may be a number
 *	(0 picks a free port) or a service name from /etc/services. The
 *	result holds a ready-to-bind sockaddr; for every address that is
 *	the IPv6 "::" with spec->wildcard set, meaning: bind it dual-stack
 *	(IPV6_V6ONLY off), and where the host has no IPv6, call
 *	addr_wildcard_ipv4() to make it 0.0.0.0 on the same port.
 *
 *	addr_numeric() writes the numeric host (IPv6 without brackets; an
 *	IPv4-mapped IPv6 address as plain IPv4) and port of a TCP address.
 *	It returns 0, or -1 for another family.
 *
 *	addr_display() returns a new string that shows an address the way
 *	-1 prints it and logs name it: "127.0.0.1:40123", "[::1]:40123" or
 *	"unix:/path" (IPv6-safe).
 *
 *	addr_unix_path() copies the path of a unix-socket address, as the
 *	kernel returned it with its length, to buf as a C string (empty
 *	for an unnamed or abstract socket, cut to fit size): a path that
 *	fills all of sun_path has no null byte, and what follows it in
 *	the caller's storage is not part of it.
 * DIAGNOSTICS
 *	addr_parse() returns -1 and sets *err (free with myfree()) to a
 *	message that names the address; ADDR_ERR_TEMP (-2) instead when the
 *	resolver failed for a passing reason (EAI_AGAIN and the like).
 *--*/

#include <stddef.h>
#include <sys/socket.h>

#define ADDR_ERR_TEMP   (-2)

typedef struct ADDR_SPEC {
    int     family;                     /* AF_INET, AF_INET6, AF_UNIX */
    struct sockaddr_storage sa;
    socklen_t len;
    char   *path;                       /* AF_UNIX only */
    int     wildcard;                   /* "::", dual-stack, IPv4 fallback */
} ADDR_SPEC;

extern int addr_parse(const char *, ADDR_SPEC *, char **);
extern void addr_free(ADDR_SPEC *);
extern void addr_wildcard_ipv4(ADDR_SPEC *);
extern int addr_numeric(const struct sockaddr *, socklen_t, char *, size_t,
                                char *, size_t);
extern char *addr_display(const struct sockaddr *, socklen_t);
extern void addr_unix_path(const struct sockaddr *, socklen_t, char *,
                                   size_t);

#endif
