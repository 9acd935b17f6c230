/* tlsload: bounded TLS load generator (OpenSSL 3), three modes.
 *
 * Every connection is a new TLS 1.3 session: a fresh SSL object, no session
 * set, so a full handshake every time (tickets the server sends are read and
 * dropped).  The client offers only the suites of -s (default
 * TLS_AES_128_GCM_SHA256, so that bulk throughput compares with
 * `openssl speed -evp aes-128-gcm`), sends SNI "localhost", sets TCP_NODELAY,
 * and with -A CAFILE verifies the server's certificate against CAFILE (the
 * benchmark passes its self-signed certificate, so a server presenting any
 * other one fails every handshake).
 *
 * -m conn (default): N connections in total, C at a time (poll, non-blocking,
 *   one thread).  Each: connect, handshake, write MSG ("ping\n"), read the
 *   reply to the end of the stream, send close_notify, close.  A reply other
 *   than MSG is an error; an end without close_notify is counted as `dirty`
 *   (not an error).  Stops starting connections after N or -t seconds; a
 *   connection open -T ms is abandoned as a timeout.  Latency: connect() to
 *   the end of the stream.  Output, one line:
 *     mode=conn n ok err refused reset hsfail badreply short timeout other
 *     dirty secs cps p50_us p99_us max_us cli_cpu_us suite
 *   (err = everything but ok; cli_cpu_us = this process's CPU per ok).
 *
 * -m bulk: one connection; after the handshake it writes -b BYTES (default
 *   256 MiB, a fixed pseudo-random pattern) and reads them back at the same
 *   time (the handler is meant to echo, e.g. cat), then close_notify; reads
 *   to the server's close_notify and checks every byte.  Output:
 *     mode=bulk ok bytes secs mbps hs_us dirty cli_cpu_us suite
 *   (mbps = bytes / 1e6 / secs, each way; secs from the end of the handshake
 *   to the end of the stream; bounded by -T ms overall).
 *
 * -m idle: opens C connections (default 100) at once, each: handshake,
 *   write MSG, read it back (so the handler runs and echoes), then holds
 *   them.  Prints `ready ok=K err=E` on stdout when every connection is held
 *   or has failed, then holds until SIGTERM/SIGINT or -H seconds, closes them
 *   all (close_notify) and prints `mode=idle ok err dropped` (dropped: held
 *   connections the server ended meanwhile).
 *
 * Build: cc -O2 -o tlsload tlsload.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_FREE, ST_CONNECTING, ST_HANDSHAKE, ST_WRITING, ST_READING, ST_HELD };

struct slot {
    int fd;
    int st;
    int want;       /* POLLIN or POLLOUT: what OpenSSL or connect waits for */
    SSL *ssl;
    uint64_t t0;    /* ns, monotonic */
    size_t got;
    char buf[512];
};

static struct {
    long started, ok, refused, reset, hsfail, badreply, shortr, timeout, other, dirty;
    long dropped;
    int first_errno;
    char first_ssl[256];
} S;

static SSL_CTX *ctx;
static const char *msg = "ping\n";
static size_t msglen;
static struct sockaddr_in dst;
static uint32_t *lat; /* microseconds */
static const char *suite = "";
static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void count_errno(int e)
{
    switch (e) {
    case ECONNREFUSED: S.refused++; break;
    case ECONNRESET:
    case EPIPE: S.reset++; break;
    case ETIMEDOUT: S.timeout++; break;
    default:
        if (!S.first_errno)
            S.first_errno = e;
        S.other++;
    }
}

/* Remember the first OpenSSL error of the run, for stderr. */
static void note_ssl_error(const char *where)
{
    unsigned long e = ERR_peek_error();
    if (!S.first_ssl[0]) {
        char b[200];
        ERR_error_string_n(e, b, sizeof b);
        snprintf(S.first_ssl, sizeof S.first_ssl, "%s: %s", where, e ? b : "no error queued");
    }
    ERR_clear_error();
}

static void finish(struct slot *s, int notify)
{
    if (s->ssl) {
        if (notify) {
            ERR_clear_error();
            (void)SSL_shutdown(s->ssl); /* our close_notify; no wait for more */
        }
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->st = ST_FREE;
}

static void done_ok(struct slot *s)
{
    uint64_t us = (now_ns() - s->t0) / 1000;
    if (lat)
        lat[S.ok] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    S.ok++;
    finish(s, 1);
}

/* An OpenSSL call returned r <= 0: either it waits (sets s->want, returns 0)
 * or the connection failed (counted, returns -1; the caller finishes it). */
static int ssl_wait(struct slot *s, int r, int failcount_hs)
{
    int e = SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        s->want = POLLIN;
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        s->want = POLLOUT;
        return 0;
    }
    if (e == SSL_ERROR_SYSCALL && errno != 0 && ERR_peek_error() == 0) {
        count_errno(errno);
        return -1;
    }
    if (failcount_hs) {
        S.hsfail++;
        note_ssl_error("handshake");
    } else {
        S.other++;
        note_ssl_error("transfer");
    }
    return -1;
}

static void step(struct slot *s, int hold);

static void start_conn(struct slot *s, int hold)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    S.started++;
    s->t0 = now_ns();
    s->got = 0;
    if (fd < 0) {
        count_errno(errno);
        s->st = ST_FREE;
        return;
    }
    s->fd = fd;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->ssl = SSL_new(ctx);
    if (!s->ssl || !SSL_set_fd(s->ssl, fd)) {
        note_ssl_error("SSL_new");
        S.other++;
        finish(s, 0);
        return;
    }
    SSL_set_tlsext_host_name(s->ssl, "localhost");
    SSL_set_connect_state(s->ssl);
    (void)hold;
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) == 0) {
        s->st = ST_HANDSHAKE; /* the first poll says writable at once */
        s->want = POLLOUT;
        return;
    }
    if (errno == EINPROGRESS) {
        s->st = ST_CONNECTING;
        s->want = POLLOUT;
        return;
    }
    count_errno(errno);
    finish(s, 0);
}

/* Advance one connection as far as it goes without waiting. */
static void step(struct slot *s, int hold)
{
    int r;
    if (s->st == ST_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            count_errno(err);
            finish(s, 0);
            return;
        }
        s->st = ST_HANDSHAKE;
    }
    if (s->st == ST_HANDSHAKE) {
        ERR_clear_error();
        errno = 0;
        r = SSL_connect(s->ssl);
        if (r <= 0) {
            if (ssl_wait(s, r, 1) < 0)
                finish(s, 0);
            return;
        }
        if (!suite[0])
            suite = SSL_get_cipher_name(s->ssl);
        s->st = ST_WRITING;
    }
    if (s->st == ST_WRITING) {
        ERR_clear_error();
        errno = 0;
        r = SSL_write(s->ssl, msg, (int)msglen);
        if (r <= 0) {
            if (ssl_wait(s, r, 0) < 0)
                finish(s, 0);
            return;
        }
        s->st = ST_READING;
    }
    while (s->st == ST_READING) {
        size_t room = sizeof s->buf - s->got;
        if (room == 0) {
            S.badreply++;
            finish(s, 0);
            return;
        }
        ERR_clear_error();
        errno = 0;
        r = SSL_read(s->ssl, s->buf + s->got, (int)room);
        if (r > 0) {
            s->got += (size_t)r;
            if (s->got > msglen || memcmp(s->buf, msg, s->got) != 0) {
                S.badreply++;
                finish(s, 0);
                return;
            }
            if (hold && s->got == msglen) {
                s->st = ST_HELD;
                s->want = POLLIN;
                S.ok++;
                return;
            }
            continue;
        }
        {
            int e = SSL_get_error(s->ssl, r);
            int clean = e == SSL_ERROR_ZERO_RETURN;
            int dirty = (e == SSL_ERROR_SSL &&
                         ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
                        (e == SSL_ERROR_SYSCALL && errno == 0);
            if (clean || dirty) {
                ERR_clear_error();
                if (s->got != msglen) {
                    S.shortr++;
                    finish(s, 0);
                    return;
                }
                if (dirty)
                    S.dirty++;
                if (dirty) { /* no close_notify to answer */
                    SSL_set_quiet_shutdown(s->ssl, 1);
                }
                done_ok(s);
                return;
            }
            if (ssl_wait(s, r, 0) < 0)
                finish(s, 0);
            return;
        }
    }
}

/* A held connection became readable: a record that is no data (a late
 * session ticket) keeps it held; data, an end or an error drops it. */
static void held_read(struct slot *s)
{
    char b[512];
    int r, e;
    ERR_clear_error();
    errno = 0;
    r = SSL_read(s->ssl, b, sizeof b);
    e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        s->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return;
    }
    ERR_clear_error();
    S.dropped++;
    finish(s, 0);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t pct(long n, double p)
{
    long idx;
    if (n == 0)
        return 0;
    idx = (long)((p / 100.0) * (double)n + 0.999999) - 1; /* nearest rank */
    if (idx < 0)
        idx = 0;
    if (idx >= n)
        idx = n - 1;
    return lat[idx];
}

static long errors(void)
{
    return S.refused + S.reset + S.hsfail + S.badreply + S.shortr + S.timeout + S.other;
}

static void print_first_errors(void)
{
    if (S.first_ssl[0])
        fprintf(stderr, "tlsload: first TLS error: %s\n", S.first_ssl);
    if (S.first_errno)
        fprintf(stderr, "tlsload: first other error: %s\n", strerror(S.first_errno));
}

/* conn and idle: conc slots; conn refills them until total, idle fills each once. */
static int run_slots(long total, int conc, double tlimit, long conn_timeout_ms, int hold,
                     double hold_secs)
{
    struct slot *slots = calloc((size_t)conc, sizeof *slots);
    struct pollfd *pfd = calloc((size_t)conc, sizeof *pfd);
    int *pidx = calloc((size_t)conc, sizeof *pidx);
    uint64_t t_start, t_stop_new, t_end, tmo_ns = (uint64_t)conn_timeout_ms * 1000000ull;
    double c0 = cpu_secs(), secs;
    int ready = 0;

    if (!slots || !pfd || !pidx) {
        perror("tlsload: calloc");
        return 1;
    }
    for (int i = 0; i < conc; i++) {
        slots[i].fd = -1;
        slots[i].st = ST_FREE;
    }
    t_start = now_ns();
    t_stop_new = t_start + (uint64_t)(tlimit * 1e9);
    for (;;) {
        uint64_t now = now_ns(), next_deadline = UINT64_MAX;
        int nfds = 0, active = 0, held = 0, wait_ms;

        for (int i = 0; i < conc; i++) {
            struct slot *s = &slots[i];
            if (s->st != ST_FREE && s->st != ST_HELD && now - s->t0 >= tmo_ns) {
                S.timeout++;
                finish(s, 0);
            }
            while (s->st == ST_FREE && S.started < total && now < t_stop_new) {
                start_conn(s, hold); /* may complete or fail at once */
                now = now_ns();
            }
            if (s->st == ST_HELD)
                held++;
            if (s->st != ST_FREE) {
                active++;
                pfd[nfds].fd = s->fd;
                pfd[nfds].events = (short)s->want;
                pfd[nfds].revents = 0;
                pidx[nfds++] = i;
                if (s->st != ST_HELD && s->t0 + tmo_ns < next_deadline)
                    next_deadline = s->t0 + tmo_ns;
            }
        }
        if (hold && !ready && (S.started >= total || now >= t_stop_new) && held == active) {
            ready = 1;
            printf("ready ok=%ld err=%ld\n", S.ok, errors());
            fflush(stdout);
            t_stop_new = now + (uint64_t)(hold_secs * 1e9); /* now: the end of the hold */
        }
        if (ready && (stop || now >= t_stop_new))
            break;
        if (active == 0)
            break;
        if (!hold && stop)
            break;
        wait_ms = next_deadline > now ? (int)((next_deadline - now) / 1000000ull) + 1 : 0;
        if (wait_ms > 100)
            wait_ms = 100;
        if (poll(pfd, (nfds_t)nfds, wait_ms) < 0) {
            if (errno == EINTR)
                continue;
            perror("tlsload: poll");
            return 1;
        }
        for (int k = 0; k < nfds; k++) {
            struct slot *s = &slots[pidx[k]];
            if (!pfd[k].revents)
                continue;
            if (s->st == ST_HELD) {
                held_read(s);
                continue;
            }
            step(s, hold);
        }
    }
    t_end = now_ns();
    secs = (double)(t_end - t_start) / 1e9;
    if (hold) {
        long ok = S.ok;
        for (int i = 0; i < conc; i++)
            if (slots[i].st != ST_FREE)
                finish(&slots[i], 1);
        printf("mode=idle ok=%ld err=%ld dropped=%ld suite=%s\n", ok, errors(), S.dropped,
               suite[0] ? suite : "NA");
    } else {
        for (int i = 0; i < conc; i++)
            if (slots[i].st != ST_FREE) {
                S.timeout++;
                finish(&slots[i], 0);
            }
        qsort(lat, (size_t)S.ok, sizeof *lat, cmp_u32);
        printf("mode=conn n=%ld ok=%ld err=%ld refused=%ld reset=%ld hsfail=%ld badreply=%ld "
               "short=%ld timeout=%ld other=%ld dirty=%ld secs=%.3f cps=%.1f p50_us=%u "
               "p99_us=%u max_us=%u cli_cpu_us=%.0f suite=%s\n",
               S.started, S.ok, errors(), S.refused, S.reset, S.hsfail, S.badreply, S.shortr,
               S.timeout, S.other, S.dirty, secs, secs > 0 ? (double)S.ok / secs : 0.0,
               pct(S.ok, 50), pct(S.ok, 99), S.ok ? lat[S.ok - 1] : 0,
               S.ok ? (cpu_secs() - c0) * 1e6 / (double)S.ok : 0.0, suite[0] ? suite : "NA");
    }
    print_first_errors();
    return errors() ? 1 : 0;
}

/* The bulk pattern: byte i of the stream is pat[i % PAT]. */
enum { PAT = 1 << 20, CHUNK = 16384 };
static unsigned char pat[PAT];

static int run_bulk(uint64_t total, long timeout_ms)
{
    struct slot s0 = {.fd = -1}, *s = &s0;
    uint64_t sent = 0, rcvd = 0, t0, t_hs, deadline;
    int shut = 0, done = 0, bad = 0, wr_want = 0, rd_want = POLLIN;
    double c0 = cpu_secs();
    unsigned char rbuf[CHUNK];
    uint32_t x = 2463534242u;

    for (size_t i = 0; i < PAT; i++) { /* xorshift32 */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        pat[i] = (unsigned char)x;
    }
    t0 = now_ns();
    deadline = t0 + (uint64_t)timeout_ms * 1000000ull;
    start_conn(s, 0);
    while (s->st == ST_CONNECTING || s->st == ST_HANDSHAKE) {
        struct pollfd p = {.fd = s->fd, .events = (short)s->want};
        int r;
        if (now_ns() >= deadline) {
            S.timeout++;
            finish(s, 0);
            break;
        }
        if (s->st == ST_CONNECTING) {
            if (poll(&p, 1, 100) <= 0)
                continue;
            {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {
                    count_errno(err);
                    finish(s, 0);
                    break;
                }
            }
            s->st = ST_HANDSHAKE;
        }
        ERR_clear_error();
        errno = 0;
        r = SSL_connect(s->ssl);
        if (r == 1) {
            suite = SSL_get_cipher_name(s->ssl);
            s->st = ST_READING;
            break;
        }
        if (ssl_wait(s, r, 1) < 0) {
            finish(s, 0);
            break;
        }
        p.events = (short)s->want;
        poll(&p, 1, 100);
    }
    if (s->st != ST_READING) {
        print_first_errors();
        printf("mode=bulk ok=0 bytes=0 secs=0 mbps=0 hs_us=0 dirty=0 cli_cpu_us=0 suite=NA\n");
        return 1;
    }
    t_hs = now_ns();
    SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    while (!done) {
        struct pollfd p = {.fd = s->fd, .events = 0};
        int progress = 0;
        if (now_ns() >= deadline) {
            S.timeout++;
            break;
        }
        /* write what the socket takes */
        while (!wr_want && sent < total) {
            size_t off = (size_t)(sent % PAT), n = PAT - off;
            int r;
            if (n > CHUNK)
                n = CHUNK;
            if (n > total - sent)
                n = (size_t)(total - sent);
            ERR_clear_error();
            errno = 0;
            r = SSL_write(s->ssl, pat + off, (int)n);
            if (r > 0) {
                sent += (uint64_t)r;
                progress = 1;
                continue;
            }
            if (ssl_wait(s, r, 0) < 0) {
                bad = 1;
                break;
            }
            wr_want = s->want;
        }
        if (bad)
            break;
        if (sent == total && !shut) {
            ERR_clear_error();
            int r = SSL_shutdown(s->ssl);
            if (r >= 0)
                shut = 1;
            else if (ssl_wait(s, r, 0) < 0) {
                bad = 1;
                break;
            } else
                wr_want = s->want;
        }
        /* read what has come */
        while (!done) {
            int r;
            ERR_clear_error();
            errno = 0;
            r = SSL_read(s->ssl, rbuf, sizeof rbuf);
            if (r > 0) {
                size_t n = (size_t)r, off = (size_t)(rcvd % PAT), k = 0;
                while (k < n) { /* compare against the pattern, wrapping */
                    size_t m = PAT - off < n - k ? PAT - off : n - k;
                    if (memcmp(rbuf + k, pat + off, m) != 0)
                        bad = 2;
                    k += m;
                    off = 0;
                }
                rcvd += n;
                progress = 1;
                if (rcvd > total)
                    bad = 2;
                if (bad)
                    break;
                continue;
            }
            {
                int e = SSL_get_error(s->ssl, r);
                if (e == SSL_ERROR_ZERO_RETURN ||
                    (e == SSL_ERROR_SSL &&
                     ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
                    (e == SSL_ERROR_SYSCALL && errno == 0)) {
                    if (e != SSL_ERROR_ZERO_RETURN)
                        S.dirty++;
                    ERR_clear_error();
                    done = 1;
                    break;
                }
                if (ssl_wait(s, r, 0) < 0) {
                    bad = 1;
                    break;
                }
                rd_want = s->want;
                break;
            }
        }
        if (bad || done)
            break;
        if (progress)
            wr_want = 0; /* retry the write once more before waiting */
        if (progress)
            continue;
        p.events = (short)(rd_want | (wr_want ? wr_want : 0));
        if (!wr_want && sent < total)
            p.events |= POLLOUT;
        if (poll(&p, 1, 100) < 0 && errno != EINTR) {
            perror("tlsload: poll");
            return 1;
        }
        wr_want = 0;
        rd_want = POLLIN;
    }
    {
        uint64_t t_end = now_ns();
        double secs = (double)(t_end - t_hs) / 1e9;
        int ok = done && !bad && rcvd == total && sent == total;
        if (bad == 2)
            fprintf(stderr, "tlsload: bulk: the bytes read back differ from those sent\n");
        else if (!ok)
            fprintf(stderr, "tlsload: bulk: sent %llu, read back %llu of %llu\n",
                    (unsigned long long)sent, (unsigned long long)rcvd, (unsigned long long)total);
        print_first_errors();
        printf("mode=bulk ok=%d bytes=%llu secs=%.3f mbps=%.1f hs_us=%llu dirty=%ld "
               "cli_cpu_us=%.0f suite=%s\n",
               ok, (unsigned long long)rcvd, secs, secs > 0 ? (double)rcvd / 1e6 / secs : 0.0,
               (unsigned long long)((t_hs - t0) / 1000), S.dirty, (cpu_secs() - c0) * 1e6, suite);
        finish(s, 0);
        return ok ? 0 : 1;
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tlsload -p PORT [-a ADDR] [-m conn|bulk|idle] [-A CAFILE] [-s SUITES]\n"
            "               [-n CONNS] [-c CONC] [-t SECS] [-T MS] [-M MSG] [-b BYTES] [-H SECS]\n"
            "  -m conn: -n connections (2000), -c at a time (1), -t cap on starting (10 s),\n"
            "     -T per-connection timeout (5000 ms)\n"
            "  -m bulk: -b bytes each way (268435456), -T overall timeout (120000 ms)\n"
            "  -m idle: -c connections (100), held until SIGTERM or -H s (60); -T as conn\n"
            "  -A verify the server's certificate against CAFILE   -s TLS 1.3 suites\n"
            "  -M the line to send (\"ping\"; a newline is appended)\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *mode = "conn", *cafile = NULL;
    const char *suites = "TLS_AES_128_GCM_SHA256";
    int port = 0, conc = -1, opt;
    long total = 2000, conn_timeout_ms = -1;
    double tlimit = 10.0, hold_secs = 60.0;
    uint64_t bytes = 256ull << 20;
    struct sigaction sa;

    while ((opt = getopt(argc, argv, "p:a:m:A:s:n:c:t:T:M:b:H:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'a': addr = optarg; break;
        case 'm': mode = optarg; break;
        case 'A': cafile = optarg; break;
        case 's': suites = optarg; break;
        case 'n': total = atol(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 't': tlimit = atof(optarg); break;
        case 'T': conn_timeout_ms = atol(optarg); break;
        case 'M': {
            char *m = malloc(strlen(optarg) + 2);
            if (!m)
                return 1;
            sprintf(m, "%s\n", optarg);
            msg = m;
            break;
        }
        case 'b': bytes = strtoull(optarg, NULL, 10); break;
        case 'H': hold_secs = atof(optarg); break;
        default: usage();
        }
    }
    msglen = strlen(msg);
    if (port <= 0 || port > 65535 || total <= 0 || tlimit <= 0 || bytes == 0 ||
        msglen > sizeof((struct slot *)0)->buf || optind != argc)
        usage();
    memset(&dst, 0, sizeof dst);
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1) {
        fprintf(stderr, "tlsload: bad IPv4 address %s\n", addr);
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_ciphersuites(ctx, suites)) {
        fprintf(stderr, "tlsload: TLS context: ");
        ERR_print_errors_fp(stderr);
        return 64;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (cafile) {
        if (!SSL_CTX_load_verify_locations(ctx, cafile, NULL)) {
            fprintf(stderr, "tlsload: %s: ", cafile);
            ERR_print_errors_fp(stderr);
            return 64;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }

    if (strcmp(mode, "conn") == 0) {
        if (conc <= 0)
            conc = 1;
        if (conn_timeout_ms <= 0)
            conn_timeout_ms = 5000;
        if (conc > 4096)
            usage();
        lat = calloc((size_t)total, sizeof *lat);
        if (!lat) {
            perror("tlsload: calloc");
            return 1;
        }
        return run_slots(total, conc, tlimit, conn_timeout_ms, 0, 0);
    }
    if (strcmp(mode, "idle") == 0) {
        if (conc <= 0)
            conc = 100;
        if (conn_timeout_ms <= 0)
            conn_timeout_ms = 10000;
        if (conc > 4096)
            usage();
        return run_slots(conc, conc, 1e6, conn_timeout_ms, 1, hold_secs);
    }
    if (strcmp(mode, "bulk") == 0)
        return run_bulk(bytes, conn_timeout_ms > 0 ? conn_timeout_ms : 120000);
    usage();
    return 64;
}
