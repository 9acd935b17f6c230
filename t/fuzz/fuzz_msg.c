/*
 * fuzz_msg.c - the logging functions, for the fuzz targets only
 *
 * The parsers under test are pure: they never log, and they only reach
 * msg.c through mymalloc.c (out of memory: fatal) and param.c (a table
 * that declares a name twice: panic). lib/msg.c itself would write to
 * syslog and exit(), which libFuzzer reports less clearly than a crash;
 * here every one of them prints its line and abort()s, so that a parser
 * that logs at all is a finding, with a stack trace, and nothing goes to
 * syslog. Linked into every target that needs mymalloc.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "msg.h"

int     ss_msg_verbose;

/* fuzz_msg_abort - print one line, then crash */
static _Noreturn void fuzz_msg_abort(const char *level, const char *fmt,
                                             va_list ap)
{
    fprintf(stderr, "fuzz: a pure parser logged: %s: ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    abort();
}

#define FUZZ_MSG(level) do { \
	va_list ap; \
	va_start(ap, fmt); \
	fuzz_msg_abort((level), fmt, ap); \
    } while (0)

void    ss_msg_info(const char *fmt,...)
{
    FUZZ_MSG("info");
}

void    ss_msg_warn(const char *fmt,...)
{
    FUZZ_MSG("warning");
}

void    ss_msg_error(const char *fmt,...)
{
    FUZZ_MSG("error");
}

void    ss_msg_fatal(const char *fmt,...)
{
    FUZZ_MSG("fatal");
}

void    ss_msg_fatal_status(int status, const char *fmt,...)
{
    (void) status;
    FUZZ_MSG("fatal");
}

void    ss_msg_usage(const char *fmt,...)
{
    FUZZ_MSG("fatal");
}

void    ss_msg_panic(const char *fmt,...)
{
    FUZZ_MSG("panic");
}
