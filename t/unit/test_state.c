/*
 * test_state.c - the state directory is checked and used as one object:
 * swapped for a symbolic link right after its check, it still gets the
 * file, and the place the link points to gets nothing
 *
 * The swap is made from inside the check: this program defines fstat()
 * and lstat(), which state.c (linked in statically) calls instead of
 * libc's; each asks the kernel, then, once armed, renames the directory
 * away and puts a symbolic link to another directory in its place.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mymalloc.h"
#include "state.h"
#include "tap.h"

static char dir[256];                   /* the state directory */
static char moved[256];                 /* where it goes */
static char evil[256];                  /* where the link points */
static int armed;

/* swap - the directory is moved away; a link to evil takes its place */
static void swap(void)
{
    if (!armed)
        return;
    armed = 0;
    if (rename(dir, moved) < 0 || symlink(evil, dir) < 0) {
        perror("swap");
        exit(1);
    }
}

int     fstat(int fd, struct stat *st)
{
    int     ret = fstatat(fd, "", st, AT_EMPTY_PATH);

    if (ret == 0 && S_ISDIR(st->st_mode))
        swap();
    return (ret);
}

int     lstat(const char *path, struct stat *st)
{
    int     ret = fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);

    if (ret == 0 && S_ISDIR(st->st_mode))
        swap();
    return (ret);
}

/* exists - is there a file at dir/name? */
static int exists(const char *where, const char *name)
{
    char    path[600];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", where, name);
    return (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
}

int     main(void)
{
    char    top[] = "/tmp/test_state.XXXXXX";
    char   *err = 0;
    char   *path = 0;
    int     fd;

    if (mkdtemp(top) == 0) {
        perror("mkdtemp");
        return (1);
    }
    snprintf(dir, sizeof(dir), "%s/state", top);
    snprintf(moved, sizeof(moved), "%s/moved", top);
    snprintf(evil, sizeof(evil), "%s/evil", top);
    if (mkdir(dir, 0700) < 0 || mkdir(evil, 0700) < 0) {
        perror("mkdir");
        return (1);
    }

    armed = 1;
    fd = state_open(dir, "svc", "flow", &path, &err);
    ok(armed == 0, "the directory was swapped during the check");
    ok(fd >= 0, "the file opened: %s", fd >= 0 ? path : err);
    ok(!exists(evil, "svc.flow"),
       "nothing was made where the symbolic link points");
    ok(exists(moved, "svc.flow"), "the file is in the directory checked");

    /* once a link, the directory is refused as one */
    fd = state_open(dir, "svc", "flow", 0, &err);
    ok(fd < 0 && strstr(err, "not a directory") != 0,
       "a symbolic link as state_directory is refused: %s", fd < 0 ? err : "");

    myfree(path);
    myfree(err);
    (void) unlink(dir);                 /* the link */
    (void) unlinkat(AT_FDCWD, evil, AT_REMOVEDIR);
    if (chdir(moved) == 0)
        (void) unlink("svc.flow");
    (void) unlinkat(AT_FDCWD, moved, AT_REMOVEDIR);
    (void) unlinkat(AT_FDCWD, top, AT_REMOVEDIR);
    return (done_testing());
}
