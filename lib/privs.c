/*
 * privs.c - chroot and give up root privileges
 *
 * The order matters: supplementary groups and the gid can only be
 * changed while we are still root, so they go first; the uid goes last.
 * Checking that setuid(0) now fails catches a platform where one of the
 * calls quietly changed less than we asked.
 *
 * Why non-dumpable: every other process of the same user (a handler, or
 * anything else running as nobody) could otherwise ptrace us, or read
 * /proc/PID/environ and take our listening sockets and clients. setuid()
 * clears the flag only as fs.suid_dumpable says, and execve() sets it
 * again when the credentials do not change: a re-executed image would be
 * dumpable. So it is set here, by hand, each time.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "conv.h"
#include "msg.h"
#include "mymalloc.h"
#include "param.h"
#include "privs.h"

/* privs_group - a group name or number */
static int privs_group(const char *name, gid_t *gid)
{
    struct group *gr;
    long    num;

    if ((gr = getgrnam(name)) != 0) {
        *gid = gr->gr_gid;
        return (0);
    }
    if (conv_long(name, 0, 0x7fffffff, &num) == CONV_OK) {
        *gid = (gid_t) num;
        return (0);
    }
    return (-1);
}

/* privs_groups - the user's group list, read now (before any chroot) */
static void privs_groups(PRIVS *privs)
{
    int     n = 16;

    for (;;) {
        privs->groups = myrealloc(privs->groups, n * sizeof(gid_t));
        privs->ngroups = n;
        if (getgrouplist(privs->name, privs->gid, privs->groups,
                         &privs->ngroups) >= 0)
            return;
        if (privs->ngroups <= n)
            n *= 2;
        else
            n = privs->ngroups;
    }
}

/* privs_lookup - resolve user[:group] */
int     privs_lookup(const char *spec, PRIVS *privs, char **err)
{
    char   *user = mystrdup(spec);
    char   *group = strchr(user, ':');
    struct passwd *pw;
    long    num;

    if (group)
        *group++ = 0;
    memset(privs, 0, sizeof(*privs));
    if ((pw = getpwnam(user)) == 0
        && conv_long(user, 0, 0x7fffffff, &num) == CONV_OK)
        pw = getpwuid((uid_t) num);
    if (pw == 0) {
        *err = myasprintf("%s: unknown user \"%s\"", param_where("user"),
                          user);
    } else if (pw->pw_uid == 0) {
        *err = myasprintf("%s: \"%s\" is root; handlers must not run as "
                          "root", param_where("user"), user);
    } else if (group && privs_group(group, &privs->gid) < 0) {
        *err = myasprintf("%s: unknown group \"%s\"", param_where("user"),
                          group);
    } else {
        privs->name = mystrdup(pw->pw_name);
        privs->uid = pw->pw_uid;
        if (group) {
            privs->groups = mymalloc(sizeof(gid_t));
            privs->groups[0] = privs->gid;
            privs->ngroups = 1;
        } else {
            privs->gid = pw->pw_gid;
            privs_groups(privs);
        }
        myfree(user);
        return (0);
    }
    myfree(user);
    return (-1);
}

/* privs_chroot - change the root and go there */
void    privs_chroot(const char *dir)
{
    /* Log times are local: the zone's file is out of reach after this. */
    ss_msg_tz_load();
    if (chroot(dir) < 0)
        ss_msg_fatal("%s: chroot %s: %m", param_where("chroot_directory"),
                     dir);
    if (chdir("/") < 0)
        ss_msg_fatal("chdir / in %s: %m", dir);
}

/* privs_current - are we running as that user already (a re-execution)? */
int     privs_current(const PRIVS *privs)
{
    return (getuid() == privs->uid && geteuid() == privs->uid
            && getgid() == privs->gid && getegid() == privs->gid);
}

/* privs_drop - groups, gid, uid, then check */
void    privs_drop(const PRIVS *privs)
{
    if (setgroups((size_t) privs->ngroups, privs->groups) < 0)
        ss_msg_fatal("setting the groups of user %s: %m", privs->name);
    if (setgid(privs->gid) < 0)
        ss_msg_fatal("setgid %ld: %m", (long) privs->gid);
    if (setuid(privs->uid) < 0)
        ss_msg_fatal("setuid %ld: %m", (long) privs->uid);
    if (setuid(0) == 0 || geteuid() == 0)
        ss_msg_fatal("root privileges could be regained after dropping them");
}

/* privs_dumpable - may processes of our own user ptrace us (Linux)? */
void    privs_dumpable(int on)
{
    if (prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0) < 0)
        ss_msg_fatal("prctl PR_SET_DUMPABLE %d: %m", on ? 1 : 0);
}
