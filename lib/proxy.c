/*
 * proxy.c - the PROXY protocol header (HAProxy's, version 1 and 2)
 *
 * The bytes are those received so far, so every step first asks whether
 * it has enough of them: a version 1 line is checked field by field as it
 * arrives (a field followed by a space is complete, the one being
 * received is checked as the beginning of a valid one), and a version 2
 * header byte by byte, its TLVs as soon as their own headers are in.
 * Nothing here reads past len, nor takes the bytes for a string: a field
 * is copied into a buffer of ours before inet_pton() reads it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "proxy.h"

#define PROXY_V1_SIG    "PROXY "
#define PROXY_V1_SIGLEN 6
#define PROXY_V1_FIELDS 5               /* protocol, 2 addresses, 2 ports */
#define PROXY_V4_TEXT   15              /* 255.255.255.255 */
#define PROXY_V6_TEXT   45              /* with a dotted quad at its end */

#define PROXY_V2_SIGLEN 12
#define PROXY_V2_HDR    16              /* signature, 2 bytes, length */
#define PROXY_V2_TCP4   0x11
#define PROXY_V2_TCP6   0x21

static const unsigned char proxy_v2_sig[PROXY_V2_SIGLEN] = {
    '\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n',
};

/* proxy_bad - refuse, with a reason when the caller wants one */
static int proxy_bad(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return (-1);
}

/* proxy_agree - the bytes so far and a signature agree where both are */
static int proxy_agree(const unsigned char *buf, size_t len,
                               const unsigned char *sig, size_t siglen)
{
    return (memcmp(buf, sig, len < siglen ? len : siglen) == 0);
}

/* proxy_v1_proto - TCP4, TCP6 or UNKNOWN, or the beginning of one */
static int proxy_v1_proto(const unsigned char *tok, size_t tlen,
                                  int partial, int *family, const char **why)
{
    static const char *names[] = {"TCP4", "TCP6", "UNKNOWN"};
    static const int families[] = {AF_INET, AF_INET6, AF_UNSPEC};
    size_t  i;
    size_t  nlen;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        nlen = strlen(names[i]);
        if ((partial ? tlen <= nlen : tlen == nlen)
            && memcmp(tok, names[i], tlen) == 0) {
            *family = families[i];
            return (0);
        }
    }
    return (proxy_bad(why, "v1: bad protocol"));
}

/* proxy_v1_addr - an address of the family, or the beginning of one */
static int proxy_v1_addr(const unsigned char *tok, size_t tlen, int partial,
                                 int family, struct sockaddr_storage *ss,
                                 socklen_t *ss_len, const char **why)
{
    const char *chars = (family == AF_INET ? "0123456789." :
                         "0123456789abcdefABCDEF:.");
    char    text[PROXY_V6_TEXT + 1];
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    size_t  i;

    if (tlen > (family == AF_INET ? PROXY_V4_TEXT : PROXY_V6_TEXT))
        return (proxy_bad(why, "v1: bad address"));
    for (i = 0; i < tlen; i++)
        if (tok[i] == 0 || strchr(chars, tok[i]) == 0)
            return (proxy_bad(why, "v1: bad address"));
    if (partial)
        return (0);
    memcpy(text, tok, tlen);
    text[tlen] = 0;
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        sin->sin_family = AF_INET;
        *ss_len = sizeof(*sin);
        i = inet_pton(AF_INET, text, &sin->sin_addr);
    } else {
        sin6->sin6_family = AF_INET6;
        *ss_len = sizeof(*sin6);
        i = inet_pton(AF_INET6, text, &sin6->sin6_addr);
    }
    return (i == 1 ? 0 : proxy_bad(why, "v1: bad address"));
}

/* proxy_v1_port - a port 0..65535 without sign or leading zero */
static int proxy_v1_port(const unsigned char *tok, size_t tlen, int partial,
                                 struct sockaddr_storage *ss,
                                 const char **why)
{
    unsigned long port = 0;
    size_t  i;

    if (tlen > 5 || (tlen > 1 && tok[0] == '0'))
        return (proxy_bad(why, "v1: bad port"));
    for (i = 0; i < tlen; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return (proxy_bad(why, "v1: bad port"));
        port = port * 10 + (tok[i] - '0');
    }
    if (port > 65535)
        return (proxy_bad(why, "v1: bad port"));
    if (partial)
        return (0);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *) ss)->sin_port = htons((uint16_t) port);
    else
        ((struct sockaddr_in6 *) ss)->sin6_port = htons((uint16_t) port);
    return (0);
}

/* proxy_v1_field - field number n after "PROXY ", or its beginning */
static int proxy_v1_field(int n, const unsigned char *tok, size_t tlen,
                                  int partial, int *family,
                                  PROXY_HEADER *hdr, const char **why)
{
    switch (n) {
    case 0:
        return (proxy_v1_proto(tok, tlen, partial, family, why));
    case 1:
        return (proxy_v1_addr(tok, tlen, partial, *family, &hdr->src,
                              &hdr->src_len, why));
    case 2:
        return (proxy_v1_addr(tok, tlen, partial, *family, &hdr->dst,
                              &hdr->dst_len, why));
    case 3:
        return (proxy_v1_port(tok, tlen, partial, &hdr->src, why));
    default:
        return (proxy_v1_port(tok, tlen, partial, &hdr->dst, why));
    }
}

/* proxy_v1_fields - the n bytes after "PROXY ", the whole line if done */
static int proxy_v1_fields(const unsigned char *p, size_t n, int done,
                                   PROXY_HEADER *hdr, const char **why)
{
    size_t  start = 0;
    size_t  end;
    int     field;
    int     family = -1;
    int     partial;

    for (field = 0; /* void */ ; field++, start = end + 1) {
        for (end = start; end < n && p[end] != ' '; end++)
             /* void */ ;
        partial = (end == n && !done);
        if (field >= PROXY_V1_FIELDS)
            return (proxy_bad(why, "v1: too many fields"));
        if (end == start && !partial)
            return (proxy_bad(why, "v1: bad spacing"));
        if (proxy_v1_field(field, p + start, end - start, partial,
                           &family, hdr, why) < 0)
            return (-1);
        if (field == 0 && family == AF_UNSPEC && !partial) {
            hdr->local = 1;                     /* the rest is anything */
            return (0);
        }
        if (end == n)
            break;
    }
    if (done && field < PROXY_V1_FIELDS - 1)
        return (proxy_bad(why, "v1: missing fields"));
    return (0);
}

/* proxy_v1 - a version 1 header, or the beginning of one */
static int proxy_v1(const unsigned char *buf, size_t len,
                            PROXY_HEADER *hdr, const char **why)
{
    size_t  scan = (len < PROXY_V1_MAX - 1 ? len : PROXY_V1_MAX - 1);
    size_t  end;
    int     done;

    if (len <= PROXY_V1_SIGLEN)
        return (0);
    for (end = 0; end < scan && buf[end] != '\r' && buf[end] != '\n'; end++)
         /* void */ ;
    if (end == PROXY_V1_MAX - 1)
        return (proxy_bad(why, "v1: too long"));
    if (end < scan && (buf[end] == '\n'
                       || (end + 1 < len && buf[end + 1] != '\n')))
        return (proxy_bad(why, "v1: bad line end"));
    done = (end + 1 < len);
    if (proxy_v1_fields(buf + PROXY_V1_SIGLEN, end - PROXY_V1_SIGLEN, done,
                        hdr, why) < 0)
        return (-1);
    if (!done)
        return (0);
    hdr->version = 1;
    return ((int) end + 2);
}

/* proxy_v2_tlvs - the TLVs from off to end fit, as far as have shows */
static int proxy_v2_tlvs(const unsigned char *buf, size_t have, size_t off,
                                 size_t end, const char **why)
{
    while (off < end) {
        if (off + 3 > end)
            return (proxy_bad(why, "v2: TLV overrun"));
        if (off + 3 > have)
            return (0);
        off += 3 + (size_t) (buf[off + 1] << 8 | buf[off + 2]);
    }
    return (off > end ? proxy_bad(why, "v2: TLV overrun") : 0);
}

/* proxy_v2_addrs - the addresses of a TCP over IPv4 or IPv6 header */
static void proxy_v2_addrs(const unsigned char *a, int fam,
                                   PROXY_HEADER *hdr)
{
    struct sockaddr_in *src4 = (struct sockaddr_in *) &hdr->src;
    struct sockaddr_in *dst4 = (struct sockaddr_in *) &hdr->dst;
    struct sockaddr_in6 *src6 = (struct sockaddr_in6 *) &hdr->src;
    struct sockaddr_in6 *dst6 = (struct sockaddr_in6 *) &hdr->dst;

    if (fam == PROXY_V2_TCP4) {
        src4->sin_family = dst4->sin_family = AF_INET;
        memcpy(&src4->sin_addr, a, 4);
        memcpy(&dst4->sin_addr, a + 4, 4);
        memcpy(&src4->sin_port, a + 8, 2);
        memcpy(&dst4->sin_port, a + 10, 2);
        hdr->src_len = hdr->dst_len = sizeof(struct sockaddr_in);
    } else {
        src6->sin6_family = dst6->sin6_family = AF_INET6;
        memcpy(&src6->sin6_addr, a, 16);
        memcpy(&dst6->sin6_addr, a + 16, 16);
        memcpy(&src6->sin6_port, a + 32, 2);
        memcpy(&dst6->sin6_port, a + 34, 2);
        hdr->src_len = hdr->dst_len = sizeof(struct sockaddr_in6);
    }
}

/* proxy_v2 - a version 2 header, or the beginning of one */
static int proxy_v2(const unsigned char *buf, size_t len,
                            PROXY_HEADER *hdr, const char **why)
{
    size_t  total;
    size_t  asize;
    int     cmd;
    int     fam;

    if (len <= PROXY_V2_SIGLEN)
        return (0);
    if ((buf[12] >> 4) != 2)
        return (proxy_bad(why, "v2: bad version"));
    if ((cmd = buf[12] & 0xf) > 1)
        return (proxy_bad(why, "v2: bad command"));
    if (len < 14)
        return (0);
    fam = buf[13];
    if (cmd == 1 && ((fam >> 4) > 3 || (fam & 0xf) > 2))
        return (proxy_bad(why, "v2: bad family"));
    if (len < PROXY_V2_HDR)
        return (0);
    total = PROXY_V2_HDR + (size_t) (buf[14] << 8 | buf[15]);
    asize = (cmd == 0 ? 0 : fam == PROXY_V2_TCP4 ? 12 :
             fam == PROXY_V2_TCP6 ? 36 : 0);
    if (total < PROXY_V2_HDR + asize)
        return (proxy_bad(why, "v2: address block too short"));
    if (asize > 0 && proxy_v2_tlvs(buf, len, PROXY_V2_HDR + asize, total,
                                   why) < 0)
        return (-1);
    if (len < total)
        return (0);
    hdr->version = 2;
    if (asize > 0)
        proxy_v2_addrs(buf + PROXY_V2_HDR, fam, hdr);
    else
        hdr->local = 1;
    return ((int) total);
}

/* proxy_parse - a PROXY header at the start of the bytes so far */
int     proxy_parse(const unsigned char *buf, size_t len, PROXY_HEADER *hdr,
                            const char **why)
{
    memset(hdr, 0, sizeof(*hdr));
    if (len == 0)
        return (0);
    if (proxy_agree(buf, len, (const unsigned char *) PROXY_V1_SIG,
                    PROXY_V1_SIGLEN))
        return (proxy_v1(buf, len, hdr, why));
    if (proxy_agree(buf, len, proxy_v2_sig, PROXY_V2_SIGLEN))
        return (proxy_v2(buf, len, hdr, why));
    return (proxy_bad(why, "not a PROXY header"));
}

/*
 * proxy_need - how many bytes to look at for the whole header: a v2
 * header says its length in its first 16; before that, and for v1, at
 * most PROXY_V1_MAX (more than 16) will do
 */
size_t  proxy_need(const unsigned char *buf, size_t len)
{
    if (len >= PROXY_V2_HDR && memcmp(buf, proxy_v2_sig, PROXY_V2_SIGLEN) == 0)
        return (PROXY_V2_HDR + (size_t) (buf[14] << 8 | buf[15]));
    return (PROXY_V1_MAX);
}
