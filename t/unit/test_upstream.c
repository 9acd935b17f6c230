/*
 * test_upstream.c - the PROXY reader (upstream_read_step()) on a pipe, a
 * socket and a regular file: a header split at every byte boundary is
 * read whole at the second step and not a byte past it; a pipe or a
 * socket closed in the middle, a bad header, a timeout and a short file
 * are refused with their reasons. Deterministic: nothing waits; a step
 * that would block is ended by an alarm, and the test fails rather than
 * hangs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy.h"
#include "tap.h"
#include "upstream.h"

#define TAIL    "EHLO x\r\n"

static unsigned char v2long[16 + 12 + 3 + 200];

/* v2_long - a v2 TCP4 header with a 200-byte TLV: longer than any v1 */
static size_t v2_long(void)
{
    static const unsigned char head[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11";
    size_t  body = 12 + 3 + 200;

    memcpy(v2long, head, 14);
    v2long[14] = (unsigned char) (body >> 8);
    v2long[15] = (unsigned char) body;
    memcpy(v2long + 16, "\xc0\x00\x02\x01\xc0\x00\x02\x02\x00\x01\x00\x02", 12);
    v2long[28] = 0xee;                  /* a TLV of a type nobody reads */
    v2long[29] = 0;
    v2long[30] = 200;
    memset(v2long + 31, 'x', 200);
    return (sizeof(v2long));
}

/* put - write all of it, or end the test */
static void put(int fd, const void *buf, size_t len)
{
    if (len > 0 && write(fd, buf, len) != (ssize_t) len) {
        perror("write");
        exit(1);
    }
}

/* rest - what is left to read on fd after the header: is it TAIL? */
static int rest(int fd)
{
    char    buf[64];
    ssize_t got = -1;
    int     avail;

    /* Fewer bytes than TAIL (taken with the header) must not block. */
    if (ioctl(fd, FIONREAD, &avail) == 0 && avail > 0)
        got = read(fd, buf, sizeof(buf));

    return (got == (ssize_t) strlen(TAIL) && memcmp(buf, TAIL, got) == 0);
}

/*
 * begin - a pipe (sock: a socket pair, looked at with 1, read exactly
 * with 2) holding the first k bytes of hdr, and the reader's first step
 * on it: what that step said
 */
static int begin(int fds[2], UPSTREAM_READ *rd, const void *hdr, size_t k,
                         int sock, PROXY_HEADER *got, const char **why)
{
    if ((sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds)) < 0)
        exit(1);
    put(fds[1], hdr, k);
    upstream_read_start(rd, fds[0], sock == 1 ? UPSTREAM_MAY_PEEK : 0);
    return (upstream_read_step(rd, 0, got, why));
}

/*
 * split - the header cut after k bytes: the first step waits, the second
 * (woken) takes the header and leaves TAIL. sock: as begin() has it.
 * Returns 1 when all is as it should be.
 */
static int split(const unsigned char *hdr, size_t len, size_t k, int sock)
{
    UPSTREAM_READ rd;
    PROXY_HEADER got;
    const char *why = 0;
    int     fds[2];
    int     s1 = begin(fds, &rd, hdr, k, sock, &got, &why);
    int     s2;

    put(fds[1], hdr + k, len - k);
    put(fds[1], TAIL, strlen(TAIL));
    s2 = s1 == 0 ? upstream_read_step(&rd, EV_READ, &got, &why) : s1;
    upstream_read_end(&rd);
    s2 = s1 == 0 && s2 == 1 && rd.peek == (sock == 1) && rest(fds[0]);
    if (!s2)
        printf("# cut after %zu of %zu: %d then %s\n", k, len, s1,
               why ? why : "(no reason)");
    close(fds[0]);
    close(fds[1]);
    return (s2);
}

/* every_cut - split() at each byte boundary of a header */
static void every_cut(const char *name, const void *hdr, size_t len, int sock)
{
    size_t  k;
    int     good = 1;

    for (k = 0; k < len && good; k++)
        good = split(hdr, len, k, sock);
    ok(good, "%s on a %s, cut at every byte: read whole, not a byte more",
       name, sock == 1 ? "socket" : sock ? "socket read exactly" : "pipe");
}

/* closed - a pipe closed k bytes into a header: the reader says so */
static void closed(const void *hdr, size_t k)
{
    UPSTREAM_READ rd;
    PROXY_HEADER got;
    const char *why = 0;
    int     fds[2];
    int     s1 = begin(fds, &rd, hdr, k, 0, &got, &why);
    int     s2;

    close(fds[1]);
    s2 = upstream_read_step(&rd, EV_READ, &got, &why);
    upstream_read_end(&rd);
    close(fds[0]);
    ok(s1 == 0 && s2 == -1 && why
       && strcmp(why, "connection closed before the header ended") == 0,
       "a pipe closed %zu bytes into a header: refused as closed", k);
}

/* from_file - a header in a regular file: read at once, never a wait */
static int from_file(const void *hdr, size_t len, size_t keep, int *status,
                             const char **why)
{
    UPSTREAM_READ rd;
    PROXY_HEADER got;
    char    path[] = "/tmp/test_upstream.XXXXXX";
    int     fd = mkstemp(path);
    int     events;

    if (fd < 0)
        exit(1);
    unlink(path);
    put(fd, hdr, keep);
    if (keep == len)
        put(fd, TAIL, strlen(TAIL));
    lseek(fd, 0, SEEK_SET);
    upstream_read_start(&rd, fd, UPSTREAM_MAY_PEEK);
    events = upstream_read_events(&rd);
    *status = upstream_read_step(&rd, 0, &got, why);
    upstream_read_end(&rd);
    if (*status == 1 && !rest(fd))
        *status = 2;                    /* it read past the header */
    close(fd);
    return (events);
}

/* files - a whole header and a short one in a regular file */
static void files(const void *hdr, size_t len)
{
    const char *why = 0;
    int     status;

    ok(from_file(hdr, len, len, &status, &why) == 0 && status == 1,
       "a regular file: never waited for, the header read, not a byte more");
    ok(from_file(hdr, len, len - 1, &status, &why) == 0 && status == -1
       && strcmp(why, "connection closed before the header ended") == 0,
       "a regular file that ends in the header: refused as closed");
}

/* others - events, a timeout and a bad header */
static void others(void)
{
    UPSTREAM_READ rd;
    PROXY_HEADER got;
    const char *why = 0;
    int     fds[2];

    if (pipe(fds) < 0)
        exit(1);
    upstream_read_start(&rd, fds[0], UPSTREAM_MAY_PEEK);
    ok(upstream_read_events(&rd) == (EV_READ | EV_PERSIST),
       "a pipe is watched level-triggered");
    ok(upstream_read_step(&rd, 0, &got, &why) == 0, "an empty pipe: wait");
    ok(upstream_read_step(&rd, EV_TIMEOUT, &got, &why) == -1
       && strcmp(why, "timeout") == 0, "EV_TIMEOUT: \"timeout\"");
    upstream_read_end(&rd);
    upstream_read_start(&rd, fds[0], UPSTREAM_MAY_PEEK | UPSTREAM_SOCKET);
    ok(rd.peek && upstream_read_events(&rd) == (EV_READ | EV_CLOSED | EV_ET
                                                 | EV_PERSIST),
       "told it is a socket, the reader does not look for itself");
    upstream_read_end(&rd);
    put(fds[1], "GET / HTTP/1.0\r\n", 16);
    upstream_read_start(&rd, fds[0], UPSTREAM_MAY_PEEK);
    ok(upstream_read_step(&rd, 0, &got, &why) == -1
       && strcmp(why, "not a PROXY header") == 0, "a bad header: the reason");
    upstream_read_end(&rd);
    close(fds[0]);
    close(fds[1]);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        exit(1);
    upstream_read_start(&rd, fds[0], UPSTREAM_MAY_PEEK);
    ok(upstream_read_events(&rd) == (EV_READ | EV_CLOSED | EV_ET | EV_PERSIST),
       "a socket is looked at, edge-triggered");
    upstream_read_start(&rd, fds[0], 0);
    ok(upstream_read_events(&rd) == (EV_READ | EV_PERSIST) && !rd.peek,
       "without edge triggering a socket is read as a pipe is");
    close(fds[0]);
    close(fds[1]);
}

int     main(void)
{
    static const char v1[] = "PROXY TCP4 203.0.113.7 198.51.100.1 5555 443\r\n";
    static const char v1u[] = "PROXY UNKNOWN\r\n";
    size_t  n2 = v2_long();

    alarm(20);                          /* a step that blocks: fail, not hang */
    every_cut("v1 TCP4", v1, sizeof(v1) - 1, 0);
    every_cut("v1 UNKNOWN (the shortest)", v1u, sizeof(v1u) - 1, 0);
    every_cut("v2 with a TLV", v2long, n2, 0);
    every_cut("v1 TCP4", v1, sizeof(v1) - 1, 1);
    every_cut("v2 with a TLV", v2long, n2, 1);
    every_cut("v1 TCP4", v1, sizeof(v1) - 1, 2);
    every_cut("v2 with a TLV", v2long, n2, 2);
    closed(v1, 0);
    closed(v1, 20);
    closed(v2long, 100);
    files(v1, sizeof(v1) - 1);
    files(v2long, n2);
    others();
    return (done_testing());
}
