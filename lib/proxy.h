#ifndef SS_PROXY_H
#define SS_PROXY_H

/*++
 * NAME
 *	proxy 3
 * SUMMARY
 *	the PROXY protocol header (HAProxy's, version 1 and 2)
 * SYNOPSIS
 *	#include <proxy.h>
 *
 *	int	proxy_parse(const unsigned char *buf, size_t len,
 *			PROXY_HEADER *hdr, const char **why);
 *	size_t	proxy_need(const unsigned char *buf, size_t len);
 * DESCRIPTION
 *	A load balancer that speaks the PROXY protocol begins every
 *	connection with a header that names the real client. Version 1 is
 *	one line of text, at most PROXY_V1_MAX bytes with its CRLF:
 *
 *	    PROXY TCP4 SRCIP DSTIP SRCPORT DSTPORT\r\n
 *	    PROXY TCP6 SRCIP DSTIP SRCPORT DSTPORT\r\n
 *	    PROXY UNKNOWN[ anything]\r\n
 *
 *	read strictly: single spaces, addresses of the family named (a
 *	dotted quad for TCP4, an IPv6 address for TCP6), ports from 0 to
 *	65535 in decimal without sign or leading zero. Version 2 is binary:
 *	the 12-byte signature "\r\n\r\n\0\r\nQUIT\n", a version (2) and
 *	command byte (0 LOCAL, 1 PROXY), a family and transport byte, the
 *	length of what follows (network order), the addresses, and TLVs,
 *	which are skipped (each must fit in the length; their content is
 *	not looked at).
 *
 *	proxy_parse() is a pure parser (no I/O, no logging, no allocation).
 *	It looks at the first len bytes received so far, as recv(MSG_PEEK)
 *	shows them, and says whether a complete header starts them. It
 *	says no as early as it can: at the first byte that cannot begin
 *	either signature, the first bad field, the first bad byte of the
 *	binary header; and it never needs more than PROXY_V1_MAX bytes of
 *	a version 1 header.
 *
 *	proxy_need() says how many bytes a reader should look at to see a
 *	whole header that starts buf: for a version 2 header whose first
 *	16 bytes are in, its length; otherwise PROXY_V1_MAX, which holds
 *	any version 1 header and the first 16 bytes of a version 2 one.
 *	While proxy_parse() wants more, proxy_need() is more than the
 *	bytes so far; it is never less than a whole header's length.
 *
 *	On success hdr holds the version and either local (the connection's
 *	own addresses stand: v1 UNKNOWN, v2 LOCAL, v2 families other than
 *	TCP over IPv4 or IPv6; with LOCAL the family byte is ignored, as
 *	the specification says) or the client's address in src and the
 *	one it connected to in dst, AF_INET or AF_INET6 socket addresses
 *	with their ports in network order.
 * DIAGNOSTICS
 *	proxy_parse() returns the length in bytes of a complete header
 *	that starts buf (hdr filled, the bytes after it are not its
 *	business); 0 when the bytes so far can still begin a header and
 *	more are needed; -1 when they can never begin one, with *why (when
 *	why is not null) a short static reason such as "not a PROXY
 *	header" or "v2: bad command".
 *--*/

#include <sys/types.h>
#include <sys/socket.h>

#define PROXY_V1_MAX    107             /* bytes of a v1 header, CRLF in */
#define PROXY_V2_MAX    (16 + 65535)

typedef struct PROXY_HEADER {
    int     version;                    /* 1 or 2 */
    int     local;                      /* keep the connection's addresses */
    struct sockaddr_storage src;        /* the client, when !local */
    socklen_t src_len;
    struct sockaddr_storage dst;        /* where it connected, when !local */
    socklen_t dst_len;
} PROXY_HEADER;

extern int proxy_parse(const unsigned char *, size_t, PROXY_HEADER *,
                               const char **);
extern size_t proxy_need(const unsigned char *, size_t);

#endif
