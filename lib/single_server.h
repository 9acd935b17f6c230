#ifndef SS_SINGLE_SERVER_H
#define SS_SINGLE_SERVER_H

/*++
 * NAME
 *	single_server 3
 * SUMMARY
 *	skeleton for a server that handles one client per process or call;
 *	the public API of libsingleserver, its one installed header
 * SYNOPSIS
 *	#include <single-server/single_server.h>
 *
 *	int	single_server_main(int argc, char **argv,
 *			const SINGLE_SERVER_APP *app);
 *
 *	extern SINGLE_SERVER_PARAMS single_server_params;
 * DESCRIPTION
 *	single_server_main() is the whole life of a server process: it
 *	parses the command line, reads and checks the parameters, opens
 *	logging, and then either serves
 *	one client that is already connected (stream mode, -S) or runs the
 *	resident loop: it listens (-L, systemd socket activation, inetd
 *	"wait"), accepts, and hands each client to the application until
 *	max_use clients were served, max_idle passed without a client, or a
 *	signal (SIGTERM, SIGINT, SIGHUP) asked it to leave. It returns the
 *	process exit status, or does not return at all (fatal errors exit).
 *
 *	The application describes itself in a SINGLE_SERVER_APP, every
 *	field optional but one of service and spawn:
 * .IP name
 *	program name for logs, when argv[0] will not do.
 * .IP operands, min_operands
 *	what follows the options on the usage line ("handler [arg ...]"),
 *	and how many operands are required (usage error when fewer).
 * .IP help
 *	what --help prints after the usage line: the options and operands
 *	explained, as the program wants them told.
 * .IP name_from_operand
 *	when set, the service name (without -n) is the basename of the
 *	first operand, as for a handler program; otherwise it is name.
 * .IP params
 *	a SS_PARAM_DEF table of the application's own parameters, read from
 *	the same file and -o options as the skeleton's.
 * .IP pre_init(argc, argv, stream, context)
 *	called with the operands after the listeners are open and any
 *	chroot is done, before privileges are dropped.
 * .IP post_init(context)
 *	called after privileges are dropped, before the first client.
 * .IP pre_accept(context)
 *	called before each client is accepted (resident mode).
 * .IP loop(context)
 *	called each time the skeleton goes back to waiting for clients.
 * .IP service(client, context)
 *	serve one client in this process (client->in_fd, client->out_fd);
 *	the skeleton closes the connection when it returns. Clients are
 *	served one at a time. The SINGLE_SERVER_CLIENT given to service
 *	and spawn is the skeleton's, valid until the call returns: use it
 *	through the pointer, never copy it by value (client->env points
 *	into itself).
 * .IP spawn(client, context)
 *	start a child process that serves the client and return its pid
 *	(-1 with errno set on failure), with client->in_fd and out_fd on
 *	its fds 0 and 1, client->err_fd on its fd 2 (-1: leave fd 2 as it
 *	is), and as the leader of a new process group when
 *	client->new_group is set. The
 *	skeleton reaps it, logs what it writes to err_fd, applies
 *	command_time_limit and process_limit to its process group, and in
 *	stream mode exits with its status.
 * .IP pre_exit(context)
 *	called before a normal exit.
 * .IP context
 *	passed to every callback.
 * .PP
 *	The parameters of SPEC section 5 are in single_server_params once
 *	single_server_main() has read them.
 *--*/

#include <sys/socket.h>
#include <sys/types.h>

/* Logging (see the LOGGING section of the manual). */

#define SS_MSG_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define SS_MSG_EXIT_USAGE	100		/* usage or configuration error */
#define SS_MSG_EXIT_SYSTEM	111		/* system failure */

extern int ss_msg_verbose;

extern void ss_msg_info(const char *,...) SS_MSG_PRINTF(1, 2);
extern void ss_msg_warn(const char *,...) SS_MSG_PRINTF(1, 2);
extern void ss_msg_error(const char *,...) SS_MSG_PRINTF(1, 2);
extern _Noreturn void ss_msg_fatal(const char *,...) SS_MSG_PRINTF(1, 2);
extern _Noreturn void ss_msg_fatal_status(int, const char *,...) SS_MSG_PRINTF(2, 3);
extern _Noreturn void ss_msg_panic(const char *,...) SS_MSG_PRINTF(1, 2);

/* Parameter tables: the application's own parameters. */

typedef enum SS_PARAM_TYPE {
    SS_PARAM_INT,
    SS_PARAM_TIME,
    SS_PARAM_MODE,
    SS_PARAM_BOOL,
    SS_PARAM_STR,
} SS_PARAM_TYPE;

typedef struct SS_PARAM_DEF {
    const char *name;
    SS_PARAM_TYPE type;
    const char *defval;
    long    min;
    long    max;
    long   *lval;                       /* SS_PARAM_INT, SS_PARAM_TIME, SS_PARAM_MODE */
    int    *bval;                       /* SS_PARAM_BOOL */
    char  **sval;                       /* SS_PARAM_STR */
} SS_PARAM_DEF;

#define SS_PARAM_DEF_INT(n, d, lo, hi, p)  { (n), SS_PARAM_INT, (d), (lo), (hi), (p), 0, 0 }
#define SS_PARAM_DEF_TIME(n, d, lo, hi, p) { (n), SS_PARAM_TIME, (d), (lo), (hi), (p), 0, 0 }
#define SS_PARAM_DEF_MODE(n, d, p)         { (n), SS_PARAM_MODE, (d), 0, 07777, (p), 0, 0 }
#define SS_PARAM_DEF_BOOL(n, d, p)         { (n), SS_PARAM_BOOL, (d), 0, 1, 0, (p), 0 }
#define SS_PARAM_DEF_STR(n, d, p)          { (n), SS_PARAM_STR, (d), 0, 0, 0, 0, (p) }
#define SS_PARAM_DEF_END                   { 0, SS_PARAM_INT, 0, 0, 0, 0, 0, 0 }

/* The variables that describe a client (PROTO, TCPREMOTEIP, ...). */

#define SS_CLIENT_ENV_MAX  12
#define SS_CLIENT_ENV_LEN  272          /* "TCPREMOTEHOST=" and 253 bytes */
#define SS_CLIENT_ENV_RULE_MAX 16       /* assignments of an allow rule */
#define SS_CLIENT_ENV_TLS_MAX 12        /* HTTPS, SSL_PROTOCOL, ... */

typedef struct SS_CLIENT_ENV {
    char   *vars[SS_CLIENT_ENV_MAX + SS_CLIENT_ENV_RULE_MAX
                 + SS_CLIENT_ENV_TLS_MAX + 1];
    char    buf[SS_CLIENT_ENV_MAX][SS_CLIENT_ENV_LEN];
    int     count;                      /* vars[0..count-1] are in buf */
    int     nrule;                      /* then this many from the rule */
    int     ntls;                       /* then this many of TLS's */
} SS_CLIENT_ENV;

struct SS_LISTENER;                     /* the skeleton's own */


typedef struct SINGLE_SERVER_CLIENT {
    int     in_fd;                      /* read the client here */
    int     out_fd;                     /* write to the client here */
    int     err_fd;                     /* spawn: the child's fd 2, or -1 */
    int     new_group;                  /* spawn: lead a new process group */
    const struct SS_LISTENER *listener; /* null in stream mode */
    struct sockaddr_storage peer;       /* resident mode: from accept() */
    socklen_t peer_len;
    SS_CLIENT_ENV env;                  /* UCSPI variables for this client */
    const char *service_name;           /* -n, for logs */
    struct sockaddr_storage proxy;      /* behind a PROXY header: the proxy */
    socklen_t proxy_len;                /* 0: no header was read */
} SINGLE_SERVER_CLIENT;

typedef struct SINGLE_SERVER_APP {
    const char *name;
    const char *operands;
    const char *help;
    int     min_operands;
    int     name_from_operand;
    const SS_PARAM_DEF *params;
    void    (*pre_init) (int, char **, int, void *);
    void    (*post_init) (void *);
    void    (*pre_accept) (void *);
    void    (*loop) (void *);
    void    (*service) (SINGLE_SERVER_CLIENT *, void *);
    pid_t   (*spawn) (SINGLE_SERVER_CLIENT *, void *);
    void    (*pre_exit) (void *);
    void   *context;
} SINGLE_SERVER_APP;

typedef struct SINGLE_SERVER_PARAMS {
    long    max_use;
    long    max_idle;
    long    process_limit;
    long    command_time_limit;
    long    drain_timeout;
    long    in_flow_delay;
    long    in_flow_rate;
    long    in_flow_burst;
    long    daemon_timeout;
    long    listen_backlog;
    long    unix_socket_mode;
    char   *user;
    char   *chroot_directory;
    char   *state_directory;
    char   *syslog_name;
    char   *syslog_facility;
    char   *debugger_command;
    char   *handler_stderr;
    const char *service_name;           /* -n, or derived */
} SINGLE_SERVER_PARAMS;

extern SINGLE_SERVER_PARAMS single_server_params;

extern int single_server_main(int, char **, const SINGLE_SERVER_APP *);

#endif
