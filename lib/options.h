#ifndef SS_OPTIONS_H
#define SS_OPTIONS_H

/*++
 * NAME
 *	options 3
 * SUMMARY
 *	the skeleton's command line
 * SYNOPSIS
 *	#include <options.h>
 *
 *	void	options_parse(OPTIONS *opts, int argc, char **argv,
 *			const char *operands, const char *help);
 *	void	options_error(const char *fmt, ...);
 * DESCRIPTION
 *	options_parse() reads every option of the skeleton with
 *	getopt_long(), stopping at the first operand (the handler's own
 *	options pass untouched); opts->first_operand is its index. -m, -i
 *	and -z become parameter overrides, kept in command-line order with
 *	the -o ones (the last wins), each with a label for error messages.
 *	--help prints the usage line and then help (the application's text
 *	about its options and operands, or nothing) on stdout, --version the
 *	version; both exit 0. --check sets opts->check; --print-config
 *	sets opts->print_config to OPTIONS_PRINT_SET, --print-config=all to
 *	OPTIONS_PRINT_ALL (the two modes do not go together); --remote and
 *	--local keep their addresses for stream mode. "operands" describes
 *	what follows the options on the usage line (for example "handler
 *	[arg ...]").
 *
 *	options_error() is a usage error found later (options that do not
 *	go together): one line, the usage line, exit 100.
 * DIAGNOSTICS
 *	A usage error (unknown option, missing or bad argument) prints one
 *	line naming the option and the usage line on stderr, and exits 100.
 *--*/

#include <stdio.h>
#include <stdnoreturn.h>

typedef struct OPTIONS_OVERRIDE {
    char   *assignment;                 /* name=value */
    char   *label;                      /* "-m 5", "-o max_use=5" */
} OPTIONS_OVERRIDE;

typedef struct OPTIONS {
    int     stream;                     /* -S */
    int     print_addresses;            /* -1 */
    int     chroot;                     /* -c */
    int     allow_tty;                  /* -d */
    int     debugger;                   /* -D */
    int     solitary;                   /* -l */
    int     user;                       /* -u */
    int     verbose;                    /* -v, repeatable */
    int     log_stderr;                 /* -V */
    int     check;                      /* --check */
    int     print_config;                   /* --print-config[=all] */
#define OPTIONS_PRINT_SET   1               /* set by -f or -o */
#define OPTIONS_PRINT_ALL   2               /* every parameter */
    const char *config_file;            /* -f */
    const char *name;                   /* -n */
    const char *remote;                 /* --remote (stream mode, a pipe) */
    const char *local;                  /* --local */
    long    socket_count;               /* -s, or -1 */
    const char *transport;              /* -t */
    const char **listen;                /* -L, repeatable */
    size_t  nlisten;
    OPTIONS_OVERRIDE *overrides;        /* -o, -m, -i, -z in order */
    size_t  noverrides;
    int     first_operand;
} OPTIONS;

extern void options_parse(OPTIONS *, int, char **, const char *,
                                  const char *);
extern noreturn void options_error(const char *,...)
            __attribute__((format(printf, 1, 2)));

#endif
