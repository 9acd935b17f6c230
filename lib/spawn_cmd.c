/*
 * spawn_cmd.c - start a handler program on a client connection
 *
 * Why posix_spawn(): glibc implements it with clone(CLONE_VM|CLONE_VFORK),
 * so a spawn does not copy the page tables of the server, and the child
 * runs no code of ours between clone and exec: no libevent callback and
 * no signal handler of ours can run in a half-made child. The file
 * actions (dup2 onto 0, 1 and maybe 2, close everything from 3), the
 * process group and the signal attributes do what a hand-written child
 * would do.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "mymalloc.h"
#include "spawn_cmd.h"

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
    sigset_t mask;
    sigset_t deflt;

    for (ep = environ_in; ep && *ep; ep++)
        n++;
    cmd->path = mystrdup(path);
    cmd->argv = argv;
    cmd->envp = mycalloc(n + SPAWN_EXTRA_MAX + 1, sizeof(char *));
    cmd->actions_fds[0] = cmd->actions_fds[1] = cmd->actions_fds[2] = -1;
    cmd->nbase = 0;
    for (ep = environ_in; ep && *ep; ep++)
        if (!spawn_cmd_dropped(*ep, drop))
            cmd->envp[cmd->nbase++] = mystrdup(*ep);
    spawn_cmd_names(cmd);

    /*
     * Only ignored signals survive exec; the server ignores SIGPIPE, and
     * whoever started us may have ignored others (nohup). Handlers get
     * the defaults and an empty mask. Every signal is named in the
     * default set rather than those found ignored: glibc's child then
     * sets each once, where for a signal not named it would first ask
     * for its action (a system call per signal, per spawn, while the
     * server waits for the exec), and start-up need not ask either.
     */
    sigemptyset(&mask);
    sigfillset(&deflt);
    cmd->flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if ((errno = posix_spawnattr_init(&cmd->attr)) != 0
        || (errno = posix_spawnattr_setsigmask(&cmd->attr, &mask)) != 0
        || (errno = posix_spawnattr_setsigdefault(&cmd->attr, &deflt)) != 0
        || (errno = posix_spawnattr_setpgroup(&cmd->attr, 0)) != 0
        || (errno = posix_spawnattr_setflags(&cmd->attr, cmd->flags)) != 0)
        ss_msg_fatal("posix_spawnattr: %m");
}

/* spawn_cmd_group - a new process group for the child, or not */
static int spawn_cmd_group(SPAWN_CMD *cmd, int new_group)
{
    short   want = (short) (new_group ? cmd->flags | POSIX_SPAWN_SETPGROUP
                            : cmd->flags & ~POSIX_SPAWN_SETPGROUP);

    if (want == cmd->flags)
        return (0);
    cmd->flags = want;
    return (posix_spawnattr_setflags(&cmd->attr, want));
}

/* spawn_cmd_actions - file actions for these fds, made once and kept */
static int spawn_cmd_actions(SPAWN_CMD *cmd, const int fds[3])
{
    int     err = 0;
    int     i;

    if (memcmp(cmd->actions_fds, fds, sizeof(cmd->actions_fds)) == 0)
        return (0);
    if (cmd->actions_fds[0] >= 0)
        posix_spawn_file_actions_destroy(&cmd->actions);
    cmd->actions_fds[0] = -1;
    if ((err = posix_spawn_file_actions_init(&cmd->actions)) != 0)
        return (err);
    for (i = 0; i < 3 && err == 0; i++)
        if (fds[i] >= 0)
            err = posix_spawn_file_actions_adddup2(&cmd->actions, fds[i], i);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
    if (err == 0)
        err = posix_spawn_file_actions_addclosefrom_np(&cmd->actions, 3);
#endif
    if (err != 0) {
        posix_spawn_file_actions_destroy(&cmd->actions);
        return (err);
    }
    memcpy(cmd->actions_fds, fds, sizeof(cmd->actions_fds));
    return (0);
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

/* spawn_cmd_start - start the program on a connection */
pid_t   spawn_cmd_start(SPAWN_CMD *cmd, int in_fd, int out_fd, int err_fd,
                                int new_group, char *const *extra)
{
    size_t  n = cmd->nbase;
    int     fds[3] = {in_fd, out_fd, err_fd};
    long    at[SPAWN_EXTRA_MAX];        /* base entries replaced */
    char   *was[SPAWN_EXTRA_MAX];
    int     nswap = 0;
    pid_t   pid;
    int     err;

    for (; extra && *extra && n + nswap < cmd->nbase + SPAWN_EXTRA_MAX; extra++) {
        if ((at[nswap] = spawn_cmd_find(cmd, *extra)) < 0) {
            cmd->envp[n++] = *extra;
        } else {                        /* one NAME, ours: no duplicate */
            was[nswap] = cmd->envp[at[nswap]];
            cmd->envp[at[nswap++]] = *extra;
        }
    }
    cmd->envp[n] = 0;
    if ((err = spawn_cmd_actions(cmd, fds)) != 0
        || (err = spawn_cmd_group(cmd, new_group)) != 0
        || (err = posix_spawn(&pid, cmd->path, &cmd->actions, &cmd->attr,
                              cmd->argv, cmd->envp)) != 0)
        pid = -1;
    while (nswap-- > 0)                 /* the base, as it was */
        cmd->envp[at[nswap]] = was[nswap];
    if (pid < 0) {
        errno = err;
        return (-1);
    }
    return (pid);
}

