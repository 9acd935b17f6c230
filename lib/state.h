#ifndef SS_STATE_H
#define SS_STATE_H

/*++
 * NAME
 *	state 3
 * SUMMARY
 *	files in $state_directory, checked before they are trusted
 * SYNOPSIS
 *	#include <state.h>
 *
 *	int	state_open(const char *dir, const char *service,
 *			const char *suffix, char **path, char **err);
 *	char   *state_path(const char *dir, const char *service,
 *			const char *suffix);
 * DESCRIPTION
 *	The in-flow bucket and the master(8) accept lock are files named
 *	after the service in the state directory, shared by every process
 *	of the service. Another user must not be able to plant or swap
 *	them.
 *
 *	state_open() makes dir (mode 0700) when it is missing, and refuses
 *	a dir that is not a directory, not owned by us, or writable by
 *	group or others; then opens or creates "SERVICE.SUFFIX" there
 *	(mode 0600, read-write, close-on-exec) without following a
 *	symbolic link, and refuses anything but a regular file of ours. It
 *	returns the descriptor and, unless path is null, the file's name
 *	in *path (free with myfree()). Call it before privileges are
 *	dropped.
 *
 *	state_path() is that name alone: the service name with every byte
 *	outside [-._A-Za-z0-9] replaced by "_" (and no leading dot).
 * DIAGNOSTICS
 *	state_open() returns -1 with *err set (free with myfree()) when the
 *	directory or file is unsafe or cannot be made. A message about the
 *	directory starts with where the state_directory parameter was set
 *	(param_where()).
 *--*/

extern int state_open(const char *, const char *, const char *, char **,
                              char **);
extern char *state_path(const char *, const char *, const char *);

#endif
