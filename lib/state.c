/*
 * state.c - files in $state_directory, checked before they are trusted
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdbase.h"
#include "mymalloc.h"
#include "param.h"
#include "state.h"

/*
 * state_dir - make the directory, open it, and refuse an unsafe one. The
 * checks are made on the descriptor that the file is then opened under:
 * checking a path and opening "dir/name" later would let the directory
 * be swapped for a symbolic link to another one in between. The errors
 * name where state_directory was set: -o, or a file and its line.
 */
static int state_dir(const char *dir, char **err)
{
    const char *where = param_where("state_directory");
    struct stat st;
    int     fd;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        *err = myasprintf("%s: %s: cannot create: %s", where, dir,
                          strerror(errno));
        return (-1);
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        *err = errno == ENOTDIR || errno == ELOOP ?
            myasprintf("%s: %s: not a directory", where, dir)
            : myasprintf("%s: %s: %s", where, dir, strerror(errno));
        return (-1);
    }
    if (fstat(fd, &st) < 0)
        *err = myasprintf("%s: %s: %s", where, dir, strerror(errno));
    else if (st.st_uid != geteuid())
        *err = myasprintf("%s: %s: owned by uid %ld, not by us (uid %ld)",
                          where, dir, (long) st.st_uid, (long) geteuid());
    else if (st.st_mode & 022)
        *err = myasprintf("%s: %s: writable by group or others (mode %03o)",
                          where, dir, (unsigned) (st.st_mode & 0777));
    else
        return (fd);
    close(fd);
    return (-1);
}

/* state_name - the file's name alone, nothing but [-._A-Za-z0-9] */
static char *state_name(const char *service, const char *suffix)
{
    char   *name = myasprintf("%s.%s", service, suffix);
    char   *cp;

    for (cp = name; *cp; cp++)
        if (!(*cp >= 'a' && *cp <= 'z') && !(*cp >= 'A' && *cp <= 'Z')
            && !(*cp >= '0' && *cp <= '9') && *cp != '-' && *cp != '_'
            && *cp != '.')
            *cp = '_';
    if (name[0] == '.')
        name[0] = '_';
    return (name);
}

/* state_path - the file's path, for messages and for flow_adopt() */
char   *state_path(const char *dir, const char *service, const char *suffix)
{
    char   *name = state_name(service, suffix);
    char   *path = myasprintf("%s/%s", dir, name);

    myfree(name);
    return (path);
}

/* state_open - the service's file with this suffix, checked */
int     state_open(const char *dir, const char *service, const char *suffix,
                           char **pathp, char **err)
{
    struct stat st;
    int     dirfd;
    int     fd;
    int     saved_errno;
    char   *name;
    char   *path;

    if ((dirfd = state_dir(dir, err)) < 0)
        return (-1);
    name = state_name(service, suffix);
    path = myasprintf("%s/%s", dir, name);
    /* Kept for the process's life: above the descriptor base. */
    fd = fdbase_lift(openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW
                            | O_NONBLOCK | O_CLOEXEC, 0600));
    saved_errno = errno;
    myfree(name);
    close(dirfd);
    if (fd < 0) {
        *err = saved_errno == ELOOP ?
            myasprintf("state file %s: is a symbolic link; not followed", path)
            : myasprintf("state file %s: %s", path, strerror(saved_errno));
    } else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *err = myasprintf("state file %s: not a regular file", path);
    } else if (st.st_uid != geteuid()) {
        *err = myasprintf("state file %s: owned by uid %ld, not by us",
                          path, (long) st.st_uid);
    } else {
        if (pathp)
            *pathp = path;
        else
            myfree(path);
        return (fd);
    }
    if (fd >= 0)
        close(fd);
    myfree(path);
    return (-1);
}
