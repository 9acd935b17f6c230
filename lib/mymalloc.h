#ifndef SS_MYMALLOC_H
#define SS_MYMALLOC_H

/*++
 * NAME
 *	mymalloc 3
 * SUMMARY
 *	memory allocation that never returns NULL
 * SYNOPSIS
 *	#include <mymalloc.h>
 *
 *	void   *mymalloc(size_t len);
 *	void   *mycalloc(size_t count, size_t len);
 *	void   *myrealloc(void *ptr, size_t len);
 *	char   *mystrdup(const char *str);
 *	char   *mystrndup(const char *str, size_t len);
 *	char   *myasprintf(const char *fmt, ...);
 *	void	myfree(void *ptr);
 * DESCRIPTION
 *	Wrappers around the libc allocator. On failure they log a fatal
 *	"out of memory" error (exit 111) instead of returning NULL, so no
 *	caller checks. myasprintf() formats into a new string. myfree()
 *	accepts NULL.
 *--*/

#include <stddef.h>

#include "msg.h"

extern void *mymalloc(size_t);
extern void *mycalloc(size_t, size_t);
extern void *myrealloc(void *, size_t);
extern char *mystrdup(const char *);
extern char *mystrndup(const char *, size_t);
extern char *myasprintf(const char *,...) SS_MSG_PRINTF(1, 2);
extern void myfree(void *);

#endif
