/*
 * echo-server - an in-process service built on libsingleserver
 *
 * The skeleton does the options, parameters, listening, limits and
 * logging; this program only says what to do with one client: send a
 * banner, then copy what the client sends back to it. Clients are served
 * one at a time, inside this process, as with Postfix's single_server.
 * Every hook logs at -v, so that the call order can be seen (and tested).
 *
 *	echo hi | echo-server -S -o echo_banner=hello
 *	echo-server -d -1 -L 127.0.0.1:0 -m 10 -i 5m -v -V
 *
 * It includes the header by its installed name, so that this file builds
 * against an installed library as it is (README.md, "The library"):
 *
 *	cc -o echo-server echo-server.c $(pkg-config --cflags --libs libsingleserver)
 */
#include <string.h>
#include <unistd.h>

#include <single-server/single_server.h>

static char *banner;
static long served;

static const SS_PARAM_DEF echo_params[] = {
    SS_PARAM_DEF_STR("echo_banner", "echo service ready", &banner),
    SS_PARAM_DEF_END,
};

/* echo_service - send the banner, then copy input back to the client */
static void echo_service(SINGLE_SERVER_CLIENT *client, void *context)
{
    char    buf[4096];
    ssize_t n;

    (void) context;
    served++;
    if (write(client->out_fd, banner, strlen(banner)) < 0
        || write(client->out_fd, "\n", 1) < 0)
        return;
    while ((n = read(client->in_fd, buf, sizeof(buf))) > 0)
        if (write(client->out_fd, buf, (size_t) n) != n)
            break;
}

/* echo_pre_init - the operands, before privileges are dropped */
static void echo_pre_init(int argc, char **argv, int stream, void *context)
{
    (void) context;
    if (ss_msg_verbose)
        ss_msg_info("hook pre_init: %d operand(s)%s%s, %s mode", argc,
                 argc ? " starting with " : "", argc ? argv[0] : "",
                 stream ? "stream" : "resident");
}

/* echo_post_init - after privileges are dropped */
static void echo_post_init(void *context)
{
    (void) context;
    if (ss_msg_verbose)
        ss_msg_info("hook post_init");
}

/* echo_pre_accept - before each accept */
static void echo_pre_accept(void *context)
{
    (void) context;
    if (ss_msg_verbose)
        ss_msg_info("hook pre_accept");
}

/* echo_loop - back to waiting for clients */
static void echo_loop(void *context)
{
    (void) context;
    if (ss_msg_verbose)
        ss_msg_info("hook loop: %ld served", served);
}

/* echo_pre_exit - a normal exit */
static void echo_pre_exit(void *context)
{
    (void) context;
    if (ss_msg_verbose)
        ss_msg_info("hook pre_exit: %ld served", served);
}

int     main(int argc, char **argv)
{
    static const SINGLE_SERVER_APP app = {
        .name = "echo-server",
        .help = "\nAn echo service: a banner (parameter echo_banner), then every\n"
            "byte back. The options are those of single-server(8).\n",
        .operands = "[word ...]",
        .params = echo_params,
        .pre_init = echo_pre_init,
        .post_init = echo_post_init,
        .pre_accept = echo_pre_accept,
        .loop = echo_loop,
        .service = echo_service,
        .pre_exit = echo_pre_exit,
    };

    return (single_server_main(argc, argv, &app));
}
