/*
 * listener.c - listening sockets: bound here, or inherited
 *
 * Everything a client's environment needs from the listening side is
 * computed here once, so that the per-connection work is accept, one
 * getsockname() at most (wildcard TCP binds only), and spawn.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "listener.h"
#include "msg.h"
#include "mymalloc.h"

#define SD_LISTEN_FDS_START 3
#define LISTENER_LOCK_TRIES 500         /* 10 ms apart: 5 seconds */

/* listener_add - append a listener for fd and fill in what is fixed */
static SS_LISTENER *listener_add(SS_LISTENER_LIST *list, int fd)
{
    SS_LISTENER *lp;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    list->items = myrealloc(list->items, (list->count + 1) * sizeof(SS_LISTENER));
    lp = &list->items[list->count++];
    memset(lp, 0, sizeof(*lp));
    lp->fd = fd;
    if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
        ss_msg_fatal("getsockname fd %d: %m", fd);
    lp->family = ss.ss_family;
    lp->display = addr_display((struct sockaddr *) &ss, len);
    if (ss.ss_family == AF_UNIX) {
        lp->unix_path = mystrdup(lp->display + 5);
    } else if (addr_numeric((struct sockaddr *) &ss, len, lp->local_host,
                            sizeof(lp->local_host), lp->local_port,
                            sizeof(lp->local_port)) == 0) {
        lp->local_fixed = strcmp(lp->local_host, "0.0.0.0") != 0
            && strcmp(lp->local_host, "::") != 0;
    }
    return (lp);
}

/*
 * listener_unix_path - a unix listener's path as we show it (-1, logs,
 * UNIXLOCALPATH): the path it was asked for, not the temporary name
 * that getsockname() reports for a socket linked into place
 */
static void listener_unix_path(SS_LISTENER *lp, const char *path)
{
    myfree(lp->display);
    myfree(lp->unix_path);
    lp->display = myasprintf("unix:%s", path);
    lp->unix_path = mystrdup(path);
}

/* listener_unix_stale - a socket file that nobody answers on */
static int listener_unix_stale(const ADDR_SPEC *spec)
{
    struct stat st;
    int     fd;
    int     stale;

    if (lstat(spec->path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return (0);
    /* Non-blocking: a live server with a full backlog says EAGAIN. */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return (0);
    stale = connect(fd, (struct sockaddr *) &spec->sa, spec->len) < 0
        && errno == ECONNREFUSED;
    close(fd);
    return (stale);
}

/*
 * listener_not_socket - a unix:PATH whose PATH is some other file: a
 * configuration error, the file left alone (bind() would say "Address
 * already in use" and send the reader looking for a server)
 */
static int listener_not_socket(const ADDR_SPEC *addr, const char *spec,
                                       char **err)
{
    struct stat st;

    if (addr->family != AF_UNIX || lstat(addr->path, &st) < 0
        || S_ISSOCK(st.st_mode))
        return (0);
    *err = myasprintf("listen address \"%s\": %s exists and is not a socket",
                      spec, addr->path);
    return (SS_MSG_EXIT_USAGE);
}

/* listener_check - what listener_open() checks before it binds */
int     listener_check(const char *spec, char **err)
{
    ADDR_SPEC addr;
    int     ret;

    if ((ret = addr_parse(spec, &addr, err)) < 0)
        return (ret == ADDR_ERR_TEMP ? SS_MSG_EXIT_SYSTEM : SS_MSG_EXIT_USAGE);
    ret = listener_not_socket(&addr, spec, err);
    addr_free(&addr);
    return (ret);
}

/*
 * listener_dir_lock - lock the directory of a unix socket while its stale
 * file is replaced: two servers starting at once on one path would
 * otherwise both find it stale, and the second unlink the first one's
 * fresh socket. Every server of ours takes this lock there; someone else
 * holding it for long (any user may lock a directory it can read) only
 * delays us: after 5 seconds we go on without it. Returns the locked
 * descriptor, or -1.
 */
static int listener_dir_lock(const char *path)
{
    const char *slash = strrchr(path, '/');
    char   *dir = slash == 0 ? mystrdup(".") : slash == path ? mystrdup("/")
        : mystrndup(path, (size_t) (slash - path));
    int     fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int     tries;

    for (tries = 0; fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0; tries++) {
        if (errno != EWOULDBLOCK || tries == LISTENER_LOCK_TRIES) {
            ss_msg_warn("cannot lock directory %s: %m -- going on without", dir);
            close(fd);
            fd = -1;
        } else {
            if (tries == 0)
                ss_msg_info("directory %s is locked by another server binding "
                            "there -- waiting", dir);
            (void) usleep(10000);
        }
    }
    myfree(dir);
    return (fd);
}

/* listener_bind_mode - bind() with the socket file made as mode */
static int listener_bind_mode(int fd, const struct sockaddr *sa, socklen_t len,
                                      long mode)
{
    mode_t  old;
    int     ret;
    int     saved_errno;

    old = umask((mode_t) (~mode & 0777));
    ret = bind(fd, sa, len);
    saved_errno = errno;
    (void) umask(old);
    errno = saved_errno;
    return (ret);
}

/*
 * listener_bind_in - bind fd to name inside directory dfd. bind() has
 * no *at() form: enter the directory for a moment, and use the name
 * alone (a full path might not fit in sun_path).
 */
static int listener_bind_in(int fd, int dfd, const char *name, long mode)
{
    struct sockaddr_un sun;
    int     cwd;
    int     ret;
    int     saved_errno;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, name, strlen(name));   /* shorter than the path */
    if ((cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return (-1);
    if ((ret = fchdir(dfd)) == 0)
        ret = listener_bind_mode(fd, (struct sockaddr *) &sun, sizeof(sun),
                                 mode);
    saved_errno = errno;
    if (fchdir(cwd) < 0)
        ss_msg_fatal("cannot return to the working directory: %m");
    close(cwd);
    errno = saved_errno;
    return (ret);
}

/* listener_place - bind as name in dfd, give it away, link it to path */
static int listener_place(int fd, int dfd, const char *name, const char *path,
                                  const SS_LISTENER_OPTS *opts,
                                  const char **step)
{
    if (listener_bind_in(fd, dfd, name, opts->unix_mode) < 0)
        return (-1);
    if (fchownat(dfd, name, opts->unix_uid, opts->unix_gid,
                 AT_SYMLINK_NOFOLLOW) < 0) {
        *step = "cannot give it unix_socket_owner and unix_socket_group";
        return (-1);
    }
    /* link() fails when the path is taken, where rename() replaces it. */
    if (linkat(dfd, name, AT_FDCWD, path, 0) < 0) {
        if (errno == EEXIST)
            errno = EADDRINUSE;         /* what bind() says there */
        return (-1);
    }
    return (0);
}

/*
 * listener_bind_owned - bind a unix socket that gets an owner or a group
 * of its own. bind() then chown() would show the socket with our owner
 * for a moment, and a chown() by path could be aimed at a file swapped
 * in meanwhile. So it is bound in a new directory of ours (mode 0700,
 * next to its path: the same file system), given away there, where
 * nobody else can reach it, and linked into place.
 */
static int listener_bind_owned(int fd, const ADDR_SPEC *spec,
                                       const SS_LISTENER_OPTS *opts,
                                       const char **step)
{
    const char *slash = strrchr(spec->path, '/');
    const char *name = slash ? slash + 1 : spec->path;
    char   *tmp = myasprintf("%.*s.single-server-XXXXXX",
                             (int) (name - spec->path), spec->path);
    int     dfd;
    int     ret = -1;
    int     saved_errno;

    if (mkdtemp(tmp) == 0) {
        *step = "cannot make a directory next to it";
        myfree(tmp);
        return (-1);
    }
    if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        ret = listener_place(fd, dfd, name, spec->path, opts, step);
    saved_errno = errno;
    if (dfd >= 0) {
        (void) unlinkat(dfd, name, 0);
        close(dfd);
    }
    (void) rmdir(tmp);
    myfree(tmp);
    errno = saved_errno;
    return (ret);
}

/*
 * listener_bind - bind, replacing a stale unix socket file. A unix
 * socket gets its mode as it is made (the umask during bind()): a
 * chmod() by path afterwards could be aimed at a file that someone with
 * write access to the directory swapped in meanwhile.
 */
static int listener_bind(int fd, const ADDR_SPEC *spec,
                                 const SS_LISTENER_OPTS *opts,
                                 const char **step)
{
    int     lock;
    int     ret;
    int     saved_errno;

    if (spec->family != AF_UNIX)
        return (bind(fd, (struct sockaddr *) &spec->sa, spec->len));
    lock = listener_dir_lock(spec->path);
    if (listener_unix_stale(spec))
        (void) unlink(spec->path);
    if (opts->unix_uid != (uid_t) -1 || opts->unix_gid != (gid_t) -1)
        ret = listener_bind_owned(fd, spec, opts, step);
    else
        ret = listener_bind_mode(fd, (struct sockaddr *) &spec->sa, spec->len,
                                 opts->unix_mode);
    saved_errno = errno;
    if (lock >= 0)
        close(lock);                    /* and with it the lock */
    errno = saved_errno;
    return (ret);
}

/* listener_socket - a socket for spec; dual-stack for the wildcard */
static int listener_socket(ADDR_SPEC *spec, const SS_LISTENER_OPTS *opts)
{
    int     fd;
    int     on = 1;
    int     off = 0;

    fd = socket(spec->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && spec->wildcard && errno == EAFNOSUPPORT) {
        addr_wildcard_ipv4(spec);       /* a host without IPv6 */
        return (listener_socket(spec, opts));
    }
    if (fd < 0)
        return (-1);
    if (spec->family != AF_UNIX)
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    /* Asked for: without it, the second server's bind() fails. */
    if (spec->family != AF_UNIX && opts->reuseport
        && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) {
        close(fd);
        return (-1);
    }
    if (spec->wildcard)                 /* whatever net.ipv6.bindv6only says */
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    return (fd);
}

/* listener_open - create, bind and listen */
int     listener_open(SS_LISTENER_LIST *list, const char *spec,
                              const SS_LISTENER_OPTS *opts, char **err)
{
    ADDR_SPEC addr;
    SS_LISTENER *lp;
    const char *step = 0;
    int     fd;
    int     ret;
    int     saved_errno;

    if ((ret = addr_parse(spec, &addr, err)) < 0)
        return (ret == ADDR_ERR_TEMP ? SS_MSG_EXIT_SYSTEM : SS_MSG_EXIT_USAGE);
    if ((ret = listener_not_socket(&addr, spec, err)) != 0) {
        addr_free(&addr);
        return (ret);
    }
    for (;;) {
        if ((fd = listener_socket(&addr, opts)) < 0)
            break;
        if (listener_bind(fd, &addr, opts, &step) == 0
            && listen(fd, opts->backlog) == 0) {
            lp = listener_add(list, fd);
            lp->own = 1;
            if (addr.family == AF_UNIX)     /* bound by a temporary name? */
                listener_unix_path(lp, addr.path);
            addr_free(&addr);
            return (0);
        }
        saved_errno = errno;
        close(fd);
        errno = saved_errno;
        if (!addr.wildcard || errno != EADDRNOTAVAIL)
            break;
        addr_wildcard_ipv4(&addr);      /* IPv6 is there but disabled */
    }
    *err = myasprintf("listen address \"%s\": %s%s%s", spec, step ? step : "",
                      step ? ": " : "", strerror(errno));
    addr_free(&addr);
    return (SS_MSG_EXIT_SYSTEM);
}

/* listener_adopt - make an inherited socket ours: checked, non-blocking */
static int listener_adopt(int fd)
{
    int     val = 0;
    socklen_t len = sizeof(val);

    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || !val)
        return (-1);
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0
        || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        ss_msg_fatal("fcntl fd %d: %m", fd);
    return (0);
}

/* listener_systemd_count - LISTEN_FDS when LISTEN_PID is ours, else 0 */
static long listener_systemd_count(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    char   *end;
    long    val;

    if (pid == 0 || fds == 0)
        return (0);
    errno = 0;
    val = strtol(pid, &end, 10);
    if (errno || *end || end == pid || val != (long) getpid())
        return (0);
    val = strtol(fds, &end, 10);
    if (errno || *end || end == fds || val < 0 || val > 4096)
        return (0);
    return (val);
}

/* listener_inherit_systemd - take systemd's LISTEN_FDS sockets */
int     listener_inherit_systemd(SS_LISTENER_LIST *list, int own, char **err)
{
    long    count = listener_systemd_count();
    char   *names = getenv("LISTEN_FDNAMES");
    char   *cursor = names ? mystrdup(names) : 0;
    char   *save = cursor;
    char   *name;
    SS_LISTENER *lp;
    long    i;
    int     fd;

    for (i = 0; i < count; i++) {
        fd = SD_LISTEN_FDS_START + (int) i;
        name = cursor ? strsep(&cursor, ":") : 0;
        if (listener_adopt(fd) < 0) {
            *err = myasprintf("socket activation: fd %d%s%s%s is not a "
                              "listening stream socket (for Accept=yes use -S)",
                              fd, name ? " (" : "", name ? name : "",
                              name ? ")" : "");
            myfree(save);
            return (-1);
        }
        lp = listener_add(list, fd);
        lp->fdname = name ? mystrdup(name) : 0;
        lp->own = own;
    }
    myfree(save);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    unsetenv("LISTEN_PIDFDID");
    return ((int) count);
}

/* listener_inherit_master - master(8)'s sockets, from fd first on */
int     listener_inherit_master(SS_LISTENER_LIST *list, int first, int count,
                                        char **err)
{
    int     fd;

    for (fd = first; fd < first + count; fd++) {
        if (listener_adopt(fd) < 0) {
            *err = myasprintf("master(8) mode: fd %d is not a listening "
                              "socket (-s and -t are for services in "
                              "master.cf)", fd);
            return (-1);
        }
        (void) listener_add(list, fd);
    }
    return (count);
}

/* listener_known - is fd the same socket as one we have already? */
static int listener_known(SS_LISTENER_LIST *list, int fd)
{
    struct stat st;
    struct stat other;
    size_t  i;

    if (fstat(fd, &st) < 0)
        return (0);
    for (i = 0; i < list->count; i++)
        if (fstat(list->items[i].fd, &other) == 0
            && other.st_dev == st.st_dev && other.st_ino == st.st_ino)
            return (1);
    return (0);
}

/* listener_inherit_stdin - take fd 0 when it is a listening socket */
int     listener_inherit_stdin(SS_LISTENER_LIST *list)
{
    int     fd;
    int     null;

    /* systemd with StandardInput=socket also passes it as LISTEN_FDS. */
    if (listener_known(list, 0) || listener_adopt(0) < 0)
        return (0);
    if ((fd = fcntl(0, F_DUPFD_CLOEXEC, 3)) < 0)
        ss_msg_fatal("dup fd 0: %m");
    if ((null = open("/dev/null", O_RDONLY)) < 0 || dup2(null, 0) < 0)
        ss_msg_fatal("open /dev/null: %m");
    if (null != 0)
        close(null);
    (void) listener_add(list, fd);
    return (1);
}

/*
 * The TCP options of the listener parameters. Linux copies a listening
 * socket's options into each connection it accepts, so they are set once
 * on the listener, and accepting costs nothing more; the last one
 * applies to the listener itself only.
 */
typedef struct LISTENER_SOCKOPT {
    const char *name;
    const char *param;                  /* the parameter that asks for it */
    int     level;
    int     option;
    int     zero_ok;                    /* 0 can be set: off */
} LISTENER_SOCKOPT;

static const LISTENER_SOCKOPT listener_sockopts[] = {
    {"TCP_NODELAY", "tcp_nodelay", IPPROTO_TCP, TCP_NODELAY, 1},
    {"SO_KEEPALIVE", "tcp_keepalive", SOL_SOCKET, SO_KEEPALIVE, 1},
    {"TCP_KEEPIDLE", "tcp_keepalive_time", IPPROTO_TCP, TCP_KEEPIDLE,
        0},                             /* 0: the kernel's */
    {"TCP_DEFER_ACCEPT", "tcp_defer_accept", IPPROTO_TCP, TCP_DEFER_ACCEPT,
        1},
};

#define LISTENER_CONN_OPTS 3            /* those inherited by connections */
#define LISTENER_NOPTS \
    (sizeof(listener_sockopts) / sizeof(listener_sockopts[0]))

/* listener_values - what opts asks of each option, in the table's order */
static void listener_values(const SS_LISTENER_OPTS *opts, int *vals)
{
    vals[0] = opts->nodelay;
    vals[1] = opts->keepalive;
    vals[2] = (int) opts->keepalive_time;
    vals[3] = (int) opts->defer_accept;
}

/* listener_queued - connections waiting to be accepted on a TCP listener */
static int listener_queued(const SS_LISTENER *lp)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    size_t  need = offsetof(struct tcp_info, tcpi_unacked)
        + sizeof(info.tcpi_unacked);

    /* For a listener, Linux reports its accept queue as tcpi_unacked. */
    if (getsockopt(lp->fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0
        || len < need)
        return (lp->opts->backlog);
    return (info.tcpi_unacked > INT_MAX ? INT_MAX : (int) info.tcpi_unacked);
}

/* listener_tune - the TCP options, once, on a TCP listener */
int     listener_tune(SS_LISTENER *lp, const SS_LISTENER_OPTS *opts, char **err)
{
    const LISTENER_SOCKOPT *so;
    int     vals[LISTENER_NOPTS];
    int     now;
    socklen_t len;
    int     turned_on = 0;
    size_t  i;

    lp->opts = opts;
    if (lp->family != AF_INET && lp->family != AF_INET6)
        return (0);
    listener_values(opts, vals);
    for (i = 0; i < LISTENER_NOPTS; i++) {
        so = &listener_sockopts[i];
        len = sizeof(now);
        /* A supervisor's settings stand unless we turn an option on. */
        if ((vals[i] == 0 && (!lp->own || !so->zero_ok))
            || (getsockopt(lp->fd, so->level, so->option, &now, &len) == 0
                && now == vals[i]))
            continue;
        if (setsockopt(lp->fd, so->level, so->option, &vals[i],
                       sizeof(vals[i])) < 0) {
            *err = myasprintf("listener %s: %s (setsockopt %s): %s",
                              lp->display, so->param, so->name,
                              strerror(errno));
            return (-1);
        }
        turned_on |= i < LISTENER_CONN_OPTS && vals[i] != 0;
    }
    /* Those waiting already were accepted by the kernel without them. */
    if (turned_on)
        lp->untuned = listener_queued(lp);
    return (0);
}

/* listener_set_conn - the per-connection options opts turns on, on fd */
static void listener_set_conn(int fd, const SS_LISTENER_OPTS *opts)
{
    int     vals[LISTENER_NOPTS];
    size_t  i;

    listener_values(opts, vals);
    for (i = 0; i < LISTENER_CONN_OPTS; i++)
        if (vals[i] != 0)
            (void) setsockopt(fd, listener_sockopts[i].level,
                              listener_sockopts[i].option, &vals[i],
                              sizeof(vals[i]));
}

/* listener_accepted - a connection that was waiting before listener_tune() */
void    listener_accepted(SS_LISTENER *lp, int fd)
{
    lp->untuned--;
    listener_set_conn(fd, lp->opts);
}

/* listener_tune_conn - stream mode: the options, when fd is TCP */
void    listener_tune_conn(int fd, const SS_LISTENER_OPTS *opts)
{
    int     proto = 0;
    socklen_t len = sizeof(proto);

    if ((opts->nodelay || opts->keepalive || opts->keepalive_time)
        && getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0
        && proto == IPPROTO_TCP)
        listener_set_conn(fd, opts);
}

/* listener_unix_name - a handed-over unix listener's name: its -L path */
void    listener_unix_name(SS_LISTENER *lp, const char *spec)
{
    ADDR_SPEC addr;
    char   *err;

    if (lp->family != AF_UNIX)
        return;
    if (addr_parse(spec, &addr, &err) < 0) {
        myfree(err);
        return;
    }
    if (addr.family == AF_UNIX)
        listener_unix_path(lp, addr.path);
    addr_free(&addr);
}

/* listener_close - close one listener */
void    listener_close(SS_LISTENER *lp)
{
    if (lp->fd >= 0) {
        close(lp->fd);
        lp->fd = -1;
    }
}

