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

/*
 * listener_bind - bind, replacing a stale unix socket file. A unix
 * socket gets its mode as it is made (the umask during bind()): a
 * chmod() by path afterwards could be aimed at a file that someone with
 * write access to the directory swapped in meanwhile.
 */
static int listener_bind(int fd, const ADDR_SPEC *spec, long unix_mode)
{
    mode_t  old;
    int     lock;
    int     ret;
    int     saved_errno;

    if (spec->family != AF_UNIX)
        return (bind(fd, (struct sockaddr *) &spec->sa, spec->len));
    lock = listener_dir_lock(spec->path);
    if (listener_unix_stale(spec))
        (void) unlink(spec->path);
    old = umask((mode_t) (~unix_mode & 0777));
    ret = bind(fd, (struct sockaddr *) &spec->sa, spec->len);
    saved_errno = errno;
    (void) umask(old);
    if (lock >= 0)
        close(lock);                    /* and with it the lock */
    errno = saved_errno;
    return (ret);
}

/* listener_socket - a socket for spec; dual-stack for the wildcard */
static int listener_socket(ADDR_SPEC *spec)
{
    int     fd;
    int     on = 1;
    int     off = 0;

    fd = socket(spec->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && spec->wildcard && errno == EAFNOSUPPORT) {
        addr_wildcard_ipv4(spec);       /* a host without IPv6 */
        return (listener_socket(spec));
    }
    if (fd < 0)
        return (-1);
    if (spec->family != AF_UNIX)
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (spec->wildcard)                 /* whatever net.ipv6.bindv6only says */
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    return (fd);
}

/* listener_open - create, bind and listen */
int     listener_open(SS_LISTENER_LIST *list, const char *spec, int backlog,
                              long unix_mode, char **err)
{
    ADDR_SPEC addr;
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
        if ((fd = listener_socket(&addr)) < 0)
            break;
        if (listener_bind(fd, &addr, unix_mode) == 0 && listen(fd, backlog) == 0) {
            addr_free(&addr);
            listener_add(list, fd)->own = 1;
            return (0);
        }
        saved_errno = errno;
        close(fd);
        errno = saved_errno;
        if (!addr.wildcard || errno != EADDRNOTAVAIL)
            break;
        addr_wildcard_ipv4(&addr);      /* IPv6 is there but disabled */
    }
    *err = myasprintf("listen address \"%s\": %s", spec, strerror(errno));
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

/* listener_close - close one listener */
void    listener_close(SS_LISTENER *lp)
{
    if (lp->fd >= 0) {
        close(lp->fd);
        lp->fd = -1;
    }
}

