/*
 * single-server - run a handler program per network client
 *
 * A thin user of libsingleserver: the skeleton does options, parameters,
 * listening, limits and reaping; this file finds the handler once at
 * start and starts it for each client, with the client on fds 0 and 1.
 * See single-server(8).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "client_env.h"
#include "handover.h"
#include "msg.h"
#include "mymalloc.h"
#include "single_server.h"
#include "spawn_cmd.h"

extern char **environ;

static SPAWN_CMD handler;
static char **handler_argv;
static int handler_stream;

/*
 * What handlers must not inherit from us: systemd's protocol variables
 * (they describe our descriptors, not theirs) and any stale copies of the
 * per-client variables, which are set afresh for each client.
 */
static const char *const handler_drop[] = {
    "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "LISTEN_PIDFDID",
    "NOTIFY_SOCKET", "GENERATION", HANDOVER_ENV, 0,
};

/* handler_resolve - find the handler once, the way a shell would */
static void handler_resolve(char **argv, int stream)
{
    char   *path = 0;
    int     err = spawn_cmd_resolve(argv[0], &path);
    size_t  ndrop = 0;
    size_t  i;
    const char **drop;

    if (err != 0) {
        /* A shell says 127 for "not found" and 126 for "cannot execute". */
        int     status = !stream ? MSG_EXIT_USAGE : err == ENOENT ? 127 : 126;

        msg_fatal_status(status, "handler %s: %s", argv[0],
                         err == ENOENT ? "not found" : "not executable");
    }
    while (client_env_names[ndrop])
        ndrop++;
    drop = mycalloc(ndrop + sizeof(handler_drop) / sizeof(char *), sizeof(char *));
    for (i = 0; i < ndrop; i++)
        drop[i] = client_env_names[i];
    memcpy(drop + ndrop, handler_drop, sizeof(handler_drop));
    spawn_cmd_init(&handler, path, argv, environ, drop);
    myfree(drop);
    myfree(path);
}

/* handler_pre_init - the operands are the handler and its arguments */
static void handler_pre_init(int argc, char **argv, int stream, void *context)
{
    (void) argc;
    (void) context;
    handler_argv = argv;
    handler_stream = stream;
}

/*
 * handler_post_init - resolve the handler inside any chroot and after -u
 * dropped privileges: as root, access(X_OK) passes for files that the
 * handler's user could not execute.
 */
static void handler_post_init(void *context)
{
    (void) context;
    handler_resolve(handler_argv, handler_stream);
}

/* handler_spawn - start the handler on one client */
static pid_t handler_spawn(SINGLE_SERVER_CLIENT *client, void *context)
{
    (void) context;
    return (spawn_cmd_start(&handler, client->in_fd, client->out_fd,
                            client->err_fd, client->new_group,
                            client->env.vars));
}

int     main(int argc, char **argv)
{
    static const SINGLE_SERVER_APP app = {
        .name = "single-server",
        .operands = "handler [arg ...]",
        .min_operands = 1,
        .name_from_operand = 1,
        .pre_init = handler_pre_init,
        .post_init = handler_post_init,
        .spawn = handler_spawn,
    };

    return (single_server_main(argc, argv, &app));
}
