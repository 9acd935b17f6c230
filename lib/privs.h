#ifndef SS_PRIVS_H
#define SS_PRIVS_H

/*++
 * NAME
 *	privs 3
 * SUMMARY
 *	chroot and give up root privileges
 * SYNOPSIS
 *	#include <privs.h>
 *
 *	int	privs_lookup(const char *spec, PRIVS *privs, char **err);
 *	void	privs_chroot(const char *dir);
 *	void	privs_drop(const PRIVS *privs);
 *	int	privs_current(const PRIVS *privs);
 *	void	privs_dumpable(int on);
 * DESCRIPTION
 *	privs_lookup() resolves "user" or "user:group" (names or numbers),
 *	and the user's supplementary groups, while the user and group
 *	databases are still reachable, that is before any chroot. Root
 *	(uid 0) is refused.
 *
 *	privs_chroot() changes the root to dir and the working directory
 *	to the new "/".
 *
 *	privs_current() tells whether the real and effective user and group
 *	IDs are already those of privs (a process that dropped them and then
 *	re-executed itself has nothing left to drop).
 *
 *	privs_drop() sets the supplementary groups (the user's, or only the
 *	given group with "user:group"), then the gid, then the uid, in that
 *	order, and checks that root cannot be had back.
 *
 *	privs_dumpable() with on 0 makes the process non-dumpable
 *	(PR_SET_DUMPABLE): processes of the same user can neither ptrace
 *	it nor read its /proc files (environ, fds), and it dumps no core.
 *	execve() undoes it: a re-executed image calls it again.
 * DIAGNOSTICS
 *	privs_lookup() returns -1 with *err set for an unknown or root user
 *	or an unknown group. privs_chroot(), privs_drop() and
 *	privs_dumpable() are fatal on failure (exit 111). Errors about spec
 *	or dir begin with where the user or chroot_directory parameter was
 *	set (param_where()).
 *--*/

#include <sys/types.h>

typedef struct PRIVS {
    char   *name;
    uid_t   uid;
    gid_t   gid;
    gid_t  *groups;                     /* supplementary groups */
    int     ngroups;
} PRIVS;

extern int privs_lookup(const char *, PRIVS *, char **);
extern void privs_chroot(const char *);
extern void privs_drop(const PRIVS *);
extern int privs_current(const PRIVS *);
extern void privs_dumpable(int);

#endif
