/*
 * resident_listen.c - resident mode's listening sockets, once, at start
 *
 * Which sockets a resident server listens on (its own -L addresses,
 * systemd's, inetd's "wait" socket, master(8)'s), their TCP options, the
 * -1 list of addresses, and whether they are all its own: then it
 * re-executes itself rather than leave.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "msg.h"
#include "mymalloc.h"
#include "options.h"
#include "resident.h"

#define P single_server_params

/*
 * resident_own - may we re-execute instead of leaving? Only with every
 * listener our own, and a program and parameter file that this process,
 * as the user it now runs as, can run and read again.
 */
int     resident_own(SKELETON *sk)
{
    const char *why = 0;
    size_t  i;

    for (i = 0; i < sk->listeners.count; i++)
        if (!sk->listeners.items[i].own)
            return (0);
    if (sk->opts.chroot)
        why = "in a chroot the program is out of reach";
    else if (sk->re.self_path == 0 || access(sk->re.self_path, X_OK) < 0)
        why = "cannot execute the program again";
    else if (sk->opts.config_file && access(sk->opts.config_file, R_OK) < 0)
        why = "cannot read the parameter file again";
    else if (sk->re.rules_path && access(sk->re.rules_path, R_OK) < 0)
        why = "cannot read the access rules again";
    if (why)
        ss_msg_warn("listeners of our own, but %s: leaving at max_use, "
                    "max_idle and SIGHUP instead of re-executing", why);
    return (why == 0);
}

/* resident_listeners - every listening socket we were given or asked for */
void    resident_listeners(SKELETON *sk, int handed_over)
{
    size_t  i;
    char   *err;
    int     status;

    /* After a re-execution the -L sockets are the ones passed on. */
    for (i = 0; i < sk->opts.nlisten && !handed_over; i++)
        if ((status = listener_open(&sk->listeners, sk->opts.listen[i],
                                    &sk->listen_opts, &err)) != 0)
            ss_msg_fatal_status(status, "%s", err);
    if (sk->ma.on) {
        if (listener_inherit_master(&sk->listeners, MASTER_LISTEN_FD,
                                    sk->opts.socket_count < 0 ? 1 :
                                    (int) sk->opts.socket_count, &err) < 0)
            ss_msg_usage("%s", err);
        sk->ma.transport = master_transport(sk->opts.transport,
                                            sk->listeners.items[0].family);
        return;
    }
    if (listener_inherit_systemd(&sk->listeners, handed_over, &err) < 0)
        ss_msg_usage("%s", err);
    (void) listener_inherit_stdin(&sk->listeners);
    if (sk->listeners.count == 0)
        options_error("no listening socket: give -L address or -S, or "
                      "start under systemd, inetd or master(8)");
}

/*
 * resident_tune - the TCP listener options, once, on every listener.
 * What we bound just now must have them; a supervisor's socket, or ours
 * after a re-execution, serves on without.
 */
void    resident_tune(SKELETON *sk, int handed_over)
{
    SS_LISTENER *lp;
    char   *err;
    size_t  i;

    for (i = 0; i < sk->listeners.count; i++) {
        lp = &sk->listeners.items[i];
        /* Handed over in -L order; the kernel may know a temporary name. */
        if (handed_over && i < sk->opts.nlisten)
            listener_unix_name(lp, sk->opts.listen[i]);
        if (listener_tune(lp, &sk->listen_opts, &err) == 0)
            continue;
        if (lp->own && !handed_over)
            ss_msg_fatal("%s", err);
        ss_msg_warn("%s -- serving on without it", err);
        myfree(err);
    }
}

/* resident_print_addresses - -1: each bound address, then close stdout */
void    resident_print_addresses(SKELETON *sk)
{
    size_t  i;

    for (i = 0; i < sk->listeners.count; i++)
        printf("%s\n", sk->listeners.items[i].display);
    if (fflush(stdout) != 0)
        ss_msg_warn("writing addresses to stdout: %m");
    if (dup2(sk->devnull, 1) < 0)       /* the reader sees end-of-file */
        ss_msg_fatal("dup2 /dev/null: %m");
}

