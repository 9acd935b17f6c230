/*
 * single_server.c - skeleton entry point: options, parameters, logging,
 * and the one way a handler is started
 *
 * The skeleton owns everything that is the same for every server: the
 * command line, the parameter table, logging, privileges, --check and the
 * choice of mode. What both modes use while they serve (starting a
 * handler, signals, the client table, the counters) is in skeleton.c;
 * the modes themselves live in stream.c and resident.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "child.h"
#include "conv.h"
#include "dns.h"
#include "fdbase.h"
#include "hostname.h"
#include "msg.h"
#include "mymalloc.h"
#include "notify.h"
#include "param.h"
#include "skeleton.h"
#include "spawn_cmd.h"
#ifdef HAVE_TLS
#include "resident.h"
#include "tls.h"
#endif

#define P single_server_params

SINGLE_SERVER_PARAMS single_server_params;

static char *single_server_process_id;
static char *single_server_process_name;
static char *single_server_stress;
static char *single_server_access_rules;
static long single_server_per_source_limit;
static long single_server_per_source_ipv6_prefix;
static char *single_server_per_source_message;
static char *single_server_upstream_protocol;
static long single_server_upstream_timeout;
static char *single_server_upstream_networks;
static char *single_server_unix_owner;
static char *single_server_unix_group;
static SS_LISTENER_OPTS single_server_listen;
static char *single_server_tls_cert_file;
static char *single_server_tls_key_file;
static char *single_server_tls_ca_file;
static char *single_server_tls_verify_client;
static char *single_server_tls_protocols;
static char *single_server_tls_ciphers;
static char *single_server_tls_alpn;
static long single_server_tls_timeout;
static char *single_server_host_lookup;
static long single_server_dns_timeout;
static char *single_server_dns_servers;
static char *single_server_local_host;

#define L single_server_listen

#define TIME_MAX INT_MAX

static SS_PARAM_DEF single_server_param_table[] = {
    SS_PARAM_DEF_INT("max_use", "100", 0, INT_MAX, &P.max_use),
    SS_PARAM_DEF_TIME("max_idle", "100s", 0, TIME_MAX, &P.max_idle),
    SS_PARAM_DEF_INT("process_limit", "100", 0, 1000000, &P.process_limit),
    SS_PARAM_DEF_TIME("command_time_limit", "1000s", 0, TIME_MAX, &P.command_time_limit),
    SS_PARAM_DEF_TIME("drain_timeout", "10s", 0, TIME_MAX, &P.drain_timeout),
    SS_PARAM_DEF_TIME("in_flow_delay", "1s", 0, 10, &P.in_flow_delay),
    SS_PARAM_DEF_INT("in_flow_rate", "0", 0, 1000000, &P.in_flow_rate),
    SS_PARAM_DEF_INT("in_flow_burst", "$in_flow_rate", 0, 1000000, &P.in_flow_burst),
    SS_PARAM_DEF_TIME("daemon_timeout", "18000s", 0, TIME_MAX, &P.daemon_timeout),
    SS_PARAM_DEF_INT("listen_backlog", "1024", 1, 65535, &P.listen_backlog),
    SS_PARAM_DEF_MODE("unix_socket_mode", "0666", &P.unix_socket_mode),
    SS_PARAM_DEF_STR("unix_socket_owner", "", &single_server_unix_owner),
    SS_PARAM_DEF_STR("unix_socket_group", "", &single_server_unix_group),
    SS_PARAM_DEF_BOOL("listen_reuseport", "no", &L.reuseport),
    SS_PARAM_DEF_BOOL("tcp_nodelay", "no", &L.nodelay),
    SS_PARAM_DEF_BOOL("tcp_keepalive", "no", &L.keepalive),
    SS_PARAM_DEF_TIME("tcp_keepalive_time", "0", 0, 32767, &L.keepalive_time),
    SS_PARAM_DEF_TIME("tcp_defer_accept", "0", 0, 3600, &L.defer_accept),
    SS_PARAM_DEF_STR("user", "nobody", &P.user),
    SS_PARAM_DEF_STR("chroot_directory", "", &P.chroot_directory),
    SS_PARAM_DEF_STR("state_directory", "", &P.state_directory),
    SS_PARAM_DEF_STR("syslog_name", "single-server", &P.syslog_name),
    SS_PARAM_DEF_STR("syslog_facility", "daemon", &P.syslog_facility),
    SS_PARAM_DEF_STR("debugger_command", "", &P.debugger_command),
    SS_PARAM_DEF_STR("handler_stderr", "auto", &P.handler_stderr),
    SS_PARAM_DEF_STR("access_rules", "", &single_server_access_rules),
    SS_PARAM_DEF_INT("per_source_limit", "0", 0, 1000000,
                     &single_server_per_source_limit),
    SS_PARAM_DEF_INT("per_source_ipv6_prefix", "64", 1, 128,
                     &single_server_per_source_ipv6_prefix),
    SS_PARAM_DEF_STR("per_source_message", "", &single_server_per_source_message),
    SS_PARAM_DEF_STR("upstream_proxy_protocol", "", &single_server_upstream_protocol),
    SS_PARAM_DEF_TIME("upstream_proxy_timeout", "5s", 1, 3600,
                      &single_server_upstream_timeout),
    SS_PARAM_DEF_STR("upstream_proxy_networks", "", &single_server_upstream_networks),
    SS_PARAM_DEF_STR("tls_cert_file", "", &single_server_tls_cert_file),
    SS_PARAM_DEF_STR("tls_key_file", "", &single_server_tls_key_file),
    SS_PARAM_DEF_STR("tls_ca_file", "", &single_server_tls_ca_file),
    SS_PARAM_DEF_STR("tls_verify_client", "none", &single_server_tls_verify_client),
    SS_PARAM_DEF_STR("tls_protocols", "TLSv1.2", &single_server_tls_protocols),
    SS_PARAM_DEF_STR("tls_ciphers", "", &single_server_tls_ciphers),
    SS_PARAM_DEF_TIME("tls_handshake_timeout", "10s", 1, 3600,
                      &single_server_tls_timeout),
    SS_PARAM_DEF_STR("tls_alpn", "", &single_server_tls_alpn),
    SS_PARAM_DEF_STR("remote_host_lookup", "no", &single_server_host_lookup),
    SS_PARAM_DEF_TIME("dns_timeout", "2s", 1, 60, &single_server_dns_timeout),
    SS_PARAM_DEF_STR("dns_servers", "", &single_server_dns_servers),
    SS_PARAM_DEF_STR("local_host_name", "", &single_server_local_host),
    SS_PARAM_DEF_STR("process_id", "", &single_server_process_id),
    SS_PARAM_DEF_STR("process_name", "", &single_server_process_name),
    /* master(8) adds "-o stress=" or "-o stress=yes": accepted, unused */
    SS_PARAM_DEF_STR("stress", "", &single_server_stress),
    SS_PARAM_DEF_END,
};

/*
 * single_server_cloexec - when a handler's start cannot close every
 * descriptor (spawn_cmd_closes_all()), it would inherit every one that is
 * not close-on-exec. Ours all are; what we inherited is made so here
 * (what we adopt, we keep regardless).
 */
static void single_server_cloexec(void)
{
    DIR    *dir;
    struct dirent *de;
    long    fd;

    if ((dir = opendir("/proc/self/fd")) == 0)
        ss_msg_fatal("open /proc/self/fd: %m (needed without "
                  "close_range)");
    while ((de = readdir(dir)) != 0)
        if (conv_long(de->d_name, 3, INT_MAX, &fd) == CONV_OK
            && fd != dirfd(dir))
            (void) fcntl((int) fd, F_SETFD, FD_CLOEXEC);
    closedir(dir);
}

/* single_server_stdio - fds 0, 1 and 2 open; a /dev/null fd kept for later */
static int single_server_stdio(SKELETON *sk)
{
    int     fd;

    sk->stderr_closed = fcntl(2, F_GETFD) < 0;
    if (!spawn_cmd_closes_all())
        single_server_cloexec();
    /* A closed 0, 1 or 2 would be reused by accept() or a listener. */
    while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
        if (fcntl(fd, F_SETFD, 0) < 0)
            ss_msg_fatal("fcntl /dev/null: %m");
    if ((fd = fdbase_lift(fd)) < 0)     /* ours: above the base */
        ss_msg_fatal("open /dev/null: %m");
    return (fd);                        /* still there after a chroot */
}

/* single_server_state_default - where state files go by default */
static char *single_server_state_default(void)
{
    const char *dir;

    if (geteuid() == 0)
        return (mystrdup("/run/single-server"));
    if ((dir = getenv("XDG_RUNTIME_DIR")) != 0 && *dir == '/')
        return (myasprintf("%s/single-server", dir));
    if ((dir = getenv("TMPDIR")) == 0 || *dir != '/')
        dir = "/tmp";
    return (myasprintf("%s/single-server-%ld", dir, (long) geteuid()));
}

/* single_server_id - a user or group id by name, else by number; -1 */
static long single_server_id(const char *name, int group)
{
    const long max = (long) (LONG_MAX > 4294967294LL ? 4294967294LL : LONG_MAX);
    struct passwd *pw;
    struct group *gr;
    long    id;

    if (!group && (pw = getpwnam(name)) != 0)
        return ((long) pw->pw_uid);
    if (group && (gr = getgrnam(name)) != 0)
        return ((long) gr->gr_gid);
    return (conv_long(name, 0, max, &id) == CONV_OK ? id : -1);
}

/*
 * single_server_listen_opts - the listener parameters in one place; the
 * socket owner and group looked up now, before any chroot
 */
static void single_server_listen_opts(SKELETON *sk)
{
    SS_LISTENER_OPTS *lo = &sk->listen_opts;
    long    uid = -1;
    long    gid = -1;

    if (*single_server_unix_owner
        && (uid = single_server_id(single_server_unix_owner, 0)) < 0)
        ss_msg_usage("%s: unknown user \"%s\"",
                     param_where("unix_socket_owner"),
                     single_server_unix_owner);
    if (*single_server_unix_group
        && (gid = single_server_id(single_server_unix_group, 1)) < 0)
        ss_msg_usage("%s: unknown group \"%s\"",
                     param_where("unix_socket_group"),
                     single_server_unix_group);
    *lo = single_server_listen;
    lo->backlog = (int) P.listen_backlog;
    lo->unix_mode = P.unix_socket_mode;
    lo->unix_uid = (uid_t) uid;
    lo->unix_gid = (gid_t) gid;
}

/*
 * single_server_hosts_check - remote_host_lookup, dns_servers and
 * local_host_name, checked whether lookups are made or not
 */
static void single_server_hosts_check(void)
{
    char    name[HOSTNAME_MAX + 1];
    char   *err;

    if (strcmp(single_server_host_lookup, "no") != 0
        && strcmp(single_server_host_lookup, "yes") != 0
        && strcmp(single_server_host_lookup, "paranoid") != 0)
        ss_msg_usage("%s: expected no, yes or paranoid, not \"%s\"",
                     param_where("remote_host_lookup"),
                     single_server_host_lookup);
    if (dns_servers_check(single_server_dns_servers, &err) < 0)
        ss_msg_usage("%s: %s", param_where("dns_servers"), err);
    if (*single_server_local_host
        && hostname_clean(single_server_local_host,
                          strlen(single_server_local_host), name) < 0)
        ss_msg_usage("%s: \"%.100s\" is no host name (letters, digits, "
                     "\"-\", \".\" and \"_\", labels of 1 to %d bytes, "
                     "at most %d bytes)", param_where("local_host_name"),
                     single_server_local_host, HOSTNAME_LABEL_MAX,
                     HOSTNAME_MAX);
}

/*
 * single_server_params_check - values that the table's types cannot
 * check; each error names where the value came from (param_where())
 */
static void single_server_params_check(void)
{
    static const char *const stderr_modes[] = {
        "auto", "inherit", "log", "null", 0,
    };
    const char *const *cpp;

    if (P.in_flow_rate > 0 && P.in_flow_burst < 1)
        ss_msg_usage("%s: must be at least 1 when in_flow_rate is not 0",
                     param_where("in_flow_burst"));
    /* A relative one would depend on the directory we were started in. */
    if (P.state_directory[0] != '/')
        ss_msg_usage("%s: must be an absolute path, not \"%s\"",
                     param_where("state_directory"), P.state_directory);
    if (ss_msg_facility(P.syslog_facility) < 0)
        ss_msg_usage("%s: unknown facility \"%s\"",
                     param_where("syslog_facility"), P.syslog_facility);
    for (cpp = stderr_modes; *cpp && strcmp(*cpp, P.handler_stderr) != 0; cpp++)
         /* void */ ;
    if (*cpp == 0)
        ss_msg_usage("%s: expected auto, inherit, log or null, not \"%s\"",
                     param_where("handler_stderr"), P.handler_stderr);
    /* Checked with TLS off too: a value that would fail later fails now. */
    if (strcmp(single_server_tls_verify_client, "none") != 0
        && strcmp(single_server_tls_verify_client, "optional") != 0
        && strcmp(single_server_tls_verify_client, "require") != 0)
        ss_msg_usage("%s: expected none, optional or require, not \"%s\"",
                     param_where("tls_verify_client"),
                     single_server_tls_verify_client);
    if (strcmp(single_server_tls_protocols, "TLSv1.2") != 0
        && strcmp(single_server_tls_protocols, "TLSv1.3") != 0)
        ss_msg_usage("%s: expected TLSv1.2 or TLSv1.3, not \"%s\"",
                     param_where("tls_protocols"), single_server_tls_protocols);
    single_server_hosts_check();
}

/*
 * single_server_params_read - defaults, file, overrides, then check. The
 * set is kept: later checks (user, rules, networks) name where a value
 * came from, and --print-config prints it.
 */
static PARAM_SET *single_server_params_read(SKELETON *sk, const char *name)
{
    PARAM_SET *set = param_set_create();
    char   *err = 0;
    char   *state = single_server_state_default();
    char   *pid = myasprintf("%ld", (long) getpid());
    size_t  i;

    param_set_add(set, single_server_param_table);
    if (sk->app->params)
        param_set_add(set, sk->app->params);
    param_set_default(set, "state_directory", state);
    if (sk->app->name)
        param_set_default(set, "syslog_name", sk->app->name);
    param_set_runtime(set, "process_id", pid);
    param_set_runtime(set, "process_name", name);
    if (sk->ma.on)
        param_set_default(set, "syslog_facility", "mail");
    if (sk->opts.config_file
        && param_set_read_file(set, sk->opts.config_file, &err) < 0)
        ss_msg_usage("%s", err);
    for (i = 0; i < sk->opts.noverrides; i++)
        if (param_set_override(set, sk->opts.overrides[i].assignment,
                               sk->opts.overrides[i].label, &err) < 0)
            ss_msg_usage("%s", err);
    if (param_set_finish(set, &err) < 0)
        ss_msg_usage("%s", err);
    param_set_publish(set);
    single_server_params_check();
    sk->idle_given = param_set_given(set, "max_idle");
    single_server_listen_opts(sk);
    myfree(state);
    myfree(pid);
    return (set);
}

/*
 * single_server_stderr_mode - where handlers' stderr goes. "auto" logs
 * it when our own fd 2 is no place for it: closed, or the listening
 * socket that inetd "wait" and systemd StandardInput=socket put on fds
 * 0-2 (a write there fails with ENOTCONN, or SIGPIPE kills the handler).
 */
static SKELETON_STDERR single_server_stderr_mode(SKELETON *sk)
{
    int     val = 0;
    socklen_t len = sizeof(val);

    if (strcmp(P.handler_stderr, "inherit") == 0)
        return (SKELETON_STDERR_INHERIT);
    if (strcmp(P.handler_stderr, "log") == 0)
        return (SKELETON_STDERR_LOG);
    if (strcmp(P.handler_stderr, "null") == 0)
        return (SKELETON_STDERR_NULL);
    /* "auto": single_server_params_check() let nothing else through */
    if (sk->ma.on || sk->stderr_closed
        || (getsockopt(2, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val))
        return (SKELETON_STDERR_LOG);
    /* TLS: the client's connection on fd 2 (inetd nowait) is no place. */
    if (*single_server_tls_cert_file
        && getsockopt(2, SOL_SOCKET, SO_TYPE, &val, &len) == 0)
        return (SKELETON_STDERR_LOG);
    return (SKELETON_STDERR_INHERIT);
}

/* single_server_name - -n, else the first operand's or the program's */
static const char *single_server_name(SKELETON *sk, int argc, char **argv)
{
    const char *name;
    const char *slash;

    if (sk->opts.name)
        return (sk->opts.name);
    name = sk->app->name_from_operand && sk->opts.first_operand < argc ?
        argv[sk->opts.first_operand] : sk->app->name ? sk->app->name : argv[0];
    return ((slash = strrchr(name, '/')) != 0 && slash[1] ? slash + 1 : name);
}

/* single_server_refuse - options that do not go together */
static void single_server_refuse(SKELETON *sk)
{
    if (sk->opts.stream && (sk->opts.socket_count >= 0 || sk->opts.transport))
        options_error("-s and -t are for master(8) mode; -S serves the "
                      "client already on stdin/stdout");
    if (sk->opts.transport && master_transport(sk->opts.transport, 0) < 0)
        options_error("-t %s: unknown transport (inet, unix or pass)",
                      sk->opts.transport);
    if (!sk->opts.stream && (sk->opts.remote || sk->opts.local))
        options_error("--remote and --local are for stream mode (-S) with a "
                      "client that is not a socket");
    if (sk->opts.stream && (sk->opts.nlisten > 0 || sk->opts.print_addresses))
        options_error("-L and -1 are for resident mode; -S serves the "
                      "client already on stdin/stdout");
    if (sk->opts.chroot && *P.chroot_directory == 0)
        ss_msg_usage("%s: empty, but -c needs a directory",
                     param_where("chroot_directory"));
    if (sk->opts.debugger && *P.debugger_command == 0)
        ss_msg_usage("%s: empty, but -D needs a command",
                     param_where("debugger_command"));
}

/* single_server_systemd - did systemd pass sockets to this process? */
static int single_server_systemd(void)
{
    const char *pid = getenv("LISTEN_PID");
    long    val;

    return (pid != 0 && conv_long(pid, 1, LONG_MAX, &val) == CONV_OK
            && val == (long) getpid());
}

/*
 * single_server_master - under master(8)? Without -s or -t the layout
 * tells, unless systemd passed sockets (4 or more would put sockets on
 * fds 5 and 6 too). Then the process generation, which the master
 * compares with its own after a reload.
 */
static void single_server_master(SKELETON *sk)
{
    const char *gen;

    master_init(&sk->ma);
    if (sk->opts.stream || (sk->opts.socket_count < 0 && !sk->opts.transport
                            && single_server_systemd())
        || !master_detect(sk->opts.socket_count, sk->opts.transport))
        return;
    sk->ma.on = 1;
    master_postlog();                   /* before any chroot */
    if (sk->opts.nlisten > 0)
        options_error("-L does not go with master(8) mode: the master passes "
                      "the listening sockets");
    /* --check looks at a master.cf command line, not at descriptors. */
    if (!sk->opts.check && !sk->opts.print_config && !master_channel_ok())
        ss_msg_usage("master(8) mode: fd %d is not the master's status channel "
                     "(-s and -t are for services in master.cf)",
                     MASTER_STATUS_FD);
    if ((gen = getenv("GENERATION")) != 0
        && master_generation(gen, &sk->ma.generation) < 0)
        ss_msg_usage("environment variable GENERATION: bad process generation "
                     "\"%s\" (octal digits expected)", gen);
}

/* single_server_debugger - -D: run $debugger_command on ourselves */
static void single_server_debugger(void)
{
    int     status;

    ss_msg_info("running: %s", P.debugger_command);
    status = system(P.debugger_command);
    if (status != 0)
        ss_msg_warn("debugger command exit status 0x%x", (unsigned) status);
}

/*
 * single_server_tls - the TLS files, read now: before -c and -u, since a
 * key readable only by root is the normal case (exit 100 on any error)
 */
static void single_server_tls(SKELETON *sk)
{
#ifdef HAVE_TLS
    TLS_PARAMS tp = {
        single_server_tls_cert_file, single_server_tls_key_file,
        single_server_tls_ca_file, single_server_tls_verify_client,
        single_server_tls_protocols, single_server_tls_ciphers,
        single_server_tls_alpn,
    };

    char   *err;

    if (*tp.cert_file && sk->ma.on)
        ss_msg_usage("%s: TLS is not for master(8) mode (Postfix has its "
                     "own)", param_where("tls_cert_file"));
    /*
     * A re-executed image that dropped privileges may no longer read a key
     * that only root can: the relay that the first image started keeps
     * serving with the keys it read then (resident_tls.c).
     */
    if (*tp.cert_file && ((sk->re.handed_over && resident_tls_relay_kept())
                          || (sk->opts.check && getenv(REEXEC_TLS_KEPT_ENV)))
        && tls_files_readable(&tp, &err) < 0) {
        ss_msg_warn("%s -- the running TLS relay keeps the certificates it "
                    "read at start; to renew them, make the files readable "
                    "by this user", err);
        myfree(err);
        sk->tls_kept = 1;
        return;
    }
    /* The keys are in our memory from now on: never in a core dump. */
    if ((sk->tls = tls_open(&tp)) != 0)
        privs_dumpable(0);
    sk->tls_timeout_ms = single_server_tls_timeout * 1000;
#else
    if (*single_server_tls_cert_file)
        ss_msg_usage("%s: this program was built without TLS "
                     "(configure --without-tls)",
                     param_where("tls_cert_file"));
    (void) sk;
#endif
}

/* skeleton_init_process - TLS files, pre_init, chroot, privileges, post_init */
void    skeleton_init_process(SKELETON *sk, int argc, char **argv)
{
    const SINGLE_SERVER_APP *app = sk->app;
    int     first = sk->opts.first_operand;
    char   *err;

    single_server_tls(sk);
    if (sk->opts.user && privs_lookup(P.user, &sk->privs, &err) < 0)
        ss_msg_usage("%s", err);
    if (sk->opts.chroot)
        privs_chroot(P.chroot_directory);
    /* --check wants resident-mode diagnostics: 100 for a missing handler. */
    if (app->pre_init)
        app->pre_init(argc - first, argv + first,
                      sk->opts.stream && !sk->opts.check, app->context);
    if (sk->opts.user && !privs_current(&sk->privs))
        privs_drop(&sk->privs);
    if (sk->opts.user)                  /* after the drop, and re-executed */
        privs_dumpable(0);
    if (app->post_init)
        app->post_init(app->context);
}

/* skeleton_dns_check - --check: open a resolver as start-up would, close it */
static void skeleton_dns_check(SKELETON *sk)
{
    struct event_base *base;
    DNS    *dns;
    char   *err;

    if ((base = event_base_new()) == 0)
        ss_msg_fatal("event_base_new failed");
    if ((dns = dns_open(base, single_server_dns_servers, sk->dns_ms,
                        &err)) == 0)
        ss_msg_usage("%s", err);
    dns_free(dns);
    event_base_free(base);
}

/*
 * skeleton_dns_open - the resolver, when host names are wanted: by
 * remote_host_lookup, or by name rules; nothing otherwise (no lookup
 * code on a client's way). Its sockets are ours: above the base.
 */
static void skeleton_dns_open(SKELETON *sk)
{
    static char name[HOSTNAME_MAX + 1];
    char   *err;

    sk->host_lookup = strcmp(single_server_host_lookup, "yes") == 0 ?
        CLIENT_HOST_YES : strcmp(single_server_host_lookup, "paranoid") == 0 ?
        CLIENT_HOST_PARANOID : CLIENT_HOST_NO;
    sk->dns_ms = single_server_dns_timeout * 1000;
    if (*single_server_local_host
        && hostname_clean(single_server_local_host,
                          strlen(single_server_local_host), name) == 0)
        sk->local_host = name;
    if (sk->host_lookup == CLIENT_HOST_NO && !admit_has_names(sk->admit))
        return;
    if (sk->base == 0) {                /* --check */
        skeleton_dns_check(sk);
        return;
    }
    fdbase_hold(sk->devnull);
    sk->dns = dns_open(sk->base, single_server_dns_servers, sk->dns_ms, &err);
    fdbase_release();
    if (sk->dns != 0)
        return;
    /* After a re-execution, failing here would close the listeners. */
    if (sk->re.handed_over) {
        ss_msg_warn("%s -- serving without host names", err);
        myfree(err);
        return;
    }
    ss_msg_usage("%s", err);
}

/*
 * skeleton_admit_open - the access rules, read once at start (exit 100),
 * and the per-source limit: resident mode only, since stream mode sees
 * one client, and under master(8) one at a time per process; and the
 * PROXY step's parameters
 */
void    skeleton_admit_open(SKELETON *sk)
{
    long    limit = sk->opts.stream || sk->ma.on ? 0
        : single_server_per_source_limit;

    if (single_server_per_source_limit > 0 && limit == 0 && ss_msg_verbose)
        ss_msg_info("per_source_limit: no effect %s -- the supervisor's own "
                    "limit applies", sk->opts.stream ? "in stream mode"
                    : "under master(8)");
    sk->admit = admit_open(single_server_access_rules, limit,
                           (int) single_server_per_source_ipv6_prefix,
                           single_server_per_source_message);
    sk->upstream = upstream_open(single_server_upstream_protocol,
                                 single_server_upstream_timeout,
                                 single_server_upstream_networks);
    skeleton_dns_open(sk);
}


/* skeleton_flow_open - the in-flow bucket, when flow control is on */
void    skeleton_flow_open(SKELETON *sk, int fd)
{
    char   *err;

    if (P.in_flow_rate == 0) {          /* off: no file is touched */
        if (fd >= 0)
            close(fd);
        return;
    }
    if (fd >= 0) {
        sk->flow = flow_adopt(fd, P.state_directory, P.service_name,
                              P.in_flow_rate, P.in_flow_burst);
        return;
    }
    /* After a re-execution, failing here would close the listeners. */
    if (sk->re.handed_over) {
        if ((sk->flow = flow_open(P.state_directory, P.service_name,
                                  P.in_flow_rate, P.in_flow_burst, &err)) == 0)
            ss_msg_warn("%s -- serving without in-flow delay", err);
        return;
    }
    if ((sk->flow = flow_open(P.state_directory, P.service_name,
                              P.in_flow_rate, P.in_flow_burst, &err)) == 0)
        ss_msg_fatal("%s", err);
}

/* skeleton_flow_pause - a token for a new client, or a pause */
int     skeleton_flow_pause(SKELETON *sk)
{
    if (sk->flow == 0 || P.in_flow_delay == 0 || flow_take(sk->flow))
        return (0);
    if (ss_msg_verbose)
        ss_msg_info("service %s: no in-flow token -- pausing %lds before "
                 "serving the client", P.service_name, P.in_flow_delay);
    return (1);
}

/*
 * single_server_check - --check: everything start-up does up to binding
 * and serving (addresses resolved, handler found), then exit 0
 */
static int single_server_check(SKELETON *sk, int argc, char **argv)
{
    char   *err;
    size_t  i;

    for (i = 0; i < sk->opts.nlisten; i++)
        if (listener_check(sk->opts.listen[i], &err) != 0)
            ss_msg_usage("%s", err);
    skeleton_admit_open(sk);
    skeleton_init_process(sk, argc, argv);
    if (ss_msg_verbose)
        ss_msg_info("configuration check passed");
    return (0);
}

/*
 * single_server_print_config - --print-config: the parameters in effect,
 * as a file would set them (postconf -n). Values are checked as start-up
 * checks them; the files they name, the user and the handler are left
 * to --check.
 */
static int single_server_print_config(SKELETON *sk, PARAM_SET *set)
{
    /* The protocol and network list, kept where a leak check sees it. */
    sk->upstream = upstream_open(single_server_upstream_protocol,
                         single_server_upstream_timeout,
                         single_server_upstream_networks);
    param_set_print(set, stdout, sk->opts.print_config == OPTIONS_PRINT_ALL);
    if (fflush(stdout) != 0)
        ss_msg_fatal("writing the parameters to stdout: %m");
    return (0);
}

/*
 * single_server_undumpable - first thing in a re-executed image: run from
 * the program file itself (not from a copy its user cannot read, see
 * reexec.c), execve() left it dumpable, and processes of the user it runs
 * as could ptrace it until skeleton_init_process() says so again. Shut
 * that window at once; single_server_reexecuted() opens it again without
 * -u. Returns whether this image is a re-executed one.
 */
static int single_server_undumpable(void)
{
    int     reexecuted = getenv(HANDOVER_ENV) != 0;

    if (reexecuted)
        privs_dumpable(0);
    return (reexecuted);
}

/*
 * single_server_reexecuted - a re-executed image, once the options are
 * known: dumpable again without -u (as any program of its user), and
 * named after the program (run from a copy, it took the copy's name)
 */
static void single_server_reexecuted(SKELETON *sk)
{
    reexec_name(sk->re.self_path);
    if (!sk->opts.user)
        privs_dumpable(1);
}

/*
 * single_server_handover - what a previous image of this process passed
 * on, and how many re-executions led here
 */
static void single_server_handover(SKELETON *sk)
{
    sk->re.handed_over = reexec_take(&sk->re.handover);
    sk->re.count = reexec_count(sk->re.handed_over);
    reexec_warned_take(sk->re.handed_over);
    /* Closed when the first image started: /dev/null since. */
    if (sk->re.handed_over && sk->re.handover.stderr_closed)
        sk->stderr_closed = 1;
}

/*
 * single_server_signals_early - until the loop watches them
 * (skeleton_signals()), USR1 and USR2 must not end us either; SIGPIPE
 * never: a client gone while we write is an error of that write
 */
static void single_server_signals_early(void)
{
    (void) signal(SIGPIPE, SIG_IGN);
    (void) signal(SIGUSR1, SIG_IGN);
    (void) signal(SIGUSR2, SIG_IGN);
}

/* single_server_main - the life of a server process */
int     single_server_main(int argc, char **argv, const SINGLE_SERVER_APP *app)
{
    static SKELETON sk;
    PARAM_SET *params;
    char   *tag;
    int     reexecuted = single_server_undumpable();

    fdbase_init(argc);                  /* before we open anything */
    sk.devnull = single_server_stdio(&sk);
    ss_msg_open(app->name ? app->name : argv[0]);
    dns_log_start();                    /* libevent's words: ours too */
    sk.re.argc = argc;
    sk.re.argv = argv;
    single_server_handover(&sk);
    sk.started = time(0);
    /* Before any chroot; after the handover, which says whether to trust */
    sk.re.self_path = reexec_self_path(argv[0], sk.re.handed_over);
    if (app->service == 0 && app->spawn == 0)
        ss_msg_panic("single_server_main: the application has neither a "
                  "service nor a spawn function");
    sk.app = app;
    options_parse(&sk.opts, argc, argv, app->operands ? app->operands : "",
                  app->help);
    if (argc - sk.opts.first_operand < app->min_operands
        && !sk.opts.print_config)
        options_error("missing %s", app->operands ? app->operands : "operand");
    ss_msg_verbose = sk.opts.verbose;
    if (reexecuted)
        single_server_reexecuted(&sk);
    P.service_name = single_server_name(&sk, argc, argv);
    /* Before the file is read: a change after this is seen as one. */
    reexec_stamp(&sk, sk.re.stamp, sizeof(sk.re.stamp));
    /* master(8) mode changes a default: handlers log to the mail log. */
    single_server_master(&sk);
    params = single_server_params_read(&sk, P.service_name);
    /* The rules are read later: a change from now on is seen as one. */
    if (*single_server_access_rules) {
        sk.re.rules_path = single_server_access_rules;
        reexec_stamp_file(sk.re.rules_path, sk.re.stamp, sizeof(sk.re.stamp));
    }
    /* The TLS files too: a renewed certificate is checked before use. */
    if (*single_server_tls_cert_file) {
        sk.re.tls_files = myasprintf("%s %s %s", single_server_tls_cert_file,
                                     single_server_tls_key_file,
                                     single_server_tls_ca_file);
        reexec_stamp_list(sk.re.tls_files, sk.re.stamp, sizeof(sk.re.stamp));
    }
    tag = strcmp(P.syslog_name, P.service_name) == 0 ? mystrdup(P.syslog_name)
        : myasprintf("%s/%s", P.syslog_name, P.service_name);
    ss_msg_syslog(tag, ss_msg_facility(P.syslog_facility));
    myfree(tag);                        /* ss_msg_syslog() keeps a copy */
    ss_msg_stderr(sk.opts.log_stderr ? SS_MSG_STDERR_ALL : SS_MSG_STDERR_PROBLEMS);
    if (sk.opts.print_config)
        return (single_server_print_config(&sk, params));
    single_server_refuse(&sk);
    sk.handler_stderr = single_server_stderr_mode(&sk);
    /* A handler in a group of its own cannot read a terminal (SIGTTIN). */
    sk.new_group = !sk.opts.stream || !isatty(0);
    if (sk.opts.check)
        return (single_server_check(&sk, argc, argv));
    single_server_signals_early();
    notify_init();
    ss_msg_cleanup(notify_stopping);
    if (sk.opts.debugger && !sk.re.handed_over)  /* once, not per re-execution */
        single_server_debugger();
    /* libevent opens its epoll instance and signal pipe here: above too. */
    fdbase_hold(sk.devnull);
    if ((sk.base = event_base_new()) == 0)
        ss_msg_fatal("event_base_new failed");
    fdbase_release();
    return (sk.opts.stream ? stream_run(&sk, argc, argv)
            : resident_run(&sk, argc, argv));
}
