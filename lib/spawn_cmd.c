/*
 * spawn_cmd.c - start a handler program on a client connection
 *
 * Why vfork(): the child borrows the server's memory and stack until its
 * exec, so a spawn copies no page tables, maps no stack of its own and
 * faults no fresh page in. posix_spawn() does the same with a stack it
 * maps and unmaps per call, and resets or asks after every signal in the
 * child (64 system calls while the server waits for the exec); here the
 * child resets only the signals that can be other than default, a set
 * made once. Between vfork() and exec the child calls only what is
 * async-signal-safe (system calls, memset): no libevent, no
 * allocation, no handler of ours (every signal is blocked until the ones
 * that could run one are default).
 * Under valgrind vfork() is a fork(): an exec error is then not seen by
 * the parent, which sees a child that exited 127.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msg.h"
#include "mymalloc.h"
#include "spawn_cmd.h"

static int spawn_cmd_close_range;       /* close_range() worked at start */
static const char *spawn_cmd_last_failed;   /* spawn_cmd_failed() */

/* spawn_cmd_check - 0 when path is an executable regular file, else errno */
static int spawn_cmd_check(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return (errno == ENOENT || errno == ENOTDIR ? ENOENT : errno);
    if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
        return (EACCES);
    return (0);
}

/* spawn_cmd_resolve - find a program as a shell would */
int     spawn_cmd_resolve(const char *name, char **path)
{
    const char *search = getenv("PATH");
    const char *dir;
    const char *end;
    char   *cand;
    int     err;
    int     found_other = 0;

    if (*name == 0)
        return (ENOENT);
    if (strchr(name, '/')) {
        if ((err = spawn_cmd_check(name)) == 0)
            *path = mystrdup(name);
        return (err);
    }
    if (search == 0)
        search = "/usr/local/bin:/usr/bin:/bin";
    for (dir = search; ; dir = end + 1) {
        end = strchrnul(dir, ':');
        cand = end == dir ? myasprintf("./%s", name)
            : myasprintf("%.*s/%s", (int) (end - dir), dir, name);
        if ((err = spawn_cmd_check(cand)) == 0) {
            *path = cand;
            return (0);
        }
        found_other |= (err == EACCES);
        myfree(cand);
        if (*end == 0)
            break;
    }
    return (found_other ? EACCES : ENOENT);
}

/* spawn_cmd_dropped - is this NAME=value entry one to drop? */
static int spawn_cmd_dropped(const char *entry, const char *const *drop)
{
    size_t  len = strcspn(entry, "=");

    for (; drop && *drop; drop++)
        if (strlen(*drop) == len && strncmp(entry, *drop, len) == 0)
            return (1);
    return (0);
}

static void spawn_cmd_names(SPAWN_CMD *);

/* spawn_cmd_init - the per-program work, done once */
void    spawn_cmd_init(SPAWN_CMD *cmd, const char *path, char **argv,
                               char **environ_in, const char *const *drop)
{
    size_t  n = 0;
    char  **ep;

    for (ep = environ_in; ep && *ep; ep++)
        n++;
    cmd->path = mystrdup(path);
    cmd->argv = argv;
    cmd->envp = mycalloc(n + SPAWN_EXTRA_MAX + 1, sizeof(char *));
    cmd->nbase = 0;
    for (ep = environ_in; ep && *ep; ep++)
        if (!spawn_cmd_dropped(*ep, drop))
            cmd->envp[cmd->nbase++] = mystrdup(*ep);
    spawn_cmd_names(cmd);

    spawn_cmd_signals(cmd);
}

/*
 * spawn_cmd_signals - the signals the child sets to default. Only
 * ignored signals survive exec; handlers get the defaults and an empty
 * mask. The child resets what can be other than default: what is not
 * default now (ignored by whoever started us: nohup; caught by the
 * program) and what the skeleton catches or ignores later
 * (single_server.c, watchdog.c).
 */
void    spawn_cmd_signals(SPAWN_CMD *cmd)
{
    static const int caught[] = {
        SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE,
    };
    struct sigaction sa;
    sigset_t set;
    int     sig;
    size_t  i;

    sigemptyset(&set);
    for (sig = 1; sig < NSIG; sig++)
        if (sigaction(sig, 0, &sa) == 0 && sa.sa_handler != SIG_DFL)
            sigaddset(&set, sig);
    for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
        sigaddset(&set, caught[i]);
    /* A list, so that the child does not look at all 64 each time. */
    cmd->nreset = 0;
    for (sig = 1; sig < NSIG; sig++)
        if (sigismember(&set, sig) == 1)
            cmd->reset[cmd->nreset++] = sig;
}

/* spawn_cmd_name_hash - a hash of the NAME of "NAME=value" (FNV-1a) */
static size_t spawn_cmd_name_hash(const char *var, size_t *len)
{
    size_t  h = 2166136261u;
    const char *cp;

    for (cp = var; *cp && *cp != '='; cp++)
        h = (h ^ (unsigned char) *cp) * 16777619u;
    *len = (size_t) (cp - var);
    return (h);
}

/* spawn_cmd_names - index the base names once, for spawn_cmd_find() */
static void spawn_cmd_names(SPAWN_CMD *cmd)
{
    size_t  i;
    size_t  h;
    size_t  len;

    for (cmd->nnames = 16; cmd->nnames < 2 * cmd->nbase; cmd->nnames *= 2)
         /* void */ ;
    cmd->names = mycalloc(cmd->nnames, sizeof(*cmd->names));
    for (i = 0; i < cmd->nbase; i++) {
        h = spawn_cmd_name_hash(cmd->envp[i], &len);
        while (cmd->names[h & (cmd->nnames - 1)])
            h++;
        cmd->names[h & (cmd->nnames - 1)] = i + 1;
    }
}

/* spawn_cmd_find - the base entry with var's NAME, or -1 */
static long spawn_cmd_find(const SPAWN_CMD *cmd, const char *var)
{
    size_t  len;
    size_t  h = spawn_cmd_name_hash(var, &len);
    size_t  i;
    const char *base;

    while ((i = cmd->names[h & (cmd->nnames - 1)]) != 0) {
        base = cmd->envp[i - 1];
        if (strncmp(base, var, len) == 0 && base[len] == '=')
            return ((long) i - 1);
        h++;
    }
    return (-1);
}

/*
 * spawn_cmd_closes_all - can a child close every descriptor from 3 at
 * once (close_range(), Linux 5.9 and glibc 2.34, not refused by a
 * seccomp filter)? Asked once, at start; until then, a child does not.
 */
int     spawn_cmd_closes_all(void)
{
#ifdef HAVE_CLOSE_RANGE
    /* The range of the last possible descriptor: closes nothing. */
    spawn_cmd_close_range = (close_range(~0U, ~0U, 0) == 0);
#endif
    return (spawn_cmd_close_range);
}

/*
 * spawn_cmd_child - the vfork() child: signals, fds, group, exec; only
 * async-signal-safe calls, and on failure the error in *err for the parent
 */
static void spawn_cmd_child(const SPAWN_CMD *cmd, const int fds[3],
                                    int new_group, volatile int *err)
{
    struct sigaction dfl;
    sigset_t none;
    int     i;
    int     fd;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (i = 0; i < cmd->nreset; i++)
        (void) sigaction(cmd->reset[i], &dfl, 0);
    for (fd = 0; fd < 3; fd++)
        if (fds[fd] >= 0 && (fds[fd] == fd ? fcntl(fd, F_SETFD, 0)
                             : dup2(fds[fd], fd)) < 0)
            goto fail;
#ifdef HAVE_CLOSE_RANGE

    /*
     * Not glibc's closefrom(): without close_range it reads /proc (none
     * in a chroot) and aborts when it cannot. When the probe at start
     * failed (an old kernel, a seccomp filter), what we inherited was
     * made close-on-exec instead.
     */
    if (spawn_cmd_close_range && close_range(3, ~0U, 0) < 0)
        goto fail;
#endif
    if (new_group && setpgid(0, 0) < 0)
        goto fail;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, 0) < 0)
        goto fail;
    (void) execve(cmd->path, cmd->argv, cmd->envp);
fail:
    *err = errno;
    _exit(127);
}

/*
 * spawn_cmd_vfork - vfork() in a frame of its own, so that no local of
 * the caller lives where the child runs (and -Wclobbered has nothing to
 * say): the child never returns from here
 */
__attribute__((noinline))
static pid_t spawn_cmd_vfork(const SPAWN_CMD *cmd, const int fds[3],
                                     int new_group, volatile int *err)
{
    pid_t   pid;

    if ((pid = vfork()) == 0)
        spawn_cmd_child(cmd, fds, new_group, err);
    return (pid);
}

/* spawn_cmd_start - start the program on a connection */
pid_t   spawn_cmd_start(SPAWN_CMD *cmd, int in_fd, int out_fd, int err_fd,
                                int new_group, char *const *extra)
{
    size_t  n = cmd->nbase;
    int     fds[3] = {in_fd, out_fd, err_fd};
    long    at[SPAWN_EXTRA_MAX];        /* base entries replaced */
    char   *was[SPAWN_EXTRA_MAX];
    int     nswap = 0;
    volatile int err = 0;               /* the child's, on failure */
    sigset_t all;
    sigset_t saved;
    pid_t   pid;

    for (; extra && *extra && n + nswap < cmd->nbase + SPAWN_EXTRA_MAX; extra++) {
        if ((at[nswap] = spawn_cmd_find(cmd, *extra)) < 0) {
            cmd->envp[n++] = *extra;
        } else {                        /* one NAME, ours: no duplicate */
            was[nswap] = cmd->envp[at[nswap]];
            cmd->envp[at[nswap++]] = *extra;
        }
    }
    cmd->envp[n] = 0;
    sigfillset(&all);
    (void) sigprocmask(SIG_BLOCK, &all, &saved);
    if ((pid = spawn_cmd_vfork(cmd, fds, new_group, &err)) < 0)
        err = errno;
    (void) sigprocmask(SIG_SETMASK, &saved, 0);
    while (nswap-- > 0)                 /* the base, as it was */
        cmd->envp[at[nswap]] = was[nswap];
    if (pid > 0 && err != 0)            /* it exited: not the program's end */
        while (waitpid(pid, 0, 0) < 0 && errno == EINTR)
             /* void */ ;
    if (err != 0) {
        spawn_cmd_last_failed = cmd->path;
        errno = err;
        return (-1);
    }
    return (pid);
}

/* spawn_cmd_failed - the program that the last failed start was for */
const char *spawn_cmd_failed(void)
{
    const char *path = spawn_cmd_last_failed;

    spawn_cmd_last_failed = 0;
    return (path);
}
