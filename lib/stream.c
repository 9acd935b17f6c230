/*
 * stream.c - stream mode: the client is already connected
 *
 * inetd "nowait", systemd Accept=yes and a shell pipe all hand us one
 * client on fds 0 and 1; systemd Accept=yes without StandardInput=socket
 * passes the connection as fd 3 with LISTEN_FDS=1. We run the handler
 * once, give up our own copies of the connection (so that the client
 * sees end-of-file when the handler closes it, not when we exit), and
 * leave with the handler's status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "admit.h"
#include "child.h"
#include "client_env.h"
#include "msg.h"
#include "skeleton.h"
#include "spawn_cmd.h"
#include "watchdog.h"

#define P single_server_params

/* stream_systemd_fd - fd 3 when systemd passed one connected socket */
static int stream_systemd_fd(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    char    want[32];
    int     val = 1;
    socklen_t len = sizeof(val);

    snprintf(want, sizeof(want), "%ld", (long) getpid());
    if (pid == 0 || fds == 0 || strcmp(pid, want) != 0 || strcmp(fds, "1") != 0)
        return (-1);
    if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || val)
        return (-1);
    return (3);
}

/* stream_address - --remote or --local: a TCP address (names are looked up) */
static void stream_address(const char *opt, const char *text, ADDR_SPEC *spec)
{
    char   *err;

    /* addr_parse() speaks of listen addresses: say what is wanted here. */
    if (addr_parse(text, spec, &err) < 0 || spec->family == AF_UNIX
        || spec->wildcard)
        ss_msg_usage("%s=%s: expected HOST:PORT or [IPV6]:PORT", opt, text);
}

/*
 * stream_pretend - --remote and --local: a handler tried from a pipe sees
 * the variables of a TCP client at that address, and the access rules
 * judge it as one
 */
static void stream_pretend(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    ADDR_SPEC remote;
    ADDR_SPEC local;
    char    host[INET6_ADDRSTRLEN];
    char    port[8];

    stream_address("--remote", sk->opts.remote ? sk->opts.remote
                   : "127.0.0.1:0", &remote);
    stream_address("--local", sk->opts.local ? sk->opts.local
                   : "127.0.0.1:0", &local);
    memcpy(&client->peer, &remote.sa, remote.len);
    client->peer_len = remote.len;
    if (addr_numeric((struct sockaddr *) &local.sa, local.len, host,
                     sizeof(host), port, sizeof(port)) < 0)
        ss_msg_usage("--local=%s: not a TCP address", sk->opts.local);
    client_env_tcp(&client->env, host, port, (struct sockaddr *) &client->peer,
                   client->peer_len);
    addr_free(&remote);
    addr_free(&local);
}

/* stream_client - where the client is, its address and its environment */
static void stream_client(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    int     fd = stream_systemd_fd();
    struct stat st;

    memset(client, 0, sizeof(*client));
    client->in_fd = fd >= 0 ? fd : 0;
    client->out_fd = fd >= 0 ? fd : 1;
    client->err_fd = -1;
    client->service_name = P.service_name;
    client_env_from_fd(&client->env, client->in_fd);
    if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        ss_msg_fatal("fcntl fd %d: %m", fd);
    if (fstat(client->in_fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
        listener_tune_conn(client->in_fd, &sk->listen_opts);
        client->peer_len = sizeof(client->peer);
        if (getpeername(client->in_fd, (struct sockaddr *) &client->peer,
                        &client->peer_len) < 0)
            client->peer_len = 0;
        if (sk->opts.remote || sk->opts.local)
            ss_msg_warn("--remote and --local ignored: fd %d is a socket, "
                        "whose own addresses count", client->in_fd);
    } else if (sk->opts.remote || sk->opts.local) {
        stream_pretend(sk, client);
    }
}

/* stream_same_file - do two descriptors refer to the same open object? */
static int stream_same_file(int fd1, int fd2)
{
    struct stat st1;
    struct stat st2;

    return (fstat(fd1, &st1) == 0 && fstat(fd2, &st2) == 0
            && st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino);
}

/* stream_release - drop our copies of the connection */
static void stream_release(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    /* inetd "nowait" gives the socket on fd 2 as well. */
    if (stream_same_file(2, client->in_fd) && dup2(sk->devnull, 2) < 0)
        ss_msg_fatal("dup2 /dev/null: %m");
    if (dup2(sk->devnull, 0) < 0 || dup2(sk->devnull, 1) < 0)
        ss_msg_fatal("dup2 /dev/null: %m");
    if (client->in_fd > 2)
        close(client->in_fd);
}

/* stream_child_exit - the handler ended: its status becomes ours */
static void stream_child_exit(pid_t pid, int status, void *context)
{
    SKELETON *sk = context;

    (void) pid;
    sk->stream_status = WIFEXITED(status) ? WEXITSTATUS(status)
        : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : SS_MSG_EXIT_SYSTEM;
    event_base_loopbreak(sk->base);
}

/* stream_close - close the client's connection: an end of file, no reset */
static void stream_close(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    (void) sk;
    if (client->in_fd == client->out_fd)        /* a socket: fd 3 */
        admit_close(client->in_fd);
    else if (stream_same_file(0, 1))            /* inetd: fds 0 and 1 */
        admit_close(1);
}

/*
 * stream_spawn_failed - exit as a shell would when the handler cannot be
 * run: 127 not found, 126 any other reason; 111 for want of processes,
 * memory or descriptors, which is the system's failure, not the program's
 */
static int stream_spawn_failed(SKELETON *sk, SINGLE_SERVER_CLIENT *client,
                                       int err)
{
    const char *program = spawn_cmd_failed();
    int     status;

    if (err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE)
        status = SS_MSG_EXIT_SYSTEM;
    else
        status = err == ENOENT ? 127 : 126;
    stream_close(sk, client);
    ss_msg_fatal_status(status, "cannot start handler%s%s: %s",
                        program ? " " : "", program ? program : "",
                        strerror(err));
}

/* stream_refused - a denied client: the message was written; close */
static int stream_refused(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    const SINGLE_SERVER_APP *app = sk->app;

    stream_close(sk, client);
    if (app->pre_exit)
        app->pre_exit(app->context);
    return (0);
}

/* stream_header - the PROXY header, when one is due: 0 refused */
static int stream_header(SKELETON *sk, SINGLE_SERVER_CLIENT *client)
{
    const char *why;

    if (!upstream_on(sk->upstream) || upstream_read(sk->upstream, client, &why))
        return (1);
    admit_header_refused(sk->admit, client, why);
    return (0);
}

/* stream_run - serve the one client and leave */
int     stream_run(SKELETON *sk, int argc, char **argv)
{
    const SINGLE_SERVER_APP *app = sk->app;
    SINGLE_SERVER_CLIENT client;
    pid_t   pid;

    stream_client(sk, &client);
    skeleton_admit_open(sk);
    skeleton_flow_open(sk, -1);
    skeleton_init_process(sk, argc, argv);
    /* Refused or denied: no token, no handler, exit 0. */
    if (!stream_header(sk, &client) || !admit_client(sk->admit, &client, 0))
        return (stream_refused(sk, &client));
    if (skeleton_flow_pause(sk))
        sleep((unsigned) P.in_flow_delay);
    watchdog_start(sk->base, P.daemon_timeout);
    if (app->service) {
        app->service(&client, app->context);
        if (app->pre_exit)
            app->pre_exit(app->context);
        return (0);
    }
    skeleton_signals(sk);
    child_init(sk->base, P.command_time_limit, stream_child_exit, sk);
    if ((pid = skeleton_spawn(sk, &client)) < 0)
        return (stream_spawn_failed(sk, &client, errno));
    stream_release(sk, &client);
    if (!sk->opts.log_stderr)
        ss_msg_stderr(SS_MSG_STDERR_NONE);    /* stderr may be the client's */
    if (event_base_dispatch(sk->base) < 0)
        ss_msg_fatal("event loop failed");
    child_log_flush();
    if (app->pre_exit)
        app->pre_exit(app->context);
    return (sk->stream_status);
}
