/*
 * line-echo - the smallest in-process service on libsingleserver
 *
 * Reads one line from the client, writes it back, and is done: the
 * protocol of the benchmark's C handler (bench/echo1.c), served inside
 * the server process instead of by a program spawned per client. The
 * benchmark (bench/run) measures it against an accept loop that answers
 * the line itself (bench/baseline -m inline), the ceiling for this path.
 *
 *	echo hi | line-echo -S
 *	line-echo -d -1 -L 127.0.0.1:0 -o max_use=0
 *
 * The service blocks in read(2): a client that sends nothing holds the
 * server until it closes, as any one-at-a-time in-process service would.
 * Built like echo-server.c beside it:
 *
 *	cc -o line-echo line-echo.c $(pkg-config --cflags --libs libsingleserver)
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <single-server/single_server.h>

/* line_read - read up to and including the first newline; its length */
static size_t line_read(int fd, char *buf, size_t size)
{
    size_t  len = 0;
    ssize_t n;
    char   *nl;

    while (len < size) {
        if ((n = read(fd, buf + len, size - len)) < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        nl = memchr(buf + len, '\n', (size_t) n);
        len += (size_t) n;
        if (nl != 0)
            return ((size_t) (nl - buf) + 1);
    }
    return (len);
}

/* line_echo_service - one line in, the same line out */
static void line_echo_service(SINGLE_SERVER_CLIENT *client, void *context)
{
    char    buf[4096];
    size_t  len;
    size_t  off = 0;
    ssize_t n;

    (void) context;
    len = line_read(client->in_fd, buf, sizeof(buf));
    while (off < len) {
        n = write(client->out_fd, buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t) n;
    }
}

int     main(int argc, char **argv)
{
    static const SINGLE_SERVER_APP app = {
        .name = "line-echo",
        .help = "\nReads one line from each client and writes it back.\n"
            "The options are those of single-server(8).\n",
        .service = line_echo_service,
    };

    return (single_server_main(argc, argv, &app));
}
