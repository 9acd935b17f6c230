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
    {0, 0, 0, 0},
};

static const char *options_operands;

static char *options_usage_line(char *, size_t, const char *);

/* options_usage - the usage line */
void    options_usage(FILE *fp, const char *operands)
{
    char    line[512];

    fputs(options_usage_line(line, sizeof(line), operands), fp);
}

/* options_usage_line - the usage line, formatted into buf */
static char *options_usage_line(char *buf, size_t len, const char *operands)
{
    snprintf(buf, len, "usage: %s [-1cdDlSuvVz] [-f file] [-i max_idle] "
             "[-L address]... [-m max_use] [-n name] [-o name=value]... "
             "[-s count] [-t transport] [--] %s\n",
             program_invocation_short_name, operands);
    return (buf);
}

/* options_help - usage and an option summary, exit 0 */
noreturn void options_help(const char *operands)
{
    options_usage(stdout, operands);
    fputs("\n"
          "  -S, --stream            serve the client on stdin/stdout once\n"
          "  -L, --listen ADDRESS    listen on HOST:PORT, [IPV6]:PORT, unix:PATH or\n"
          "                          /PATH; PORT, :PORT or *:PORT: every address\n"
          "  -1, --print-addresses   print each bound address, then close "
          "stdout\n"
          "  -f, --config FILE       read parameters from FILE\n"
          "  -o, --option NAME=VALUE set a parameter (the last one wins)\n"
          "  -m, --max-use N         same as -o max_use=N\n"
          "  -i, --max-idle TIME     same as -o max_idle=TIME\n"
          "  -z, --unlimited         same as -o process_limit=0\n"
          "  -n, --name NAME         service name for logs and state files\n"
          "  -s, --socket-count N    master(8) mode: N listening sockets from fd 6\n"
          "  -t, --transport TYPE    master(8) mode: inet, unix or pass\n"
          "  -l, --solitary          master(8) mode: no accept lock\n"
          "                          (-s and -t are refused: master(8) mode is not\n"
          "                          in this version)\n"
          "  -u, --user              run as $user\n"
          "  -c, --chroot            chroot to $chroot_directory\n"
          "  -d, --allow-tty         allow a terminal on stdin\n"
          "  -D, --debugger          run $debugger_command at start\n"
          "  -v, --verbose           more logging (repeatable)\n"
          "  -V, --log-stderr        copy logging to stderr\n"
          "      --check             check the command line, parameters and handler;\n"
          "                          bind nothing, run nothing; exit 0 or 100\n"
          "  -h, --help              this text\n"
          "      --version           the version\n", stdout);
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
    msg_usage_hint(options_usage_line(line, sizeof(line), options_operands));
    msg_usage("%s", text);
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
    case 'h': options_help(options_operands);
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
    case OPT_VERSION:
        printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        exit(0);
    }
}

/* options_parse - read the options, stop at the first operand */
void    options_parse(OPTIONS *opts, int argc, char **argv, const char *operands)
{
    int     ch;
    int     prev;

    memset(opts, 0, sizeof(*opts));
    opts->socket_count = -1;
    options_operands = operands;
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
}

/* options_free - release what options_parse() allocated */
void    options_free(OPTIONS *opts)
{
    size_t  i;

    for (i = 0; i < opts->noverrides; i++) {
        myfree(opts->overrides[i].assignment);
        myfree(opts->overrides[i].label);
    }
    myfree(opts->overrides);
    myfree(opts->listen);
}
