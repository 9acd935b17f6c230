#ifndef SS_PARAM_H
#define SS_PARAM_H

/*++
 * NAME
 *	param 3
 * SUMMARY
 *	typed parameter tables in Postfix main.cf syntax
 * SYNOPSIS
 *	#include <param.h>
 *
 *	PARAM_SET *param_set_create(void);
 *	void	param_set_add(PARAM_SET *set, const SS_PARAM_DEF *table);
 *	void	param_set_default(PARAM_SET *set, const char *name,
 *				const char *value);
 *	void	param_set_runtime(PARAM_SET *set, const char *name,
 *				const char *value);
 *	int	param_set_read_file(PARAM_SET *set, const char *path,
 *				char **err);
 *	int	param_set_read_stream(PARAM_SET *set, FILE *fp,
 *				const char *label, char **err);
 *	int	param_set_override(PARAM_SET *set, const char *assignment,
 *				const char *label, char **err);
 *	int	param_set_finish(PARAM_SET *set, char **err);
 *	void	param_set_print(PARAM_SET *set, FILE *fp, int all);
 *	void	param_set_publish(PARAM_SET *set);
 *	const char *param_where(const char *name);
 *	int	param_set_given(PARAM_SET *set, const char *name);
 *	void	param_set_free(PARAM_SET *set);
 * DESCRIPTION
 *	A SS_PARAM_DEF table (ended by SS_PARAM_DEF_END) declares each parameter:
 *	name, type, default text, bounds and where the converted value goes.
 *	Build entries with the macros below, which check the target's type:
 *	SS_PARAM_DEF_INT and SS_PARAM_DEF_TIME (long, within [min, max]; a time is
 *	in seconds, written with an optional unit s, m, h, d, w),
 *	SS_PARAM_DEF_MODE (long, octal file mode), SS_PARAM_DEF_BOOL (int) and
 *	SS_PARAM_DEF_STR (char *, a copy owned by the caller afterwards).
 *
 *	param_set_add() adds a table (more than one table may be added, for
 *	example the skeleton's and an application's); a name declared twice
 *	is a bug (panic). param_set_default() replaces a default at run time.
 *	param_set_runtime() does too, for a value that describes the
 *	running process (process_id): param_set_print() leaves it out.
 *
 *	param_set_read_file() and param_set_read_stream() read main.cf
 *	syntax: "name = value" lines; blank lines and lines whose first
 *	non-blank character is "#" are ignored; a line that starts with
 *	white space continues the previous logical line; white space around
 *	names and values is dropped. The last assignment wins.
 *	param_set_override() takes one "name=value" (the -o option); it wins
 *	over files read before or after it. Errors name it by label, or as
 *	"-o name=value" when label is null. A value may not hold a line
 *	break, and "name = value" may not be longer than a file's line may.
 *
 *	param_set_finish() expands "$name", "${name}" and "$(name)" (and
 *	"$$" as a literal "$") in every value, converts each to its type,
 *	checks bounds, and stores the results in the targets.
 *
 *	param_set_print() writes "name = value" lines, one a parameter in
 *	table order, each value as written ("$name" not expanded): with all,
 *	every parameter; otherwise those whose text differs from the
 *	default's. Read back as a file, the output gives the same values.
 *
 *	param_set_publish() names the set that param_where() asks (a null
 *	set or param_set_free() of it: none). param_where() returns
 *	"ORIGIN: parameter NAME" ("FILE, line N" or "-o name=value" as
 *	ORIGIN), "parameter NAME (default)", or "parameter NAME" when no
 *	published set has it: the start of an error about a value that is
 *	checked after param_set_finish() (a user name, a facility, a
 *	network list); errors of the functions above start the same way.
 *	The string belongs to the set and lasts as long as the value; one
 *	for a name no set has lasts as long as the process.
 *
 *	param_set_given() tells whether a file or an override set the
 *	parameter (1), or it has its default (0), for a warning about a
 *	value that has no effect.
 * DIAGNOSTICS
 *	Functions that take "err" return 0 on success; on failure they
 *	return -1 and set *err to a new string (free it with myfree()) that
 *	names the file and line (or the -o option) and the parameter:
 *	an unknown name, a malformed line, a value of the wrong syntax, out
 *	of bounds, a reference to an unknown parameter or an expansion loop.
 *--*/

#include <stdio.h>

#include "single_server.h"		/* SS_PARAM_DEF */

typedef struct PARAM_SET PARAM_SET;

extern PARAM_SET *param_set_create(void);
extern void param_set_add(PARAM_SET *, const SS_PARAM_DEF *);
extern void param_set_default(PARAM_SET *, const char *, const char *);
extern int param_set_read_file(PARAM_SET *, const char *, char **);
extern int param_set_read_stream(PARAM_SET *, FILE *, const char *, char **);
extern int param_set_override(PARAM_SET *, const char *, const char *,
                                      char **);
extern void param_set_runtime(PARAM_SET *, const char *, const char *);
extern int param_set_finish(PARAM_SET *, char **);
extern void param_set_print(PARAM_SET *, FILE *, int);
extern void param_set_publish(PARAM_SET *);
extern const char *param_where(const char *);
extern int param_set_given(PARAM_SET *, const char *);
extern void param_set_free(PARAM_SET *);

#endif
