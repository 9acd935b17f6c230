/*
 * clash.c - a program that links libsingleserver and has names of its
 * own that the library's modules use inside: msg_info, msg_fatal,
 * mymalloc, myfree, notify_init, options_parse, and a header of its own
 * named param.h. Built by t/library.bats against the installed library.
 *
 * Each of those functions counts its calls. The program calls each once
 * itself; the service reports the count to the client, so a library that
 * called one of them instead of its own would show a larger number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <single-server/single_server.h>

#include "param.h"			/* the program's own, not the library's */

static int clash_calls;

void    msg_info(const char *fmt,...) { (void) fmt; clash_calls++; }
void    msg_fatal(const char *fmt,...) { (void) fmt; clash_calls++; }
void   *mymalloc(size_t len) { clash_calls++; return (malloc(len)); }
void    myfree(void *ptr) { clash_calls++; free(ptr); }
int     notify_init(const char *name) { (void) name; clash_calls++; return (1); }
int     options_parse(int argc) { clash_calls++; return (argc); }

static char *greeting;

static const SS_PARAM_DEF clash_params[] = {
    SS_PARAM_DEF_STR("clash_greeting", CLASH_DEFAULT_GREETING, &greeting),
    SS_PARAM_DEF_END,
};

/* clash_service - greet, report the calls, echo one line */
static void clash_service(SINGLE_SERVER_CLIENT *client, void *context)
{
    char    line[512];
    ssize_t n;
    int     len;

    (void) context;
    ss_msg_info("serving a client");
    n = read(client->in_fd, line, sizeof(line) - 1);
    line[n > 0 ? n : 0] = 0;
    len = snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s calls=%d\n",
                   greeting, clash_calls);
    (void) len;
    if (write(client->out_fd, line, strlen(line)) < 0)
        ss_msg_warn("write: %m");
}

int     main(int argc, char **argv)
{
    static const SINGLE_SERVER_APP app = {
        .name = "clash",
        .params = clash_params,
        .service = clash_service,
    };
    void   *p = mymalloc(1);

    myfree(p);
    msg_info("x");
    msg_fatal("x");
    (void) notify_init("x");
    (void) options_parse(1);
    return (single_server_main(argc, argv, &app));
}
