/*
 * test_proxy.c - PROXY protocol headers: every form of version 1 and 2,
 * their exact lengths, every prefix of them, trailing bytes, and each
 * refusal as early as the bytes allow it
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"
#include "tap.h"

#define V2SIG   "\r\n\r\n\0\r\nQUIT\n"

static unsigned char v2buf[PROXY_V2_MAX + 64];

/* v2 - a version 2 header: ver_cmd, fam, then body of blen bytes */
static size_t v2(int ver_cmd, int fam, const void *body, size_t blen)
{
    memcpy(v2buf, V2SIG, 12);
    v2buf[12] = (unsigned char) ver_cmd;
    v2buf[13] = (unsigned char) fam;
    v2buf[14] = (unsigned char) (blen >> 8);
    v2buf[15] = (unsigned char) blen;
    memcpy(v2buf + 16, body, blen);
    return (16 + blen);
}

/* prefixes - every prefix says "more", the whole its length, with tail */
static int prefixes(const unsigned char *buf, size_t len)
{
    static unsigned char copy[PROXY_V2_MAX + 64];
    PROXY_HEADER hdr;
    const char *why;
    size_t  i;

    for (i = 0; i < len; i++)
        if (proxy_parse(buf, i, &hdr, &why) != 0) {
            printf("# prefix of %zu bytes: not 0\n", i);
            return (0);
        }
    memcpy(copy, buf, len);
    memcpy(copy + len, "EHLO x\r\n\0\r\n", 11);
    if (proxy_parse(copy, len + 11, &hdr, &why) != (int) len) {
        printf("# with trailing bytes: not %zu\n", len);
        return (0);
    }
    return (proxy_parse(buf, len, &hdr, &why) == (int) len);
}

/* good - a valid header: its length, every prefix, and hdr filled */
static int good(const void *buf, size_t len, PROXY_HEADER *hdr)
{
    const char *why = 0;
    int     ret = proxy_parse(buf, len, hdr, &why);

    if (ret != (int) len)
        printf("# got %d (%s), want %zu\n", ret, why ? why : "", len);
    return (ret == (int) len && prefixes(buf, len));
}

/* shown - an address and port as text, "ip port" */
static const char *shown(const struct sockaddr_storage *ss, socklen_t len)
{
    static char text[2][80];
    static int which;
    char    ip[INET6_ADDRSTRLEN];
    char   *out = text[which++ % 2];
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;

    if (ss->ss_family == AF_INET && len == sizeof(*sin))
        snprintf(out, 80, "%s %u", inet_ntop(AF_INET, &sin->sin_addr, ip,
                                             sizeof(ip)), ntohs(sin->sin_port));
    else if (ss->ss_family == AF_INET6 && len == sizeof(*sin6))
        snprintf(out, 80, "%s %u", inet_ntop(AF_INET6, &sin6->sin6_addr, ip,
                                           sizeof(ip)), ntohs(sin6->sin6_port));
    else
        snprintf(out, 80, "family %d len %u", ss->ss_family, (unsigned) len);
    return (out);
}

/* addrs - a header's addresses are these */
static int addrs(const PROXY_HEADER *hdr, int version, const char *src,
                         const char *dst)
{
    const char *s = shown(&hdr->src, hdr->src_len);
    const char *d = shown(&hdr->dst, hdr->dst_len);

    if (hdr->version != version || hdr->local || strcmp(s, src)
        || strcmp(d, dst)) {
        printf("# got v%d local=%d [%s] [%s]\n", hdr->version, hdr->local,
               s, d);
        return (0);
    }
    return (1);
}

/* bad_at - refused with why, and first refused after exactly at bytes */
static int bad_at(const void *buf, size_t len, const char *want, size_t at)
{
    PROXY_HEADER hdr;
    const char *why = 0;
    int     ret = proxy_parse(buf, len, &hdr, &why);
    size_t  i;

    if (ret != -1 || why == 0 || strcmp(why, want) != 0) {
        printf("# got %d (%s), want -1 (%s)\n", ret, why ? why : "", want);
        return (0);
    }
    for (i = 0; i < len && proxy_parse(buf, i, &hdr, &why) == 0; i++)
         /* void */ ;
    if (i != at)
        printf("# first refused at %zu bytes, want %zu\n", i, at);
    return (i == at);
}

/* bad1 - a version 1 line refused with why, after at bytes */
static int bad1(const char *text, const char *want, size_t at)
{
    return (bad_at(text, strlen(text), want, at));
}

/* version1 - the three forms of version 1, with extremes */
static void version1(void)
{
    PROXY_HEADER hdr;
    static const char *longest =
        "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    char    unknown[PROXY_V1_MAX + 1];

    ok(good("PROXY TCP4 192.0.2.1 198.51.100.7 56324 25\r\n", 44, &hdr)
       && addrs(&hdr, 1, "192.0.2.1 56324", "198.51.100.7 25"), "v1 TCP4");
    ok(good("PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n", 48, &hdr)
       && addrs(&hdr, 1, "2001:db8::1 0", "::ffff:10.0.0.1 65535"),
       "v1 TCP6, ports 0 and 65535");
    ok(good(longest, strlen(longest), &hdr) && strlen(longest) == 104,
       "v1 longest TCP6 line");
    ok(good("PROXY UNKNOWN\r\n", 15, &hdr) && hdr.local && hdr.version == 1,
       "v1 UNKNOWN");
    ok(good("PROXY UNKNOWN ffff::1 ::1 1 2\r\n", 31, &hdr) && hdr.local,
       "v1 UNKNOWN with addresses");
    memset(unknown, 'x', sizeof(unknown));
    memcpy(unknown, "PROXY UNKNOWN ", 14);
    memcpy(unknown + PROXY_V1_MAX - 2, "\r\n", 2);
    ok(good(unknown, PROXY_V1_MAX, &hdr) && hdr.local,
       "v1 UNKNOWN of exactly %d bytes", PROXY_V1_MAX);
    memcpy(unknown + PROXY_V1_MAX - 2, "x\r", 2);
    ok(bad_at(unknown, PROXY_V1_MAX + 1, "v1: too long", PROXY_V1_MAX - 1),
       "v1 of 108 bytes: too long as soon as 106 bytes have no CR");
}

/* refusals1 - version 1 lines refused, each as early as it can be */
static void refusals1(void)
{
    ok(bad1("GET / HTTP/1.0\r\n", "not a PROXY header", 1), "HTTP request");
    ok(bad1("PROXY\r\n", "not a PROXY header", 6), "PROXY without space");
    ok(bad1("PROXY  TCP4 1.2.3.4 1.2.3.4 1 2\r\n", "v1: bad spacing", 7),
       "two spaces after PROXY");
    ok(bad1("PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n", "v1: bad spacing", 20),
       "two spaces between fields");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n", "v1: too many fields", 31),
       "trailing space");
    ok(bad1("PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "v1: bad protocol", 10),
       "TCP5");
    ok(bad1("PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n", "v1: bad protocol", 7),
       "lowercase protocol");
    ok(bad1("PROXY UNKNOWNX\r\n", "v1: bad protocol", 14), "UNKNOWNX");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n", "v1: bad port", 34),
       "port 65536");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 100000 2\r\n", "v1: bad port", 33),
       "port of six digits");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n", "v1: bad port", 28),
       "port -1");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n", "v1: bad port", 28),
       "port +1");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 025\r\n", "v1: bad port", 31),
       "port 025");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 00 2\r\n", "v1: bad port", 29),
       "port 00");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 \r\n", "v1: bad spacing", 31),
       "empty port");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", "v1: missing fields", 30),
       "missing port");
    ok(bad1("PROXY TCP4\r\n", "v1: missing fields", 12), "no addresses");
    ok(bad1("PROXY TCP4 ::1 ::1 1 2\r\n", "v1: bad address", 12),
       "TCP4 with IPv6 addresses");
    ok(bad1("PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n", "v1: bad address", 19),
       "TCP6 with IPv4 addresses");
    ok(bad1("PROXY TCP4 1.2.3.04 1.2.3.4 1 2\r\n", "v1: bad address", 20),
       "IPv4 with a leading zero");
    ok(bad1("PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n", "v1: bad address", 17),
       "IPv4 of three numbers");
    ok(bad1("PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n", "v1: bad address", 21),
       "IPv4 number of 256");
    ok(bad1("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "v1: bad address", 19),
       "IPv6 with a scope");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", "v1: bad line end", 31),
       "lone LF");
    ok(bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rx", "v1: bad line end", 32),
       "CR without LF");
    ok(bad1("PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n", "v1: bad address", 19),
       "tab");
    ok(bad_at("PROXY UNKNOWN\0\r\n", 16, "v1: bad protocol", 14),
       "NUL after UNKNOWN");
    ok(bad_at("PROXY TCP4 1.2.3.4\0 1.2.3.4 1 2\r\n", 32, "v1: bad address",
              19), "NUL in an address");
}

/* version2 - the forms of version 2 */
static void version2(void)
{
    static const unsigned char a4[] = {192, 0, 2, 1, 198, 51, 100, 7,
    0xdc, 0x04, 0, 25};
    unsigned char a6[36 + 3 + 5 + 3] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1,
    [31] = 1, [32] = 0xff, [33] = 0xff, [34] = 0, [35] = 0};
    unsigned char big[600] = {0};
    PROXY_HEADER hdr;
    size_t  n;

    n = v2(0x21, 0x11, a4, sizeof(a4));
    ok(good(v2buf, n, &hdr) && n == 28
       && addrs(&hdr, 2, "192.0.2.1 56324", "198.51.100.7 25"),
       "v2 PROXY TCP/IPv4");
    n = v2(0x21, 0x21, a6, 36);
    ok(good(v2buf, n, &hdr) && n == 52
       && addrs(&hdr, 2, "2001:db8::1 65535", "::1 0"), "v2 PROXY TCP/IPv6");
    memcpy(a6 + 36, "\x20\x00\x05" "abcde" "\x04\x00\x00", 11);
    n = v2(0x21, 0x21, a6, sizeof(a6));
    ok(good(v2buf, n, &hdr) && n == 63
       && addrs(&hdr, 2, "2001:db8::1 65535", "::1 0"), "v2 with two TLVs");
    n = v2(0x20, 0x00, "", 0);
    ok(good(v2buf, n, &hdr) && hdr.local && hdr.version == 2 && n == 16,
       "v2 LOCAL");
    n = v2(0x20, 0x11, a4, sizeof(a4));
    ok(good(v2buf, n, &hdr) && hdr.local && n == 28, "v2 LOCAL, TCP/IPv4");
    n = v2(0x20, 0xff, a4, 5);
    ok(good(v2buf, n, &hdr) && hdr.local, "v2 LOCAL, family ignored");
    n = v2(0x21, 0x12, a4, sizeof(a4));
    ok(good(v2buf, n, &hdr) && hdr.local, "v2 UDP/IPv4: local");
    n = v2(0x21, 0x22, a6, 36);
    ok(good(v2buf, n, &hdr) && hdr.local, "v2 UDP/IPv6: local");
    n = v2(0x21, 0x31, big, 216);
    ok(good(v2buf, n, &hdr) && hdr.local && n == 232, "v2 UNIX stream: local");
    n = v2(0x21, 0x32, big, 216 + 20);
    ok(good(v2buf, n, &hdr) && hdr.local, "v2 UNIX datagram: local");
    n = v2(0x21, 0x00, big, 7);
    ok(good(v2buf, n, &hdr) && hdr.local, "v2 UNSPEC: local");
    memset(big, 0, sizeof(big));
    n = v2(0x21, 0x11, big, sizeof(big));
    ok(good(v2buf, n, &hdr) && addrs(&hdr, 2, "0.0.0.0 0", "0.0.0.0 0"),
       "v2 TCP/IPv4, zeros: 196 empty TLVs");
    n = v2(0x21, 0x11, big, sizeof(big) - 1);
    ok(bad_at(v2buf, n, "v2: TLV overrun", n - 2), "the same less a byte");
    n = v2(0x21, 0x11, a4, sizeof(a4));
    v2buf[14] = 0xff, v2buf[15] = 0xff;
    memset(v2buf + 28, 0, PROXY_V2_MAX - 28);
    v2buf[28] = 0xee, v2buf[29] = 0xff, v2buf[30] = 0xff - 15;
    ok(good(v2buf, PROXY_V2_MAX, &hdr)
       && addrs(&hdr, 2, "192.0.2.1 56324", "198.51.100.7 25"),
       "v2 of %d bytes, one big TLV", PROXY_V2_MAX);
}

/* refusals2 - version 2 headers refused, each as early as it can be */
static void refusals2(void)
{
    static const unsigned char a4[] = {192, 0, 2, 1, 198, 51, 100, 7,
    0xdc, 0x04, 0, 25, 0x01, 0x00, 0x02, 'h', '2'};
    unsigned char a6[36] = {0};
    size_t  n;

    ok(bad_at("\r\n\r\n\0\r\nQUIT\r", 12, "not a PROXY header", 12),
       "bad last byte of the signature");
    ok(bad_at("\r\r", 2, "not a PROXY header", 2), "\\r\\r");
    n = v2(0x11, 0x11, a4, 12);
    ok(bad_at(v2buf, n, "v2: bad version", 13), "version 1 in binary");
    n = v2(0x31, 0x11, a4, 12);
    ok(bad_at(v2buf, n, "v2: bad version", 13), "version 3");
    n = v2(0x22, 0x11, a4, 12);
    ok(bad_at(v2buf, n, "v2: bad command", 13), "command 2");
    n = v2(0x2f, 0x11, a4, 12);
    ok(bad_at(v2buf, n, "v2: bad command", 13), "command 15");
    n = v2(0x21, 0x41, a4, 12);
    ok(bad_at(v2buf, n, "v2: bad family", 14), "family 0x41");
    n = v2(0x21, 0x14, a4, 12);
    ok(bad_at(v2buf, n, "v2: bad family", 14), "family 0x14");
    n = v2(0x21, 0x13, a4, 12);
    ok(bad_at(v2buf, n, "v2: bad family", 14), "family 0x13");
    n = v2(0x21, 0x11, a4, 11);
    ok(bad_at(v2buf, n, "v2: address block too short", 16),
       "TCP/IPv4 in 11 bytes");
    n = v2(0x21, 0x21, a6, 35);
    ok(bad_at(v2buf, n, "v2: address block too short", 16),
       "TCP/IPv6 in 35 bytes");
    n = v2(0x21, 0x21, a4, 12);
    ok(bad_at(v2buf, n, "v2: address block too short", 16),
       "TCP/IPv6 with IPv4 addresses");
    n = v2(0x21, 0x11, a4, 16);
    ok(bad_at(v2buf, n, "v2: TLV overrun", 31), "TLV one byte too long");
    n = v2(0x21, 0x11, a4, 14);
    ok(bad_at(v2buf, n, "v2: TLV overrun", 16), "TLV header cut");
    n = v2(0x21, 0x11, a4, 13);
    ok(bad_at(v2buf, n, "v2: TLV overrun", 16), "one byte after addresses");
}

int     main(void)
{
    version1();
    refusals1();
    version2();
    refusals2();
    return (done_testing());
}
