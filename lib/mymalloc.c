/*
 * mymalloc.c - memory allocation that never returns NULL
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"

/* mymalloc - allocate or die */
void   *mymalloc(size_t len)
{
    void   *ptr = malloc(len ? len : 1);

    if (ptr == 0)
        ss_msg_fatal("out of memory allocating %zu bytes", len);
    return (ptr);
}

/* mycalloc - allocate zeroed memory or die */
void   *mycalloc(size_t count, size_t len)
{
    void   *ptr = calloc(count ? count : 1, len ? len : 1);

    if (ptr == 0)
        ss_msg_fatal("out of memory allocating %zu x %zu bytes", count, len);
    return (ptr);
}

/* myrealloc - resize or die */
void   *myrealloc(void *ptr, size_t len)
{
    void   *new = realloc(ptr, len ? len : 1);

    if (new == 0)
        ss_msg_fatal("out of memory resizing to %zu bytes", len);
    return (new);
}

/* mystrdup - copy a string */
char   *mystrdup(const char *str)
{
    return (mystrndup(str, strlen(str)));
}

/* mystrndup - copy at most len bytes of a string */
char   *mystrndup(const char *str, size_t len)
{
    size_t  n = strnlen(str, len);
    char   *copy = mymalloc(n + 1);

    memcpy(copy, str, n);
    copy[n] = 0;
    return (copy);
}

/* myasprintf - format into a new string */
char   *myasprintf(const char *fmt,...)
{
    va_list ap;
    char   *out;

    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0)
        ss_msg_fatal("out of memory formatting a string");
    va_end(ap);
    return (out);
}

/* myfree - release memory */
void    myfree(void *ptr)
{
    free(ptr);
}
