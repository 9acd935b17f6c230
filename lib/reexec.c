/*
 * reexec.c - a resident server replaces its own image, keeping its pid
 *
 * Why: with listening sockets of its own (-L) nobody else holds them, so
 * exiting at max_use or to reload would refuse every client until a
 * supervisor started the tool again. Instead the tool execs itself: the
 * listening sockets stay open across execve() (the backlog waits for a
 * few milliseconds), running handlers stay our children (same pid), and
 * handover.c describes the rest to the new image.
 *
 * The program is the one at the path we were started from, so that a
 * binary replaced on disk takes over (an upgrade); before the exec it
 * runs with --check, and only a passing check is followed by the exec.
 *
 * Under -u the exec is made by the user we run as, and execve() of a
 * file its caller can read leaves the new image dumpable: every process
 * of that user (a handler) could ptrace it, and take our listeners and
 * clients, until the image makes itself non-dumpable again in main(),
 * after the dynamic loader and the C library's start. Of a file the
 * caller cannot read, the kernel keeps the new image non-dumpable from
 * the exec on. So, unless the program is unreadable already (installed
 * mode 0711), the exec is of a private copy that we may run but not read:
 * an anonymous file (memfd), mode 0100, made by the image that leaves.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "child.h"
#include "conv.h"
#include "fdbase.h"
#include "msg.h"
#include "mymalloc.h"
#include "notify.h"
#include "skeleton.h"
#include "spawn_cmd.h"
#include "timer.h"

extern char **environ;

/* The fallback last warned about, in this process's life (all images). */
static char *reexec_warned;

/*
 * reexec_running_file - the file we run now, unless it is a copy (a memfd,
 * "/memfd:NAME (deleted)") or gone: nothing to run again by its path
 */
static char *reexec_running_file(void)
{
    char    buf[PATH_MAX];
    ssize_t n;
    static const char deleted[] = " (deleted)";

    if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) <= 0)
        return (0);
    buf[n] = 0;
    if (strncmp(buf, "/memfd:", 7) == 0 || ((size_t) n >= sizeof(deleted) - 1
        && strcmp(buf + n - (sizeof(deleted) - 1), deleted) == 0))
        return (0);
    return (mystrdup(buf));
}

/* reexec_path_of - the absolute path of argv[0], or null */
static char *reexec_path_of(const char *argv0)
{
    char    cwd[PATH_MAX];
    char   *path = 0;

    if (argv0[0] == '/')
        return (mystrdup(argv0));
    if (strchr(argv0, '/') && getcwd(cwd, sizeof(cwd)) != 0)
        return (myasprintf("%s/%s", cwd, argv0));
    if (strchr(argv0, '/') == 0 && spawn_cmd_resolve(argv0, &path) == 0
        && path[0] == '/')
        return (path);
    myfree(path);
    /* Last resort: the file we run now (an upgrade then needs a restart). */
    return (reexec_running_file());
}

/*
 * reexec_self_path - the absolute path we were started from. A
 * re-executed image gets it from the one before (REEXEC_PROGRAM_ENV):
 * its argv[0] is the first image's, and the file it runs is a copy, so
 * that neither may say it. An image before that variable gives none.
 */
char   *reexec_self_path(const char *argv0, int handed_over)
{
    const char *given = getenv(REEXEC_PROGRAM_ENV);
    char   *path = 0;

    if (handed_over && given && given[0] == '/')
        path = mystrdup(given);
    unsetenv(REEXEC_PROGRAM_ENV);       /* ours, not the handlers' */
    return (path ? path : reexec_path_of(argv0));
}

/* reexec_stamp_file - identity and age of one file, appended to buf */
void    reexec_stamp_file(const char *path, char *buf, size_t len)
{
    struct stat st;
    size_t  used = strlen(buf);

    if (path == 0 || stat(path, &st) < 0)
        memset(&st, 0, sizeof(st));
    snprintf(buf + used, len - used, "%lx:%lx:%lld.%09ld:%lld;",
             (unsigned long) st.st_dev, (unsigned long) st.st_ino,
             (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
             (long long) st.st_size);
}

/* reexec_stamp_list - each file of a comma or space separated list */
void    reexec_stamp_list(const char *list, char *buf, size_t len)
{
    char   *copy = mystrdup(list);
    char   *save = 0;
    char   *cp;

    for (cp = strtok_r(copy, ", \t\r\n", &save); cp;
         cp = strtok_r(0, ", \t\r\n", &save))
        reexec_stamp_file(cp, buf, len);
    myfree(copy);
}

/* reexec_stamp - what identifies the program and parameter file on disk */
void    reexec_stamp(SKELETON *sk, char *buf, size_t len)
{
    buf[0] = 0;
    reexec_stamp_file(sk->re.self_path, buf, len);
    reexec_stamp_file(sk->opts.config_file, buf, len);
    if (sk->re.rules_path)
        reexec_stamp_file(sk->re.rules_path, buf, len);
    if (sk->re.tls_files)
        reexec_stamp_list(sk->re.tls_files, buf, len);
}

/* reexec_changed - has the program or parameter file changed since then? */
int     reexec_changed(SKELETON *sk, const char *then)
{
    char    now[sizeof(sk->re.stamp)];

    reexec_stamp(sk, now, sizeof(now));
    return (strcmp(now, then) != 0);
}

/* reexec_probe_event - never runs: the probe is taken off at once */
static void reexec_probe_event(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
}

/*
 * reexec_ms_left - milliseconds until a pending timer fires, or -1. The
 * difference is taken on libevent's monotonic clock only: its timers
 * expire on that clock, and event_pending() reports an expiry as that
 * time plus its idea of the wall clock's lead, which it resyncs now and
 * then. A probe timer armed for no time now expires at libevent's now,
 * and is reported with the same lead, which cancels out: a wall clock
 * step moves no deadline handed over. (Against gettimeofday() the step
 * would count until libevent next resyncs: a time limit ended at once,
 * or 1000 s late.) One probe per call; a handover is not per client.
 */
long    reexec_ms_left(struct event_base *base, struct event *ev)
{
    static const struct timeval zero = {0, 0};
    struct event *probe;
    struct timeval when;
    struct timeval now;
    long    ms;

    if (!evtimer_pending(ev, 0))
        return (-1);
    if ((probe = evtimer_new(base, reexec_probe_event, 0)) == 0)
        ss_msg_fatal("evtimer_new: out of memory");
    timer_arm(probe, &zero);
    (void) evtimer_pending(probe, &now);
    (void) evtimer_pending(ev, &when);
    event_free(probe);
    ms = (when.tv_sec - now.tv_sec) * 1000 + (when.tv_usec - now.tv_usec) / 1000;
    return (ms < 0 ? 0 : ms);
}

/*
 * reexec_check - start "PROGRAM --check ARGS..."; its pid, or -1. Started
 * as handlers are (spawn_cmd): default signals, an empty mask, only fds
 * 0-2 (here /dev/null, /dev/null and our stderr). Made once, kept; the
 * signals to reset are looked at again each time.
 */
pid_t   reexec_check(SKELETON *sk)
{
    static SPAWN_CMD cmd;
    static char **argv;

    if (argv == 0) {
        argv = mycalloc(sk->re.argc + 2, sizeof(char *));
        argv[0] = sk->re.argv[0];
        argv[1] = "--check";
        memcpy(argv + 2, sk->re.argv + 1, (sk->re.argc - 1) * sizeof(char *));
        spawn_cmd_init(&cmd, sk->re.self_path, argv, environ, 0);
    } else {
        spawn_cmd_signals(&cmd);        /* a program may catch more now */
    }
    return (spawn_cmd_start(&cmd, sk->devnull, sk->devnull, -1, 0, 0));
}

/*
 * reexec_room - can the exec be done now? The listeners are copied into
 * place (one spare descriptor each, and one for a move), and the handover
 * is one environment string, which Linux takes up to 128 kB of.
 */
int     reexec_room(SKELETON *sk, size_t items, char **why)
{
    struct rlimit rl;
    DIR    *dir;
    long    open_fds = 0;

    if (items > REEXEC_ITEMS_MAX) {
        *why = myasprintf("%zu handlers and clients in flight, more than "
                          "%d can be handed over", items, REEXEC_ITEMS_MAX);
        return (0);
    }
    if ((dir = opendir("/proc/self/fd")) != 0) {
        while (readdir(dir) != 0)
            open_fds++;
        closedir(dir);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return (1);
    if (open_fds + (long) sk->listeners.count + 2 > (long) rl.rlim_cur) {
        *why = myasprintf("%ld of %ld descriptors in use", open_fds,
                          (long) rl.rlim_cur);
        return (0);
    }
    /* Stderr pipes are passed on from above the base (fdbase.h). */
    if ((long) rl.rlim_cur <= fdbase_get()) {
        *why = myasprintf("the descriptor limit %ld is at or below the "
                          "descriptor base %d", (long) rl.rlim_cur,
                          fdbase_get());
        return (0);
    }
    return (1);
}

/*
 * reexec_keep - fd at or above min, open across exec. Only a client is
 * ever moved: what is ours is above the descriptor base already.
 */
static int reexec_keep(int fd, int min)
{
    int     moved;

    if (fd >= min)
        moved = fd;
    else if ((moved = fcntl(fd, F_DUPFD, min)) < 0)
        ss_msg_fatal("re-execute: dup fd %d: %m", fd);
    else
        close(fd);
    if (fcntl(moved, F_SETFD, 0) < 0)
        ss_msg_fatal("re-execute: fcntl fd %d: %m", moved);
    return (moved);
}

/*
 * reexec_arrange - the listeners on fds 3.. as LISTEN_FDS wants them,
 * every fd the handover names above those and open across exec.
 *
 * Why the dup2()s clobber nothing of ours: every descriptor the tool
 * keeps for itself (/dev/null, the log socket, the event loop's, the
 * stderr pipes, the in-flow file) lives at or above the descriptor
 * base, which is above 3 + the listener count (fdbase.h). Below it are
 * only fds 0-2, listeners, clients (and what was inherited without a
 * meaning, which nothing uses): the listeners are copied out of each
 * other's way first, and the clients moved above the listeners' range.
 * So when execve() fails, the line saying so reaches the log, and the
 * image carries on with its loop intact.
 */
static void reexec_arrange(SKELETON *sk, HANDOVER *st)
{
    int     above = 3 + (int) sk->listeners.count;
    int    *tmp = mycalloc(sk->listeners.count + 1, sizeof(int));
    size_t  i;

    for (i = 0; i < st->nchildren; i++)
        if (st->children[i].log_fd >= 0)
            st->children[i].log_fd = reexec_keep(st->children[i].log_fd, above);
    for (i = 0; i < st->nclients; i++)
        st->clients[i].fd = reexec_keep(st->clients[i].fd, above);
    if (st->flow_fd >= 0)
        st->flow_fd = reexec_keep(st->flow_fd, above);
    /* Copies first: a listener may sit where another one must go. */
    for (i = 0; i < sk->listeners.count; i++)
        if ((tmp[i] = fcntl(sk->listeners.items[i].fd, F_DUPFD_CLOEXEC, above)) < 0)
            ss_msg_fatal("re-execute: dup listener: %m");
    for (i = 0; i < sk->listeners.count; i++) {
        if (dup2(tmp[i], 3 + (int) i) < 0)
            ss_msg_fatal("re-execute: dup2 listener: %m");
        close(tmp[i]);
    }
    myfree(tmp);
}

/* reexec_environ - ours, plus the sockets, the handover and NOTIFY_SOCKET */
static char **reexec_environ(SKELETON *sk, const HANDOVER *st)
{
    size_t  n = 0;
    size_t  i;
    char  **env;
    char   *text = handover_format(st);
    char   *lingering = handover_format_lingering(st);
    char   *names = mystrdup("");
    char   *tmp;

    while (environ[n])
        n++;
    env = mycalloc(n + 10, sizeof(char *));
    memcpy(env, environ, n * sizeof(char *));
    for (i = 0; i < sk->listeners.count; i++) {
        tmp = myasprintf("%s%s%s", names, i ? ":" : "",
                         sk->listeners.items[i].fdname ?
                         sk->listeners.items[i].fdname : "listen");
        myfree(names);
        names = tmp;
    }
    env[n++] = myasprintf("LISTEN_FDS=%zu", sk->listeners.count);
    env[n++] = myasprintf("LISTEN_PID=%ld", (long) getpid());
    env[n++] = myasprintf("LISTEN_FDNAMES=%s", names);
    env[n++] = myasprintf("%s=%s", HANDOVER_ENV, text);
    if (lingering)
        env[n++] = myasprintf("%s=%s", HANDOVER_LINGER_ENV, lingering);
    env[n++] = myasprintf("%s=%ld", REEXEC_COUNT_ENV, sk->re.count + 1);
    env[n++] = myasprintf("%s=%s", REEXEC_PROGRAM_ENV, sk->re.self_path);
    if (reexec_warned)
        env[n++] = myasprintf("%s=%s", REEXEC_WARNED_ENV, reexec_warned);
    if (notify_socket_path())
        env[n++] = myasprintf("NOTIFY_SOCKET=%s", notify_socket_path());
    myfree(text);
    myfree(lingering);
    myfree(names);
    return (env);
}

/* reexec_notify_reloading - systemd's reload protocol: RELOADING=1 first */
void    reexec_notify_reloading(void)
{
    struct timespec ts;
    char    buf[64];

    if (!notify_enabled())
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long) ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000);
    notify_send(buf);
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U                /* Linux 6.3: meant to be run */
#endif

#define REEXEC_MEMFD_NAME_MAX 249        /* NAME_MAX less "memfd:" */

/* This program's own ELF header (the linker's): class, byte order, CPU */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

/* reexec_vaddr - the file offset of a virtual address, or 0 */
static size_t reexec_vaddr(const char *map, const ElfW(Ehdr) *eh,
                                   ElfW(Addr) va)
{
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *) (map + eh->e_phoff);
    int     i;

    for (i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr
            && va - ph[i].p_vaddr < ph[i].p_filesz)
            return ((size_t) (va - ph[i].p_vaddr + ph[i].p_offset));
    return (0);
}

/*
 * reexec_unfit - why a program cannot run from a copy, or null: not an
 * ELF program of our class (a script's interpreter would have to read
 * the copy), or its library path (DT_RPATH, DT_RUNPATH) names $ORIGIN
 * (from a copy it would look for its libraries in the wrong place)
 */
static const char *reexec_unfit(const char *map, size_t size)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *) map;
    const ElfW(Phdr) *ph;
    const ElfW(Dyn) *dyn = 0;
    size_t  ndyn = 0, strtab = 0, i, off;
    int     n;

    if (size < sizeof(*eh) || memcmp(map, ELFMAG, SELFMAG) != 0
        || eh->e_ident[EI_CLASS] != __ehdr_start.e_ident[EI_CLASS]
        || eh->e_ident[EI_DATA] != __ehdr_start.e_ident[EI_DATA]
        || eh->e_machine != __ehdr_start.e_machine
        || eh->e_phentsize != sizeof(*ph) || eh->e_phoff > size
        || eh->e_phoff % sizeof(ElfW(Addr)) != 0
        || eh->e_phnum > (size - eh->e_phoff) / sizeof(*ph))
        return ("not an ELF program of this machine");
    ph = (const ElfW(Phdr) *) (map + eh->e_phoff);
    for (n = 0; n < eh->e_phnum; n++)
        if (ph[n].p_type == PT_DYNAMIC && ph[n].p_offset <= size
            && ph[n].p_filesz <= size - ph[n].p_offset
            && ph[n].p_offset % sizeof(ElfW(Addr)) == 0) {
            dyn = (const ElfW(Dyn) *) (map + ph[n].p_offset);
            ndyn = ph[n].p_filesz / sizeof(*dyn);
        }
    for (i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++)
        if (dyn[i].d_tag == DT_STRTAB)
            strtab = reexec_vaddr(map, eh, dyn[i].d_un.d_ptr);
    for (i = 0; strtab && i < ndyn && dyn[i].d_tag != DT_NULL; i++)
        if ((dyn[i].d_tag == DT_RPATH || dyn[i].d_tag == DT_RUNPATH)
            && ((off = strtab + dyn[i].d_un.d_val) >= size
                || memmem(map + off, strnlen(map + off, size - off),
                          "ORIGIN", 6) != 0))
            return ("its library path names $ORIGIN");
    return (0);
}

/* reexec_write - all of buf to fd, or -1 and why not */
static int reexec_write(int fd, const char *buf, size_t len, char **why)
{
    ssize_t n;

    while (len > 0) {
        if ((n = write(fd, buf, len)) > 0) {
            buf += n;
            len -= (size_t) n;
        } else if (n == 0 || errno != EINTR) {
            *why = n ? myasprintf("copying it: %m")
                : mystrdup("copying it: no room");
            return (-1);
        }
    }
    return (0);
}

/*
 * reexec_same - did the file stay as it was? Under -u the running image
 * is a copy, so the program file is not "text busy": it may be written in
 * place (cp new PROGRAM) while we copy it.
 */
static int reexec_same(const struct stat *a, const struct stat *b)
{
    return (a->st_dev == b->st_dev && a->st_ino == b->st_ino
            && a->st_size == b->st_size
            && a->st_mtim.tv_sec == b->st_mtim.tv_sec
            && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

/* reexec_fit - can the copy, now ours alone, run as one? */
static int reexec_fit(int fd, size_t size, char **why)
{
    char   *map;
    const char *unfit;

    if ((map = mmap(0, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        *why = myasprintf("mmap: %m");
        return (-1);
    }
    if ((unfit = reexec_unfit(map, size)) != 0)
        *why = mystrdup(unfit);
    munmap(map, size);
    return (*why ? -1 : 0);
}

/*
 * reexec_copy - the program from in to out, if it can run from a copy.
 * Read, not mapped: a file truncated under a mapping kills the reader
 * (SIGBUS), and us with every listener. What is checked is the copy,
 * which nobody else can change.
 */
static int reexec_copy(int in, int out, char **why)
{
    struct stat before;
    struct stat after;
    char    buf[32768];
    off_t   done = 0;
    ssize_t n;

    if (fstat(in, &before) < 0 || !S_ISREG(before.st_mode)) {
        *why = mystrdup("not a regular file");
        return (-1);
    }
    if (before.st_size < SELFMAG) {
        *why = mystrdup("too short to be a program");
        return (-1);
    }
    while (done <= before.st_size && (n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = myasprintf("reading it: %m");
            return (-1);
        }
        if (reexec_write(out, buf, (size_t) n, why) < 0)
            return (-1);
        done += n;
    }
    if (done != before.st_size || fstat(in, &after) < 0
        || !reexec_same(&before, &after)) {
        *why = mystrdup("it changed while being copied");
        return (-1);
    }
    return (reexec_fit(out, (size_t) done, why));
}

/*
 * reexec_why_memfd - why a copy could not be made or made executable:
 * vm.memfd_noexec (Linux 6.3) may forbid executable memfds to us
 */
static char *reexec_why_memfd(const char *call)
{
    if (errno == EACCES || errno == EPERM || errno == EINVAL)
        return (myasprintf("%s: %m; see sysctl vm.memfd_noexec", call));
    return (myasprintf("%s: %m", call));
}

/*
 * reexec_running_copy - the copy this image runs from, when it will do
 * again: the program file has not changed since this image started, and
 * it is a copy that we may run but not read (mode 0100, ours, no name).
 * An exec of it is non-dumpable from the start as the first one was, and
 * saves making and keeping another copy of the program at each
 * re-execution (with max_use 1, at each client).
 */
static int reexec_running_copy(SKELETON *sk)
{
    char    now[REEXEC_STAMP_LEN] = "";
    struct stat st;
    int     fd;

    reexec_stamp_file(sk->re.self_path, now, sizeof(now));
    if (strncmp(sk->re.stamp, now, strlen(now)) != 0)
        return (-1);                    /* an upgrade: copy the new one */
    if ((fd = fdbase_lift(open("/proc/self/exe", O_PATH | O_CLOEXEC))) < 0)
        return (-1);
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0
        && (st.st_mode & 07777) == S_IXUSR && st.st_uid == geteuid())
        return (fd);
    close(fd);
    return (-1);
}

/*
 * reexec_image - a descriptor of a private copy of the program, that we
 * may run but not read (see the top of this file); -1 with *why null when
 * none is needed (no -u, or the program is unreadable to us already), or
 * with why not. The copy is named after the program; the descriptor is
 * an O_PATH one, since execve() refuses a file open for writing. The
 * copy this image runs from serves again while the program is the same.
 */
static int reexec_image(SKELETON *sk, char **why)
{
    char    name[REEXEC_MEMFD_NAME_MAX + 1];
    char    path[64];
    int     in, fd, image = -1;

    *why = 0;
    /* Longer names make memfd_create() fail: shorten. */
    snprintf(name, sizeof(name), "%s", strrchr(sk->re.self_path, '/') + 1);
    if (!sk->opts.user)
        return (-1);
    if ((image = reexec_running_copy(sk)) >= 0)
        return (image);
    if ((in = fdbase_lift(open(sk->re.self_path, O_RDONLY | O_CLOEXEC))) < 0) {
        if (errno != EACCES)
            *why = myasprintf("open: %m");
        return (-1);
    }
    fd = memfd_create(name, MFD_CLOEXEC | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create(name, MFD_CLOEXEC);   /* before Linux 6.3 */
    fd = fdbase_lift(fd);               /* ours, like every other (fdbase.h) */
    if (fd < 0) {
        *why = reexec_why_memfd("memfd_create");
        close(in);
        return (-1);
    }
    /* Permissions count at open: ours stays writable. */
    if (fchmod(fd, S_IXUSR) < 0)
        *why = reexec_why_memfd("fchmod");
    else if (reexec_copy(in, fd, why) == 0) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if ((image = fdbase_lift(open(path, O_PATH | O_CLOEXEC))) < 0)
            *why = myasprintf("open %s: %m", path);
    }
    close(in);
    close(fd);
    return (image);
}

/*
 * reexec_exposed - the new image will be dumpable until its main(): say
 * so, once for each reason, for the whole life of the process (the last
 * reason warned about goes across re-executions: REEXEC_WARNED_ENV). A
 * fallback that starts later (a sysctl changed, a wrapper installed, out
 * of memory) is said too.
 */
static void reexec_exposed(SKELETON *sk, const char *why)
{
    if (reexec_warned && strcmp(reexec_warned, why) == 0)
        return;
    ss_msg_warn("re-execute: cannot run a copy of %s that the user "
                "we run as cannot read (%s) -- processes of that user "
                "may ptrace the new image while it starts; install the "
                "program mode 0711 (said once for each reason)",
                sk->re.self_path, why);
    myfree(reexec_warned);
    reexec_warned = mystrdup(why);
}

/* reexec_warned_take - what the images before this one warned about */
void    reexec_warned_take(int handed_over)
{
    const char *text = getenv(REEXEC_WARNED_ENV);

    if (handed_over && text && strlen(text) < 1024)
        reexec_warned = mystrdup(text);
    unsetenv(REEXEC_WARNED_ENV);        /* ours, not the handlers' */
}

/*
 * reexec_name - a re-executed image names itself after the program again:
 * run from a copy, it took the copy's name ("memfd:..." or a number)
 */
void    reexec_name(const char *self_path)
{
    const char *slash;

    if (self_path && (slash = strrchr(self_path, '/')) != 0 && slash[1])
        (void) prctl(PR_SET_NAME, slash + 1, 0, 0, 0);
}

/* reexec_exec - become the new image; returns only if that failed */
void    reexec_exec(SKELETON *sk, HANDOVER *st)
{
    sigset_t all;
    char  **env;
    char   *why;
    int     image;

    reexec_arrange(sk, st);
    if ((image = reexec_image(sk, &why)) < 0 && why) {
        reexec_exposed(sk, why);
        myfree(why);
    }
    env = reexec_environ(sk, st);      /* with what was warned about */

    /*
     * Signals wait until the new image has its handlers (the mask and
     * pending signals survive execve(); a SIGTERM now would kill us with
     * the default action). A watchdog alarm would survive it too.
     */
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, 0);
    alarm(0);
    if (image >= 0) {
        (void) fexecve(image, sk->re.argv, env);
        why = myasprintf("running it: %m");
        reexec_exposed(sk, why);
        myfree(why);
        close(image);
        env = reexec_environ(sk, st);  /* (a few bytes lost: we exec) */
    }
    execve(sk->re.self_path, sk->re.argv, env);
    ss_msg_warn("re-execute %s: %m -- trying the running program again",
             sk->re.self_path);
    execve("/proc/self/exe", sk->re.argv, env);
    ss_msg_fatal("re-execute /proc/self/exe: %m");
}

/*
 * reexec_take - the handover from a previous image, if there is one. A
 * line meant for another process (inherited from one that re-executed)
 * is not ours: its descriptors and pids mean nothing here.
 */
int     reexec_take(HANDOVER *st)
{
    const char *text = getenv(HANDOVER_ENV);
    const char *lingering = getenv(HANDOVER_LINGER_ENV);
    char   *err;

    memset(st, 0, sizeof(*st));
    st->flow_fd = -1;
    if (text == 0) {
        unsetenv(HANDOVER_LINGER_ENV);  /* stray: no handover came */
        return (0);
    }
    if (handover_parse(text, st, &err) < 0
        || (lingering && handover_parse_lingering(lingering, st, &err) < 0))
        ss_msg_fatal("%s", err);
    unsetenv(HANDOVER_ENV);
    unsetenv(HANDOVER_LINGER_ENV);
    if (st->pid != getpid()) {
        ss_msg_warn("%s is meant for pid %ld, not for us -- ignored",
                 HANDOVER_ENV, (long) st->pid);
        handover_free(st);
        return (0);
    }
    return (1);
}

/*
 * reexec_count - how many re-executions led to this image (SIGUSR1 says).
 * Not an item of the handover: an older image, after a downgrade, would
 * refuse a handover with an item it does not know, and exit. An image
 * from before the count was passed gives none: at least this one. At
 * most LONG_MAX - 1: reexec_environ() passes it on plus one.
 */
long    reexec_count(int handed_over)
{
    const char *text = getenv(REEXEC_COUNT_ENV);
    long    count = 0;

    if (handed_over && (text == 0
                        || conv_long(text, 1, LONG_MAX - 1, &count) != CONV_OK))
        count = 1;
    unsetenv(REEXEC_COUNT_ENV);         /* ours, not the handlers' */
    return (count);
}
