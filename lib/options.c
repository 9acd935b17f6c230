/*
 * options.c - the skeleton's command line
 *
 * One table drives getopt_long(); the "+" at the start of the short
 * option string stops parsing at the first operand, so that in
 * "single-server -L x -- grep -v foo" the -v belongs to grep.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdnoreturn.h>
#include <unistd.h>

#include "conv.h"
#include "msg.h"
#include "mymalloc.h"
#include "options.h"

static const char options_short[] = "+:1cdDf:hi:lL:m:n:o:s:St:uvVz";

enum {
    OPT_VERSION = 256,
    OPT_CHECK,
    OPT_REMOTE,
    OPT_LOCAL,
    OPT_PRINT_CONFIG,
};

static const struct option options_long[] = {
    {"print-addresses", no_argument, 0, '1'},
    {"chroot", no_argument, 0, 'c'},
    {"allow-tty", no_argument, 0, 'd'},
    {"debugger", no_argument, 0, 'D'},
    {"config", required_argument, 0, 'f'},
    {"help", no_argument, 0, 'h'},
    {"max-idle", required_argument, 0, 'i'},
    {"solitary", no_argument, 0, 'l'},
    {"listen", required_argument, 0, 'L'},
    {"max-use", required_argument, 0, 'm'},
    {"name", required_argument, 0, 'n'},
    {"option", required_argument, 0, 'o'},
    {"socket-count", required_argument, 0, 's'},
    {"stream", no_argument, 0, 'S'},
    {"transport", required_argument, 0, 't'},
    {"user", no_argument, 0, 'u'},
    {"verbose", no_argument, 0, 'v'},
    {"log-stderr", no_argument, 0, 'V'},
    {"unlimited", no_argument, 0, 'z'},
    {"version", no_argument, 0, OPT_VERSION},
    {"check", no_argument, 0, OPT_CHECK},
    {"remote", required_argument, 0, OPT_REMOTE},
    {"local", required_argument, 0, OPT_LOCAL},
    {"print-config", optional_argument, 0, OPT_PRINT_CONFIG},
    {0, 0, 0, 0},
};

static const char *options_operands;
static const char *options_help_text;

static char *options_usage_line(char *, size_t, const char *);

/* options_usage - the usage lines, for --help */
static void options_usage(FILE *fp)
{
    char    line[512];

    fputs(options_usage_line(line, sizeof(line), options_operands), fp);
    fprintf(fp, "       %s --print-config[=all] [option ...]\n",
            program_invocation_short_name);
}

/* options_usage_line - the usage line, formatted into buf */
static char *options_usage_line(char *buf, size_t len, const char *operands)
{
    snprintf(buf, len, "usage: %s [-1cdDlSuvVz] [-f file] [-i max_idle] "
             "[-L address]... [-m max_use] [-n name] [-o name=value]... "
             "[-s count] [-t transport] [--check] [--] %s\n",
             program_invocation_short_name, operands);
    return (buf);
}

/* options_help - the usage line and the application's help text, exit 0 */
static noreturn void options_help(void)
{
    options_usage(stdout);
    if (options_help_text)
        fputs(options_help_text, stdout);
    exit(0);
}

/* options_error - one line naming the culprit, the usage line, exit 100 */
noreturn void options_error(const char *fmt,...)
{
    va_list ap;
    char    text[512];

    static char line[512];

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ss_msg_usage_hint(options_usage_line(line, sizeof(line), options_operands));
    ss_msg_usage("%s", text);
}

/* options_override - remember an override with its label */
static void options_override(OPTIONS *opts, char *assignment, char *label)
{
    opts->overrides = myrealloc(opts->overrides, (opts->noverrides + 1)
                                * sizeof(OPTIONS_OVERRIDE));
    opts->overrides[opts->noverrides].assignment = assignment;
    opts->overrides[opts->noverrides].label = label;
    opts->noverrides++;
}

/* options_one - act on one option */
static void options_one(OPTIONS *opts, int ch, char *arg)
{
    long    count;

    switch (ch) {
    case '1': opts->print_addresses = 1; break;
    case 'c': opts->chroot = 1; break;
    case 'd': opts->allow_tty = 1; break;
    case 'D': opts->debugger = 1; break;
    case 'f': opts->config_file = arg; break;
    case 'h': options_help();
    case 'l': opts->solitary = 1; break;
    case 'n':
        if (*arg == 0)
            options_error("-n: the service name is empty");
        opts->name = arg;
        break;
    case 'S': opts->stream = 1; break;
    case 't': opts->transport = arg; break;
    case 'u': opts->user = 1; break;
    case 'v': opts->verbose++; break;
    case 'V': opts->log_stderr = 1; break;
    case 'L':
        opts->listen = myrealloc(opts->listen, (opts->nlisten + 1) * sizeof(char *));
        opts->listen[opts->nlisten++] = arg;
        break;
    case 'o':
        if (strchr(arg, '=') == 0)
            options_error("-o %s: expected name=value", arg);
        options_override(opts, mystrdup(arg), myasprintf("-o %s", arg));
        break;
    case 'm':
        options_override(opts, myasprintf("max_use=%s", arg), myasprintf("-m %s", arg));
        break;
    case 'i':
        options_override(opts, myasprintf("max_idle=%s", arg), myasprintf("-i %s", arg));
        break;
    case 'z':
        options_override(opts, mystrdup("process_limit=0"), mystrdup("-z"));
        break;
    case 's':
        if (conv_long(arg, 1, 1000, &count) != CONV_OK)
            options_error("-s %s: expected a socket count from 1 to 1000", arg);
        opts->socket_count = count;
        break;
    case OPT_CHECK: opts->check = 1; break;
    case OPT_REMOTE: opts->remote = arg; break;
    case OPT_LOCAL: opts->local = arg; break;
    case OPT_PRINT_CONFIG:
        if (arg != 0 && strcmp(arg, "all") != 0)
            options_error("--print-config=%s: expected all, or nothing", arg);
        opts->print_config = arg ? OPTIONS_PRINT_ALL : OPTIONS_PRINT_SET;
        break;
    case OPT_VERSION:
        printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        exit(0);
    }
}

/* options_parse - read the options, stop at the first operand */
void    options_parse(OPTIONS *opts, int argc, char **argv, const char *operands,
                              const char *help)
{
    int     ch;
    int     prev;

    memset(opts, 0, sizeof(*opts));
    opts->socket_count = -1;
    options_operands = operands;
    options_help_text = help;
    opterr = 0;
    for (;;) {
        prev = optind;
        if ((ch = getopt_long(argc, argv, options_short, options_long, 0)) == -1)
            break;
        if (ch == ':')
            options_error("option %s requires an argument", argv[prev]);
        if (ch == '?' && optopt && strncmp(argv[prev], "--", 2) != 0)
            options_error("unknown option -%c", optopt);
        if (ch == '?')
            options_error("unknown option %s", argv[prev]);
        options_one(opts, ch, optarg);
    }
    opts->first_operand = optind;
    if (opts->check && opts->print_config)
        options_error("--check and --print-config do not go together");
}

