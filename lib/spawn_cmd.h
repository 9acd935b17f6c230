#ifndef SS_SPAWN_CMD_H
#define SS_SPAWN_CMD_H

/*++
 * NAME
 *	spawn_cmd 3
 * SUMMARY
 *	start a handler program on a client connection
 * SYNOPSIS
 *	#include <spawn_cmd.h>
 *
 *	int	spawn_cmd_resolve(const char *name, char **path);
 *	int	spawn_cmd_closes_all(void);
 *	void	spawn_cmd_init(SPAWN_CMD *cmd, const char *path, char **argv,
 *			char **environ, const char *const *drop);
 *	void	spawn_cmd_signals(SPAWN_CMD *cmd);
 *	pid_t	spawn_cmd_start(SPAWN_CMD *cmd, int in_fd, int out_fd,
 *			int err_fd, int new_group, char *const *extra_env);
 *	const char *spawn_cmd_failed(void);
 * DESCRIPTION
 *	spawn_cmd_resolve() finds a program the way a shell would: a name with a
 *	"/" as is, otherwise the first executable regular file of that name
 *	in $PATH. It returns 0 and a new string in *path, or ENOENT (not
 *	found) or EACCES (found, not executable).
 *
 *	spawn_cmd_init() does the per-program work once: it keeps the path and
 *	argv, copies environ without the variables named in drop (names,
 *	null-terminated list), leaves room for per-client variables, and
 *	notes the signals the child must set to default before its exec:
 *	those not default now (ignored by whoever started us) and those the
 *	skeleton catches or ignores (SIGCHLD, SIGTERM, SIGINT, SIGHUP,
 *	SIGALRM, SIGPIPE). A program that catches another signal after
 *	spawn_cmd_init() calls spawn_cmd_signals() to make the set again.
 *
 *	spawn_cmd_start() starts the program with in_fd on fd 0, out_fd on fd 1,
 *	err_fd on fd 2 (-1: fd 2 inherited), every other descriptor closed,
 *	default signals and an empty mask, as the leader of a new process
 *	group when new_group is set, and extra_env (null-terminated, at most
 *	SPAWN_EXTRA_MAX entries) added to the environment: a NAME there
 *	replaces the NAME of the base one, found through a hash of the base
 *	names made once. It uses vfork(): between it and exec the child makes
 *	async-signal-safe calls only (no libevent, no handler of ours, no
 *	allocation).
 *	It returns the pid, or -1 with errno set (the exec error included;
 *	that child is reaped here).
 *
 *	spawn_cmd_failed() names the program of the last spawn_cmd_start()
 *	that failed (its path, valid as long as its SPAWN_CMD), and forgets
 *	it: null when none failed since the last call. It lets a caller
 *	that only sees a spawn's errno name what could not be started.
 *
 *	spawn_cmd_closes_all(), called once at start before any spawn, says
 *	whether a child closes every descriptor from 3 (close_range()); when
 *	not, the caller must make what it inherited close-on-exec.
 *--*/

#include <signal.h>
#include <sys/types.h>

#include "single_server.h"             /* SS_CLIENT_ENV_MAX, ... */

/* Every client variable and every assignment of an access rule. */
#define SPAWN_EXTRA_MAX (SS_CLIENT_ENV_MAX + SS_CLIENT_ENV_RULE_MAX \
                         + SS_CLIENT_ENV_TLS_MAX)

typedef struct SPAWN_CMD {
    char   *path;                       /* resolved executable */
    char  **argv;                       /* argv[0] as given */
    char  **envp;                       /* base, then extra, then null */
    size_t  nbase;                      /* base entries */
    size_t *names;                      /* hash of base names: index+1 */
    size_t  nnames;                     /* a power of 2 above 2 * nbase */
    int     reset[NSIG];                /* set to default in the child */
    int     nreset;
} SPAWN_CMD;

extern int spawn_cmd_resolve(const char *, char **);
extern void spawn_cmd_init(SPAWN_CMD *, const char *, char **, char **,
                               const char *const *);
extern pid_t spawn_cmd_start(SPAWN_CMD *, int, int, int, int, char *const *);
extern int spawn_cmd_closes_all(void);
extern void spawn_cmd_signals(SPAWN_CMD *);
extern const char *spawn_cmd_failed(void);

#endif
