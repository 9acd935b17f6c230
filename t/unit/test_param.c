/*
 * test_param.c - main.cf syntax, expansion, overrides, types and bounds
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mymalloc.h"
#include "param.h"
#include "tap.h"

static long v_int;
static long v_time;
static long v_mode;
static int v_bool;
static char *v_str;
static char *v_other;
static long v_ref;

static const SS_PARAM_DEF table[] = {
    SS_PARAM_DEF_INT("count", "100", 0, 1000, &v_int),
    SS_PARAM_DEF_TIME("delay", "1s", 0, 10, &v_time),
    SS_PARAM_DEF_MODE("mode", "0666", &v_mode),
    SS_PARAM_DEF_BOOL("flag", "no", &v_bool),
    SS_PARAM_DEF_STR("name", "x", &v_str),
    SS_PARAM_DEF_STR("other", "<$name>", &v_other),
    SS_PARAM_DEF_INT("ref", "$count", 0, 1000, &v_ref),
    SS_PARAM_DEF_END,
};

/* load - a fresh set, the text as a config file, the overrides, finish */
static int load(const char *text, const char *override, char **err)
{
    PARAM_SET *set = param_set_create();
    FILE   *fp = fmemopen((void *) text, strlen(text), "r");
    int     ret;

    *err = 0;
    /* Each load stores new copies of the strings: the last ones go. */
    myfree(v_str);
    myfree(v_other);
    v_str = v_other = 0;
    param_set_add(set, table);
    ret = param_set_read_stream(set, fp, "test.cf", err);
    fclose(fp);
    if (ret == 0 && override)
        ret = param_set_override(set, override, 0, err);
    if (ret == 0)
        ret = param_set_finish(set, err);
    param_set_free(set);
    return (ret);
}

/* good - loads, and the check holds */
#define good(text, override, cond, name) do { \
	char *err_; \
	int ret_ = load((text), (override), &err_); \
	ok(ret_ == 0 && (cond), "%s%s%s", (name), err_ ? ": " : "", err_ ? err_ : ""); \
	myfree(err_); \
    } while (0)

/* bad - fails, and the error says what it must */
static void bad(const char *text, const char *override, const char *want,
                        const char *name)
{
    char   *err;
    int     ret = load(text, override, &err);

    ok(ret < 0 && err && strstr(err, want), "%s: error \"%s\" contains \"%s\"",
       name, err ? err : "(none)", want);
    myfree(err);
}

/* bounds - hostile files: a NUL byte, a huge line, an expansion bomb */
static void bounds(void)
{
    static const char nul[] = "count = 5\0junk\n";
    PARAM_SET *set = param_set_create();
    FILE   *fp = fmemopen((void *) nul, sizeof(nul) - 1, "r");
    char   *err = 0;
    char   *text;
    size_t  i;
    int     ret;

    param_set_add(set, table);
    ret = param_set_read_stream(set, fp, "test.cf", &err);
    ok(ret < 0 && err && strstr(err, "test.cf, line 1: NUL byte in line"),
       "a NUL byte in a line is refused: %s", err ? err : "(accepted)");
    fclose(fp);
    param_set_free(set);
    myfree(err);

    text = mymalloc(70010);
    strcpy(text, "name = ");
    memset(text + 7, 'y', 70000);
    strcpy(text + 70007, "\n");
    bad(text, 0, "test.cf, line 1: line longer than 65536 bytes",
        "a line of 70000 bytes");

    /* 7000 bytes, ten times: more than 65536 once expanded */
    memset(text + 7, 'y', 7000);
    strcpy(text + 7007, "\nother = ");
    for (i = 0; i < 10; i++)
        strcat(text, "$name");
    strcat(text, "\n");
    bad(text, 0, "parameter other: value longer than 65536 bytes after expansion",
        "an expansion past 65536 bytes");
    myfree(text);
}

/* printed - param_set_print() of a file and an -o, as text */
static char *printed(const char *text, const char *override, int all)
{
    PARAM_SET *set = param_set_create();
    FILE   *fp = fmemopen((void *) text, strlen(text), "r");
    char   *out = 0;
    size_t  size = 0;
    FILE   *mem = open_memstream(&out, &size);
    char   *err = 0;

    param_set_add(set, table);
    param_set_runtime(set, "other", "run time");
    if (param_set_read_stream(set, fp, "test.cf", &err) < 0
        || (override && param_set_override(set, override, 0, &err) < 0)
        || param_set_finish(set, &err) < 0)
        fprintf(mem, "error: %s\n", err);
    else
        param_set_print(set, mem, all);
    fclose(fp);
    fclose(mem);
    param_set_free(set);
    myfree(err);
    myfree(v_str);
    myfree(v_other);
    v_str = v_other = 0;
    return (out);
}

/* printing - --print-config's output, and that it reads back the same */
static void printing(void)
{
    char   *out = printed("count = 5\nname = $count  and # more\n"
                          "  continued\nflag = no\n", "delay=2s", 0);
    char   *again = printed(out, 0, 0);

    ok(strcmp(out, "count = 5\ndelay = 2s\n"
              "name = $count  and # more continued\n") == 0,
       "only values other than the default, as written: \"%s\"", out);
    ok(strcmp(out, again) == 0, "the output read back prints the same");
    free(out);
    free(again);
    out = printed("name =\n", 0, 1);
    again = printed(out, 0, 1);
    ok(strcmp(out, "count = 100\ndelay = 1s\nmode = 0666\nflag = no\n"
              "name =\nref = $count\n") == 0,
       "all: every parameter but the run-time one: \"%s\"", out);
    ok(strcmp(out, again) == 0, "all: read back, the same");
    free(out);
    free(again);
}

/* origins - param_where(): errors found after finish name the place */
static void origins(void)
{
    PARAM_SET *set = param_set_create();
    FILE   *fp = fmemopen((void *) "\nname = y\n", 10, "r");
    char   *err = 0;
    const char *a, *b;

    param_set_add(set, table);
    ok(strcmp(param_where("name"), "parameter name") == 0,
       "param_where() without a published set: the name only");
    (void) param_set_read_stream(set, fp, "test.cf", &err);
    (void) param_set_override(set, "count=7", 0, &err);
    (void) param_set_finish(set, &err);
    param_set_publish(set);
    ok(strcmp(param_where("name"), "test.cf, line 2: parameter name") == 0,
       "param_where(): a file's line: %s", param_where("name"));
    ok(strcmp(param_where("count"), "-o count=7: parameter count") == 0,
       "param_where(): an -o: %s", param_where("count"));
    ok(strcmp(param_where("flag"), "parameter flag (default)") == 0,
       "param_where(): a default: %s", param_where("flag"));
    param_set_free(set);
    a = param_where("one");
    b = param_where("two");
    ok(strcmp(a, "parameter one") == 0 && strcmp(b, "parameter two") == 0
       && param_where("one") == a,
       "param_where() of unknown names: each string stays valid (%s, %s)",
       a, b);
    ok(strcmp(param_where("name"), "parameter name") == 0,
       "param_where() after the set is freed: the name only");
    fclose(fp);
    myfree(v_str);
    myfree(v_other);
    v_str = v_other = 0;
    myfree(err);
}

/* default_error - an error in a default's value names it as the default */
static void default_error(void)
{
    PARAM_SET *set = param_set_create();
    char   *err = 0;

    param_set_add(set, table);
    param_set_default(set, "name", "$nope");
    ok(param_set_finish(set, &err) < 0 && err
       && strcmp(err, "parameter name (default): unknown parameter \"$nope\"") == 0,
       "an error in a default: %s", err ? err : "(none)");
    param_set_free(set);
    myfree(err);
    myfree(v_str);
    myfree(v_other);
    v_str = v_other = 0;
}

int     main(void)
{
    bounds();
    printing();
    origins();
    default_error();
    good("", 0, v_int == 100 && v_time == 1 && v_mode == 0666 && v_bool == 0
         && strcmp(v_str, "x") == 0, "defaults");
    good("count = 5\n", 0, v_int == 5, "simple assignment");
    good("count=7\n", 0, v_int == 7, "no blanks around =");
    good("  # comment\n\ncount = 5\n# another\n", 0, v_int == 5,
         "comments and blank lines");
    good("name = a\n  b\n\tc\n", 0, strcmp(v_str, "a b c") == 0,
         "continuation lines");
    good("count = 5\ncount = 6\n", 0, v_int == 6, "the last assignment wins");
    good("delay = 10s\n", 0, v_time == 10, "time with unit");
    good("name = y\n", 0, strcmp(v_other, "<y>") == 0, "$name expansion");
    good("other = ${name}-$(name)\n", 0, strcmp(v_other, "x-x") == 0,
         "${name} and $(name)");
    good("other = $$name\n", 0, strcmp(v_other, "$name") == 0, "$$ is a dollar");
    good("count = 42\n", 0, v_ref == 42, "default refers to another parameter");
    good("count = 5\n", "count=9", v_int == 9, "-o wins over the file");
    good("", "name = spaced ", strcmp(v_str, "spaced") == 0, "-o trims blanks");
    good("flag = yes\n", 0, v_bool == 1, "boolean");
    good("mode = 0600\n", 0, v_mode == 0600, "octal mode");

    bad("bogus = 1\n", 0, "test.cf, line 1: unknown parameter \"bogus\"",
        "unknown parameter in a file");
    bad("", "bogus=1", "-o bogus=1: unknown parameter \"bogus\"",
        "unknown parameter in -o");
    bad("count 5\n", 0, "test.cf, line 1: missing \"=\"", "line without =");
    bad("\n\nbad name = 1\n", 0, "test.cf, line 3: bad parameter name",
        "bad name, line number counted");
    bad("  count = 1\n", 0, "test.cf, line 1: continuation line",
        "continuation without a parameter");
    bad("count = abc\n", 0, "test.cf, line 1: parameter count: bad value \"abc\"",
        "bad number");
    bad("count = 1001\n", 0, "parameter count: value \"1001\" out of range (0 to 1000)",
        "number over the bound");
    bad("count = -1\n", 0, "parameter count: bad value", "negative number");
    bad("delay = 11\n", 0, "parameter delay: value \"11\" out of range (0s to 10s)",
        "time over the bound");
    bad("delay = 1x\n", 0, "parameter delay: bad value \"1x\"", "bad time unit");
    bad("delay = 1m\n", 0, "out of range", "time unit over the bound");
    bad("flag = maybe\n", 0, "parameter flag: bad value", "bad boolean");
    bad("mode = 999\n", 0, "parameter mode: bad value", "bad mode");
    bad("name = $nope\n", 0, "unknown parameter \"$nope\"", "unknown reference");
    bad("name = ${name\n", 0, "missing \"}\"", "unclosed brace");
    bad("name = $other\n", 0, "expansion loop", "expansion loop");
    bad("", "count=zz", "-o count=zz: parameter count: bad value \"zz\"",
        "bad value in -o names the option");
    bad("\n\ncount = $name\n", 0, "test.cf, line 3: parameter count",
        "expanded bad value names its line");
    bad("", "flag=maybe", "-o flag=maybe: parameter flag: bad value \"maybe\"",
        "bad boolean in -o names the option");
    bad("", "mode=8", "-o mode=8: parameter mode: bad value \"8\"",
        "bad mode in -o names the option");
    bad("", "name=a\nb", "-o name=a?b: parameter name: line break in value",
        "a line break in an -o value is refused, the error on one line");
    return (done_testing());
}
