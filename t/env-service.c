/*
 * env-service.c - an in-process service (a service callback, no handler
 * process) that writes its client's variables, client->env.vars, one
 * NAME=value a line, to the client, then closes. t/dns.bats: an
 * in-process service gets TCPREMOTEHOST and TCPLOCALHOST as a handler
 * does.
 *
 *	env-service -d -1 -L 127.0.0.1:0 -o remote_host_lookup=yes
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "single_server.h"

/* env_service - one line per variable */
static void env_service(SINGLE_SERVER_CLIENT *client, void *context)
{
    char  **var;

    (void) context;
    for (var = client->env.vars; *var; var++)
        if (write(client->out_fd, *var, strlen(*var)) < 0
            || write(client->out_fd, "\n", 1) < 0)
            return;
}

int     main(int argc, char **argv)
{
    static const SINGLE_SERVER_APP app = {
        .name = "env-service",
        .service = env_service,
    };

    return (single_server_main(argc, argv, &app));
}
