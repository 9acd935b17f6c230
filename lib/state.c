/*
 * state.c - files in $state_directory, checked before they are trusted
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mymalloc.h"
#include "state.h"

/* state_check_dir - make the directory, or refuse an unsafe one */
static int state_check_dir(const char *dir, char **err)
{
    struct stat st;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        *err = myasprintf("state_directory %s: cannot create: %s", dir,
                          strerror(errno));
        return (-1);
    }
    if (lstat(dir, &st) < 0) {
        *err = myasprintf("state_directory %s: %s", dir, strerror(errno));
        return (-1);
    }
    if (!S_ISDIR(st.st_mode))
        *err = myasprintf("state_directory %s: not a directory", dir);
    else if (st.st_uid != geteuid())
        *err = myasprintf("state_directory %s: owned by uid %ld, not by us "
                          "(uid %ld)", dir, (long) st.st_uid, (long) geteuid());
    else if (st.st_mode & 022)
        *err = myasprintf("state_directory %s: writable by group or others "
                          "(mode %03o)", dir, (unsigned) (st.st_mode & 0777));
    else
        return (0);
    return (-1);
}

/* state_path - a file name from the service name, nothing but [-._A-Za-z0-9] */
char   *state_path(const char *dir, const char *service, const char *suffix)
{
    char   *name = myasprintf("%s.%s", service, suffix);
    char   *cp;
    char   *path;

    for (cp = name; *cp; cp++)
        if (!(*cp >= 'a' && *cp <= 'z') && !(*cp >= 'A' && *cp <= 'Z')
            && !(*cp >= '0' && *cp <= '9') && *cp != '-' && *cp != '_'
            && *cp != '.')
            *cp = '_';
    if (name[0] == '.')
        name[0] = '_';
    path = myasprintf("%s/%s", dir, name);
    myfree(name);
    return (path);
}

/* state_open - the service's file with this suffix, checked */
int     state_open(const char *dir, const char *service, const char *suffix,
                           char **pathp, char **err)
{
    struct stat st;
    int     fd;
    char   *path;

    if (state_check_dir(dir, err) < 0)
        return (-1);
    path = state_path(dir, service, suffix);
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = errno == ELOOP ?
            myasprintf("state file %s: is a symbolic link; not followed", path)
            : myasprintf("state file %s: %s", path, strerror(errno));
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
