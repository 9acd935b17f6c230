/*
 * fuzz_param.c - libFuzzer target for the parameter file and -o
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_param.c lib/param.c lib/conv.c lib/mymalloc.c \
 *	    t/fuzz/fuzz_msg.c -o fuzz_param
 *	mkdir -p corpus && ./fuzz_param -max_total_time=60 corpus
 *
 * The input is a parameter file, then optionally a line "--" and after
 * it one -o NAME=VALUE per line. The table is the skeleton's (as in
 * single_server.c), with a boolean and a signed integer added, which an
 * application may declare. The file is read with param_set_read_stream()
 * (null bytes and all), the overrides applied with param_set_override(),
 * and param_set_finish() run, as the skeleton does; then again with the
 * overrides first, since -o wins over files read before or after it: the
 * two must end the same, value for value, or refused at the same stage
 * (by param_set_finish(): with the same error). What param.h promises is
 * checked:
 *
 *	- an error is one line that starts with where the text came from:
 *	  "fuzz.cf, line N: " with N a line of the file, "-o NAME=VALUE: "
 *	  for the override itself, and for a value that param_set_finish()
 *	  refuses, that place and then "parameter NAME: ";
 *	- an accepted number lies within its parameter's bounds, a mode
 *	  within 0 to 07777, a boolean is 0 or 1, a string is there;
 *	- a default replaced with param_set_default() stands unless set,
 *	  and so do defaults made of references ("$in_flow_rate", and
 *	  "${syslog_name}/$(user)" here) when what they name is not set;
 *	- what was accepted, written back as a file ("$" as "$$"), reads
 *	  back to the same values;
 *	- what param_set_print() prints of an accepted set (all, and only
 *	  what differs from the defaults) reads back as a file and prints
 *	  the same, never with process_id (a run-time value), and
 *	  param_where() of a published set starts with the place;
 *	- nothing leaks (ASan's leak detection), whatever the outcome.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mymalloc.h"
#include "param.h"

#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#define FUZZ_LABEL      "fuzz.cf"
#define FUZZ_STATE_DIR  "/run/fuzz"
#define FUZZ_NPARAMS    (sizeof(fuzz_table) / sizeof(fuzz_table[0]) - 1)

/* Where the values go: one slot per parameter, by type. */
static long fuzz_long[32];
static int fuzz_bool[32];
static char *fuzz_str[32];

static const SS_PARAM_DEF fuzz_table[] = {
    SS_PARAM_DEF_INT("max_use", "100", 0, INT_MAX, fuzz_long + 0),
    SS_PARAM_DEF_TIME("max_idle", "100s", 0, INT_MAX, fuzz_long + 1),
    SS_PARAM_DEF_INT("process_limit", "100", 0, 1000000, fuzz_long + 2),
    SS_PARAM_DEF_TIME("command_time_limit", "1000s", 0, INT_MAX, fuzz_long + 3),
    SS_PARAM_DEF_TIME("drain_timeout", "10s", 0, INT_MAX, fuzz_long + 4),
    SS_PARAM_DEF_TIME("in_flow_delay", "1s", 0, 10, fuzz_long + 5),
    SS_PARAM_DEF_INT("in_flow_rate", "0", 0, 1000000, fuzz_long + 6),
    SS_PARAM_DEF_INT("in_flow_burst", "$in_flow_rate", 0, 1000000,
                     fuzz_long + 7),
    SS_PARAM_DEF_TIME("daemon_timeout", "18000s", 0, INT_MAX, fuzz_long + 8),
    SS_PARAM_DEF_INT("listen_backlog", "1024", 1, 65535, fuzz_long + 9),
    SS_PARAM_DEF_MODE("unix_socket_mode", "0666", fuzz_long + 10),
    SS_PARAM_DEF_STR("user", "nobody", fuzz_str + 11),
    SS_PARAM_DEF_STR("chroot_directory", "", fuzz_str + 12),
    SS_PARAM_DEF_STR("state_directory", "", fuzz_str + 13),
    SS_PARAM_DEF_STR("syslog_name", "single-server", fuzz_str + 14),
    SS_PARAM_DEF_STR("syslog_facility", "daemon", fuzz_str + 15),
    SS_PARAM_DEF_STR("debugger_command", "", fuzz_str + 16),
    SS_PARAM_DEF_STR("handler_stderr", "auto", fuzz_str + 17),
    SS_PARAM_DEF_STR("access_rules", "", fuzz_str + 18),
    SS_PARAM_DEF_INT("per_source_limit", "0", 0, 1000000, fuzz_long + 19),
    SS_PARAM_DEF_INT("per_source_ipv6_prefix", "64", 1, 128, fuzz_long + 20),
    SS_PARAM_DEF_STR("per_source_message", "", fuzz_str + 21),
    SS_PARAM_DEF_STR("upstream_proxy_protocol", "", fuzz_str + 22),
    SS_PARAM_DEF_TIME("upstream_proxy_timeout", "5s", 1, 3600, fuzz_long + 23),
    SS_PARAM_DEF_STR("upstream_proxy_networks", "", fuzz_str + 24),
    SS_PARAM_DEF_STR("process_id", "", fuzz_str + 25),
    SS_PARAM_DEF_STR("process_name", "", fuzz_str + 26),
    SS_PARAM_DEF_STR("stress", "", fuzz_str + 27),
    /* Not the skeleton's: what an application may add. */
    SS_PARAM_DEF_BOOL("app_flag", "no", fuzz_bool + 28),
    SS_PARAM_DEF_INT("app_offset", "-1", -100, 100, fuzz_long + 29),
    SS_PARAM_DEF_STR("app_tag", "${syslog_name}/$(user)", fuzz_str + 30),
    SS_PARAM_DEF_END,
};

/* Parameter i writes slot i of its type's array. */
_Static_assert(FUZZ_NPARAMS <= 32, "more parameters than slots");

/* What one load ended with: the error, or every value. */
typedef struct FUZZ_RESULT {
    int     stage;                      /* 0 accepted, refused by: */
#define FUZZ_READ   1                   /* reading or -o */
#define FUZZ_FINISH 2                   /* param_set_finish() */
    char   *err;
    long    lval[FUZZ_NPARAMS];
    int     bval[FUZZ_NPARAMS];
    char   *sval[FUZZ_NPARAMS];
} FUZZ_RESULT;

/* The input, split: the file's bytes, and the override lines. */
typedef struct FUZZ_INPUT {
    const char *file;
    size_t  file_len;
    char  **overrides;
    size_t  noverrides;
} FUZZ_INPUT;

/* fuzz_slot - a parameter's index by name */
static size_t fuzz_slot(const char *name)
{
    size_t  i;

    for (i = 0; i < FUZZ_NPARAMS; i++)
        if (strcmp(fuzz_table[i].name, name) == 0)
            return (i);
    abort();
}

/* fuzz_lines - how many lines text has (a last one without \n counts) */
static long fuzz_lines(const char *text, size_t len)
{
    long    n = 0;
    size_t  i;

    for (i = 0; i < len; i++)
        n += text[i] == '\n';
    return (n + (len > 0 && text[len - 1] != '\n'));
}

/* fuzz_check_err_place - the error starts with where its text came from */
static void fuzz_check_err_place(const char *err, const FUZZ_INPUT *in)
{
    const char *rest;
    char   *end;
    long    line;
    size_t  i;
    size_t  len;

    FUZZ_ASSERT(strchr(err, '\n') == 0);
    if (strncmp(err, FUZZ_LABEL ", line ", 14) == 0) {
        line = strtol(err + 14, &end, 10);
        FUZZ_ASSERT(line >= 1 && line <= fuzz_lines(in->file, in->file_len));
        FUZZ_ASSERT(strncmp(end, ": ", 2) == 0);
        return;
    }
    if (strncmp(err, "parameter ", 10) == 0 && strstr(err, " (default): "))
        return;
    for (i = 0; i < in->noverrides; i++) {
        len = strlen(in->overrides[i]);
        rest = err + 3;
        if (strncmp(err, "-o ", 3) == 0
            && strncmp(rest, in->overrides[i], len) == 0
            && strncmp(rest + len, ": ", 2) == 0)
            return;
    }
    FUZZ_ASSERT(!"an error that names no place");
}

/* fuzz_check_err_param - a value error names a declared parameter */
static void fuzz_check_err_param(const char *err)
{
    const char *cp;
    size_t  i;
    size_t  len;

    for (i = 0; i < FUZZ_NPARAMS; i++) {
        len = strlen(fuzz_table[i].name);
        if (strncmp(err, "parameter ", 10) == 0
            && strncmp(err + 10, fuzz_table[i].name, len) == 0
            && strncmp(err + 10 + len, " (default): ", 12) == 0)
            return;
    }
    for (cp = err; (cp = strstr(cp, ": parameter ")) != 0; cp++) {
        for (i = 0; i < FUZZ_NPARAMS; i++) {
            len = strlen(fuzz_table[i].name);
            if (strncmp(cp + 12, fuzz_table[i].name, len) == 0
                && strncmp(cp + 12 + len, ": ", 2) == 0)
                return;
        }
    }
    FUZZ_ASSERT(!"a value error that names no parameter");
}

/* fuzz_read_file - the file part into the set; 0 or -1 with *err */
static int fuzz_read_file(PARAM_SET *set, const FUZZ_INPUT *in, char **err)
{
    FILE   *fp;
    int     ret;

    if (in->file_len == 0)
        return (0);                     /* fmemopen() wants a buffer */
    if ((fp = fmemopen((void *) in->file, in->file_len, "r")) == 0)
        abort();
    ret = param_set_read_stream(set, fp, FUZZ_LABEL, err);
    fclose(fp);
    return (ret);
}

/* fuzz_overrides - every -o in order; 0 or -1 with *err */
static int fuzz_overrides(PARAM_SET *set, const FUZZ_INPUT *in, char **err)
{
    size_t  i;

    for (i = 0; i < in->noverrides; i++)
        if (param_set_override(set, in->overrides[i], 0, err) < 0)
            return (-1);
    return (0);
}

/* fuzz_load - a fresh set: file and overrides, in either order, finish */
static void fuzz_load(const FUZZ_INPUT *in, int overrides_first,
                              FUZZ_RESULT *res)
{
    PARAM_SET *set = param_set_create();
    size_t  i;
    int     ret;

    memset(fuzz_long, 0, sizeof(fuzz_long));
    memset(fuzz_bool, 0, sizeof(fuzz_bool));
    memset(fuzz_str, 0, sizeof(fuzz_str));
    memset(res, 0, sizeof(*res));
    param_set_add(set, fuzz_table);
    param_set_default(set, "state_directory", FUZZ_STATE_DIR);
    if (overrides_first)
        ret = fuzz_overrides(set, in, &res->err) < 0
            || fuzz_read_file(set, in, &res->err) < 0 ? -1 : 0;
    else
        ret = fuzz_read_file(set, in, &res->err) < 0
            || fuzz_overrides(set, in, &res->err) < 0 ? -1 : 0;
    if (ret < 0)
        res->stage = FUZZ_READ;
    else if ((ret = param_set_finish(set, &res->err)) < 0)
        res->stage = FUZZ_FINISH;
    param_set_free(set);

    FUZZ_ASSERT((ret == 0) == (res->err == 0));
    if (ret < 0)
        fuzz_check_err_place(res->err, in);
    if (res->stage == FUZZ_FINISH)
        fuzz_check_err_param(res->err);
    /* What the caller owns now, even after an error: move it over. */
    for (i = 0; i < FUZZ_NPARAMS; i++) {
        res->sval[i] = fuzz_str[i];
        res->lval[i] = fuzz_long[i];
        res->bval[i] = fuzz_bool[i];
        if (ret == 0 && fuzz_table[i].type == SS_PARAM_STR)
            FUZZ_ASSERT(res->sval[i] != 0);
        if (ret < 0 || fuzz_table[i].lval == 0)
            continue;
        FUZZ_ASSERT(res->lval[i] >= fuzz_table[i].min
                    && res->lval[i] <= fuzz_table[i].max);
        if (fuzz_table[i].type == SS_PARAM_MODE)
            FUZZ_ASSERT(res->lval[i] >= 0 && res->lval[i] <= 07777);
    }
    if (ret == 0)
        FUZZ_ASSERT(res->bval[fuzz_slot("app_flag")] == 0
                    || res->bval[fuzz_slot("app_flag")] == 1);
}

/* fuzz_result_free - release a result */
static void fuzz_result_free(FUZZ_RESULT *res)
{
    size_t  i;

    for (i = 0; i < FUZZ_NPARAMS; i++)
        myfree(res->sval[i]);
    myfree(res->err);
}

/* fuzz_same - two loads ended the same */
static void fuzz_same(const FUZZ_RESULT *a, const FUZZ_RESULT *b)
{
    size_t  i;

    /* Of two bad lines, which is read first depends on the order. */
    FUZZ_ASSERT(a->stage == b->stage);
    if (a->stage == FUZZ_FINISH)
        FUZZ_ASSERT(strcmp(a->err, b->err) == 0);
    if (a->stage != 0)
        return;
    for (i = 0; i < FUZZ_NPARAMS; i++) {
        FUZZ_ASSERT(a->lval[i] == b->lval[i]);
        FUZZ_ASSERT(a->bval[i] == b->bval[i]);
        FUZZ_ASSERT((a->sval[i] == 0) == (b->sval[i] == 0));
        FUZZ_ASSERT(a->sval[i] == 0 || strcmp(a->sval[i], b->sval[i]) == 0);
    }
}

/* fuzz_mentions - does the input name this parameter anywhere? */
static int fuzz_mentions(const uint8_t *data, size_t size, const char *name)
{
    return (memmem(data, size, name, strlen(name)) != 0);
}

/* fuzz_defaults - defaults stand, and references in them are expanded */
static void fuzz_defaults(const FUZZ_RESULT *res, const uint8_t *data,
                                  size_t size)
{
    const char *tag = res->sval[fuzz_slot("app_tag")];
    const char *name = res->sval[fuzz_slot("syslog_name")];
    const char *user = res->sval[fuzz_slot("user")];
    size_t  len = strlen(name);

    if (!fuzz_mentions(data, size, "state_directory"))
        FUZZ_ASSERT(strcmp(res->sval[fuzz_slot("state_directory")],
                           FUZZ_STATE_DIR) == 0);
    if (!fuzz_mentions(data, size, "in_flow_burst"))
        FUZZ_ASSERT(res->lval[fuzz_slot("in_flow_burst")]
                    == res->lval[fuzz_slot("in_flow_rate")]);
    if (!fuzz_mentions(data, size, "app_tag"))
        FUZZ_ASSERT(strncmp(tag, name, len) == 0 && tag[len] == '/'
                    && strcmp(tag + len + 1, user) == 0);
}

/* fuzz_write_back - the accepted values as a file, or null if it cannot be */
static char *fuzz_write_back(const FUZZ_RESULT *res, size_t *len)
{
    char   *text = 0;
    size_t  size = 0;
    FILE   *fp = open_memstream(&text, &size);
    const SS_PARAM_DEF *def;
    const char *cp;
    size_t  i;
    size_t  n;

    if (fp == 0)
        abort();
    for (i = 0; i < FUZZ_NPARAMS; i++) {
        def = fuzz_table + i;
        fprintf(fp, "%s = ", def->name);
        if (def->type == SS_PARAM_MODE)
            fprintf(fp, "0%lo\n", res->lval[i]);
        else if (def->lval)
            fprintf(fp, "%ld\n", res->lval[i]);
        else if (def->bval)
            fprintf(fp, "%s\n", res->bval[i] ? "yes" : "no");
        else {
            cp = res->sval[i];
            n = strlen(cp);
            /* White space at either end would be dropped. */
            if (n > 0 && (isspace((unsigned char) cp[0])
                          || isspace((unsigned char) cp[n - 1]))) {
                fclose(fp);
                free(text);
                return (0);
            }
            for (; *cp; cp++)
                fputs(*cp == '$' ? "$$" : (char[2]) {*cp, 0}, fp);
            fputc('\n', fp);
        }
    }
    fclose(fp);
    *len = size;
    return (text);
}

/* fuzz_split - the file part and the override lines after "--" */
static void fuzz_split(const uint8_t *data, size_t size, FUZZ_INPUT *in,
                               char **copy)
{
    const char *text = (const char *) data;
    const char *sep = 0;
    char   *cp;
    char   *line;
    size_t  at;

    in->file = text;
    in->file_len = size;
    in->overrides = 0;
    in->noverrides = 0;
    *copy = 0;
    if (size >= 3 && memcmp(text, "--\n", 3) == 0)
        sep = text;
    else if ((cp = memmem(text, size, "\n--\n", 4)) != 0)
        sep = cp + 1;
    if (sep == 0)
        return;
    in->file_len = (size_t) (sep - text);
    at = in->file_len + 3;
    if (size > at && text[size - 1] == '\n')
        size--;                         /* the last line's end */
    if (size <= at)
        return;                         /* "--" and nothing after it */
    *copy = mymalloc(size - at + 1);
    memcpy(*copy, text + at, size - at);
    (*copy)[size - at] = 0;
    for (cp = *copy; (line = strsep(&cp, "\n")) != 0;) {
        in->overrides = myrealloc(in->overrides, (in->noverrides + 1)
                                  * sizeof(char *));
        in->overrides[in->noverrides++] = line;
    }
}

/* fuzz_print - a set from in, printed (all or not); null if refused */
static char *fuzz_print(const FUZZ_INPUT *in, int all)
{
    PARAM_SET *set = param_set_create();
    char   *err = 0;
    char   *text = 0;
    size_t  size = 0;
    FILE   *fp;

    param_set_add(set, fuzz_table);
    param_set_default(set, "state_directory", FUZZ_STATE_DIR);
    param_set_runtime(set, "process_id", "4711");
    if (fuzz_read_file(set, in, &err) == 0 && fuzz_overrides(set, in, &err) == 0
        && param_set_finish(set, &err) == 0) {
        param_set_publish(set);
        FUZZ_ASSERT(strcmp(param_where("max_use"), "parameter max_use") != 0);
        if ((fp = open_memstream(&text, &size)) == 0)
            abort();
        param_set_print(set, fp, all);
        fclose(fp);
        FUZZ_ASSERT(strncmp(text, "process_id =", 12) != 0
                    && strstr(text, "\nprocess_id =") == 0);
    }
    param_set_free(set);
    FUZZ_ASSERT(strcmp(param_where("max_use"), "parameter max_use") == 0);
    /* Memory that fuzz_load() would have moved to a result. */
    for (size = 0; size < FUZZ_NPARAMS; size++) {
        myfree(fuzz_str[size]);
        fuzz_str[size] = 0;
    }
    myfree(err);
    return (text);
}

/* fuzz_print_back - --print-config's output reads back and prints the same */
static void fuzz_print_back(const FUZZ_INPUT *in, int all)
{
    FUZZ_INPUT again = {0};
    char   *text = fuzz_print(in, all);
    char   *back;

    FUZZ_ASSERT(text != 0);
    again.file = text;
    again.file_len = strlen(text);
    back = fuzz_print(&again, all);
    FUZZ_ASSERT(back != 0 && strcmp(text, back) == 0);
    free(text);
    free(back);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_INPUT in;
    FUZZ_INPUT again = {0};
    FUZZ_RESULT first;
    FUZZ_RESULT second;
    FUZZ_RESULT back;
    char   *copy;

    fuzz_split(data, size, &in, &copy);
    fuzz_load(&in, 0, &first);
    fuzz_load(&in, 1, &second);
    fuzz_same(&first, &second);
    if (first.err == 0) {
        fuzz_defaults(&first, data, size);
        fuzz_print_back(&in, 0);
        fuzz_print_back(&in, 1);
        if ((again.file = fuzz_write_back(&first, &again.file_len)) != 0) {
            fuzz_load(&again, 0, &back);
            FUZZ_ASSERT(back.err == 0);
            fuzz_same(&first, &back);
            fuzz_result_free(&back);
            free((void *) again.file);
        }
    }
    fuzz_result_free(&first);
    fuzz_result_free(&second);
    myfree(in.overrides);
    myfree(copy);
    return (0);
}
