/*
 * own-child.c - an application whose pre_init starts a child of its own.
 * The skeleton reaps only the children it spawned: the service gets this
 * child's status from its own waitpid(), and nothing is logged about it.
 *
 *	own-child -d -1 -L 127.0.0.1:0 -m 1
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "single_server.h"

static pid_t child;

/* own_pre_init - a child that exits 7 at once */
static void own_pre_init(int argc, char **argv, int stream, void *context)
{
    (void) argc;
    (void) argv;
    (void) stream;
    (void) context;
    if ((child = fork()) < 0)
        ss_msg_fatal("fork: %m");
    if (child == 0)
        _exit(7);
}

/* own_service - report what waitpid() says of our child */
static void own_service(SINGLE_SERVER_CLIENT *client, void *context)
{
    char    buf[128];
    int     status;
    pid_t   pid;

    (void) context;
    pid = waitpid(child, &status, 0);
    if (pid == child && WIFEXITED(status))
        snprintf(buf, sizeof(buf), "child %ld exit %d\n", (long) pid,
                 WEXITSTATUS(status));
    else
        snprintf(buf, sizeof(buf), "child %ld: %s\n", (long) child,
                 pid < 0 ? strerror(errno) : "odd status");
    if (write(client->out_fd, buf, strlen(buf)) < 0)
        ss_msg_warn("write: %m");
}

int     main(int argc, char **argv)
{
    static const SINGLE_SERVER_APP app = {
        .name = "own-child",
        .pre_init = own_pre_init,
        .service = own_service,
    };

    return (single_server_main(argc, argv, &app));
}
