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

/* What --help prints after the usage line. */
static const char handler_help[] =
    "\n"
    "  -S, --stream            serve the client on stdin/stdout once\n"
    "  -L, --listen ADDRESS    listen on HOST:PORT, [IPV6]:PORT, unix:PATH or\n"
    "                          /PATH; PORT, :PORT or *:PORT: every address\n"
    "  -1, --print-addresses   print each bound address, then close "
    "stdout\n"
    "  -f, --config FILE       read parameters from FILE\n"
    "  -o, --option NAME=VALUE set a parameter (the last one wins)\n"
    "  -m, --max-use N         same as -o max_use=N\n"
    "  -i, --max-idle TIME     same as -o max_idle=TIME\n"
    "  -z, --unlimited         same as -o process_limit=0\n"
    "  -n, --name NAME         service name for logs and state files\n"
    "  -s, --socket-count N    master(8) mode: N listening sockets from fd 6\n"
    "  -t, --transport TYPE    master(8) mode: inet, unix or pass\n"
    "  -l, --solitary          master(8) mode: no accept lock\n"
    "  -u, --user              run as $user\n"
    "  -c, --chroot            chroot to $chroot_directory\n"
    "  -d, --allow-tty         allow a terminal on stdin\n"
    "  -D, --debugger          run $debugger_command at start\n"
    "  -v, --verbose           more logging (repeatable)\n"
    "  -V, --log-stderr        copy logging to stderr\n"
    "      --remote ADDRESS    stream mode from a pipe: act as if the client\n"
    "                          were at ADDRESS (HOST:PORT, [IPV6]:PORT)\n"
    "      --local ADDRESS     ... and connected to ADDRESS (127.0.0.1:0)\n"
    "      --check             check the command line, parameters, rules and\n"
    "                          handler; bind nothing, run nothing; exit 0 or 100\n"
    "      --print-config[=all]\n"
    "                          print the parameters that differ from their\n"
    "                          defaults (=all: every one) as a parameter file;\n"
    "                          exit 0 or 100\n"
    "  -h, --help              this text\n"
    "      --version           the version\n";

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
        int     status = !stream ? SS_MSG_EXIT_USAGE : err == ENOENT ? 127 : 126;

        ss_msg_fatal_status(status, "handler %s: %s", argv[0],
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
        .help = handler_help,
        .min_operands = 1,
        .name_from_operand = 1,
        .pre_init = handler_pre_init,
        .post_init = handler_post_init,
        .spawn = handler_spawn,
    };

    return (single_server_main(argc, argv, &app));
}
