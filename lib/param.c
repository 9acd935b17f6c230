/*
 * param.c - typed parameter tables in Postfix main.cf syntax
 *
 * Values are kept as text, with where they came from ("FILE, line N",
 * "-o name=value" or "default"), until param_set_finish(): expansion
 * needs every value first, and a conversion error must still name the
 * place the bad text came from.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "msg.h"
#include "mymalloc.h"
#include "param.h"

typedef struct PARAM_ENTRY {
    const SS_PARAM_DEF *def;
    char   *raw;                        /* text as given */
    char   *origin;                     /* where raw came from */
    char   *defraw;                     /* the default text, as now */
    char   *where;                      /* "ORIGIN: parameter NAME", lazily */
    int     runtime;                    /* set at run time: never printed */
    int     overridden;                 /* set by -o: files cannot change it */
    int     state;                      /* expansion state, below */
    char   *value;                      /* expanded text */
} PARAM_ENTRY;

#define PARAM_RAW       0
#define PARAM_EXPANDING 1
#define PARAM_EXPANDED  2

#define PARAM_MAX_DEPTH 100
#define PARAM_VALUE_MAX 65536           /* bytes of a logical line, and of */
                                        /* a value after expansion */

struct PARAM_SET {
    PARAM_ENTRY *entries;
    size_t  count;
};

static PARAM_SET *param_published;      /* what param_where() asks */

/* param_set_create - empty set */
PARAM_SET *param_set_create(void)
{
    return (mycalloc(1, sizeof(PARAM_SET)));
}

/* param_find - entry by name, or null */
static PARAM_ENTRY *param_find(PARAM_SET *set, const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < set->count; i++)
        if (strncmp(set->entries[i].def->name, name, len) == 0
            && set->entries[i].def->name[len] == 0)
            return (&set->entries[i]);
    return (0);
}

/* param_assign - replace raw text and origin */
static void param_assign(PARAM_ENTRY *ent, const char *raw, char *origin)
{
    myfree(ent->raw);
    myfree(ent->origin);
    myfree(ent->where);
    ent->where = 0;
    ent->raw = mystrdup(raw);
    ent->origin = origin;
}

/* param_assign_default - a default, as declared or replaced at run time */
static void param_assign_default(PARAM_ENTRY *ent, const char *raw)
{
    myfree(ent->defraw);
    ent->defraw = mystrdup(raw);
    param_assign(ent, raw, mystrdup("default"));
}

/*
 * param_label - "ORIGIN: parameter NAME", or "parameter NAME (default)":
 * how an error names a parameter and where its value came from
 */
static const char *param_label(PARAM_ENTRY *ent)
{
    if (ent->where == 0)
        ent->where = strcmp(ent->origin, "default") == 0 ?
            myasprintf("parameter %s (default)", ent->def->name) :
            myasprintf("%s: parameter %s", ent->origin, ent->def->name);
    return (ent->where);
}

/* param_set_add - declare a table of parameters */
void    param_set_add(PARAM_SET *set, const SS_PARAM_DEF *table)
{
    const SS_PARAM_DEF *def;
    PARAM_ENTRY *ent;
    size_t  n = 0;

    /* One allocation a table: an entry at a time moved the array often. */
    for (def = table; def->name; def++)
        n++;
    set->entries = myrealloc(set->entries,
                             (set->count + n) * sizeof(PARAM_ENTRY));
    for (def = table; def->name; def++) {
        if (param_find(set, def->name, strlen(def->name)))
            ss_msg_panic("parameter %s declared twice", def->name);
        ent = &set->entries[set->count++];
        memset(ent, 0, sizeof(*ent));
        ent->def = def;
        param_assign_default(ent, def->defval ? def->defval : "");
    }
}

/* param_set_default - replace a default at run time */
void    param_set_default(PARAM_SET *set, const char *name, const char *value)
{
    PARAM_ENTRY *ent = param_find(set, name, strlen(name));

    if (ent == 0)
        ss_msg_panic("param_set_default: unknown parameter %s", name);
    if (strcmp(ent->origin, "default") == 0)
        param_assign_default(ent, value);
}

/* param_set_runtime - a default that describes this process: not printed */
void    param_set_runtime(PARAM_SET *set, const char *name, const char *value)
{
    PARAM_ENTRY *ent = param_find(set, name, strlen(name));

    if (ent == 0)
        ss_msg_panic("param_set_runtime: unknown parameter %s", name);
    param_set_default(set, name, value);
    ent->runtime = 1;
}

/* param_trim - drop leading and trailing white space in place */
static char *param_trim(char *str)
{
    char   *end;

    while (isspace((unsigned char) *str))
        str++;
    end = str + strlen(str);
    while (end > str && isspace((unsigned char) end[-1]))
        *--end = 0;
    return (str);
}

/* param_valid_name - letters, digits and underscores only */
static int param_valid_name(const char *name)
{
    if (*name == 0)
        return (0);
    for (; *name; name++)
        if (!isalnum((unsigned char) *name) && *name != '_')
            return (0);
    return (1);
}

/* param_assignment - handle "name = value" from a file or -o */
static int param_assignment(PARAM_SET *set, char *text, const char *where,
                                    int override, char **err)
{
    char   *eq = strchr(text, '=');
    char   *name;
    char   *value;
    PARAM_ENTRY *ent;

    if (eq == 0) {
        *err = myasprintf("%s: missing \"=\" in \"%s\"", where, param_trim(text));
        return (-1);
    }
    *eq = 0;
    name = param_trim(text);
    value = param_trim(eq + 1);
    if (!param_valid_name(name)) {
        *err = myasprintf("%s: bad parameter name \"%s\"", where, name);
        return (-1);
    }
    if ((ent = param_find(set, name, strlen(name))) == 0) {
        *err = myasprintf("%s: unknown parameter \"%s\"", where, name);
        return (-1);
    }
    /* What a file cannot hold, -o cannot set: --print-config writes it. */
    if (strchr(value, '\n') != 0) {
        *err = myasprintf("%s: parameter %s: line break in value", where, name);
        return (-1);
    }
    if (strlen(name) + strlen(value) + 3 > PARAM_VALUE_MAX) {
        *err = myasprintf("%s: parameter %s: \"%s = value\" longer than %d "
                          "bytes", where, name, name, PARAM_VALUE_MAX);
        return (-1);
    }
    if (ent->overridden && !override)
        return (0);
    param_assign(ent, value, mystrdup(where));
    ent->overridden |= override;
    return (0);
}

/* param_flush - process one complete logical line, if any */
static int param_flush(PARAM_SET *set, char **logical, const char *label,
                               int lineno, char **err)
{
    char   *where;
    int     ret;

    if (*logical == 0)
        return (0);
    where = myasprintf("%s, line %d", label, lineno);
    ret = param_assignment(set, *logical, where, 0, err);
    myfree(where);
    myfree(*logical);
    *logical = 0;
    return (ret);
}

/* param_set_read_stream - read main.cf syntax from a stream */
int     param_set_read_stream(PARAM_SET *set, FILE *fp, const char *label,
                                      char **err)
{
    char   *line = 0;
    size_t  size = 0;
    char   *logical = 0;
    char   *text;
    int     lineno = 0;
    int     start = 0;
    int     ret = 0;
    char   *joined;
    ssize_t len;

    while (ret == 0 && (len = getline(&line, &size, fp)) >= 0) {
        lineno++;
        /* Read as text, a NUL byte would end the line unseen. */
        if (memchr(line, 0, (size_t) len) != 0) {
            *err = myasprintf("%s, line %d: NUL byte in line", label, lineno);
            ret = -1;
            break;
        }
        text = param_trim(line);
        if (*text == 0 || *text == '#')
            continue;
        if (isspace((unsigned char) line[0])) {
            if (logical == 0) {
                *err = myasprintf("%s, line %d: continuation line \"%s\" "
                                  "without a parameter before it",
                                  label, lineno, text);
                ret = -1;
                break;
            }
            joined = myasprintf("%s %s", logical, text);
            myfree(logical);
            logical = joined;
            if (strlen(logical) > PARAM_VALUE_MAX) {
                *err = myasprintf("%s, line %d: line longer than %d bytes",
                                  label, start, PARAM_VALUE_MAX);
                ret = -1;
                break;
            }
            continue;
        }
        if ((ret = param_flush(set, &logical, label, start, err)) < 0)
            break;
        start = lineno;
        if (strlen(text) > PARAM_VALUE_MAX) {
            *err = myasprintf("%s, line %d: line longer than %d bytes",
                              label, start, PARAM_VALUE_MAX);
            ret = -1;
            break;
        }
        logical = mystrdup(text);
    }
    if (ret == 0 && ferror(fp)) {
        *err = myasprintf("%s: read error: %s", label, strerror(errno));
        ret = -1;
    }
    if (ret == 0)
        ret = param_flush(set, &logical, label, start, err);
    myfree(logical);
    myfree(line);
    return (ret);
}

/* param_set_read_file - read main.cf syntax from a file */
int     param_set_read_file(PARAM_SET *set, const char *path, char **err)
{
    FILE   *fp;
    int     ret;

    if ((fp = fopen(path, "r")) == 0) {
        *err = myasprintf("cannot open configuration file \"%s\": %s",
                          path, strerror(errno));
        return (-1);
    }
    ret = param_set_read_stream(set, fp, path, err);
    fclose(fp);
    return (ret);
}

/* param_set_override - one "name=value", as from -o */
int     param_set_override(PARAM_SET *set, const char *assignment,
                                   const char *label, char **err)
{
    char   *where = label ? mystrdup(label) : myasprintf("-o %s", assignment);
    char   *copy = mystrdup(assignment);
    char   *cp;
    int     ret;

    /* An error is one line, whatever the shell passed. */
    for (cp = where; (cp = strchr(cp, '\n')) != 0; cp++)
        *cp = '?';

    ret = param_assignment(set, copy, where, 1, err);
    myfree(copy);
    myfree(where);
    return (ret);
}

/*
 * param_append - append n bytes to an entry's growing value; -1 past
 * PARAM_VALUE_MAX: references that each repeat the one before would
 * otherwise double the value at every step, to gigabytes in a few lines
 */
static int param_append(PARAM_ENTRY *ent, char **buf, size_t *len,
                                const char *text, size_t n, char **err)
{
    if (*len + n > PARAM_VALUE_MAX) {
        *err = myasprintf("%s: value longer than %d bytes after expansion",
                          param_label(ent), PARAM_VALUE_MAX);
        return (-1);
    }
    *buf = myrealloc(*buf, *len + n + 1);
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = 0;
    return (0);
}

static int param_expand(PARAM_SET *, PARAM_ENTRY *, int, char **);

/* param_reference - parse one $ reference at text[0] == '$' */
static int param_reference(PARAM_SET *set, PARAM_ENTRY *ent, const char *text,
                                   int depth, char **out, size_t *outlen,
                                   char **err)
{
    const char *name = text + 1;
    const char *close = 0;
    size_t  len;
    PARAM_ENTRY *ref;

    if (*name == '$')
        return (param_append(ent, out, outlen, "$", 1, err) < 0 ? -1 : 2);
    if (*name == '{' || *name == '(') {
        close = strchr(name, *name == '{' ? '}' : ')');
        if (close == 0) {
            *err = myasprintf("%s: missing \"%c\" in \"%s\"",
                              param_label(ent),
                              *name == '{' ? '}' : ')', ent->raw);
            return (-1);
        }
        name++;
        len = close - name;
    } else {
        for (len = 0; isalnum((unsigned char) name[len]) || name[len] == '_'; len++)
             /* void */ ;
    }
    if (len == 0) {
        *err = myasprintf("%s: bad \"$\" reference in \"%s\"",
                          param_label(ent), ent->raw);
        return (-1);
    }
    if ((ref = param_find(set, name, len)) == 0) {
        *err = myasprintf("%s: unknown parameter \"$%.*s\"",
                          param_label(ent), (int) len, name);
        return (-1);
    }
    if (param_expand(set, ref, depth + 1, err) < 0
        || param_append(ent, out, outlen, ref->value, strlen(ref->value),
                        err) < 0)
        return (-1);
    return ((int) ((close ? close + 1 : name + len) - text));
}

/* param_expand - expand $references in one entry, recursively */
static int param_expand(PARAM_SET *set, PARAM_ENTRY *ent, int depth, char **err)
{
    const char *cp;
    char   *out;
    size_t  outlen = 0;
    int     used;

    if (ent->state == PARAM_EXPANDED)
        return (0);
    if (ent->state == PARAM_EXPANDING || depth > PARAM_MAX_DEPTH) {
        *err = myasprintf("%s: expansion loop in \"%s\"",
                          param_label(ent), ent->raw);
        return (-1);
    }
    out = mystrdup("");
    ent->state = PARAM_EXPANDING;
    for (cp = ent->raw; *cp; cp += used) {
        if (*cp != '$') {
            used = (int) strcspn(cp, "$");
            if (param_append(ent, &out, &outlen, cp, (size_t) used, err) < 0)
                used = -1;
        } else {
            used = param_reference(set, ent, cp, depth, &out, &outlen, err);
        }
        if (used < 0) {
            ent->state = PARAM_RAW;
            myfree(out);
            return (-1);
        }
    }
    ent->value = out;
    ent->state = PARAM_EXPANDED;
    return (0);
}

/* param_describe_bound - a bound as the user would write it */
static char *param_describe_bound(const SS_PARAM_DEF *def, long val)
{
    return (def->type == SS_PARAM_TIME ? myasprintf("%lds", val)
            : def->type == SS_PARAM_MODE ? myasprintf("%#lo", val)
            : myasprintf("%ld", val));
}

/* param_convert - convert one expanded value into its target */
static int param_convert(PARAM_ENTRY *ent, char **err)
{
    const SS_PARAM_DEF *def = ent->def;
    const char *expect = "an integer";
    int     ret = CONV_OK;
    long    lval = 0;
    int     bval = 0;
    char   *lo, *hi;

    switch (def->type) {
    case SS_PARAM_INT:
        ret = conv_long(ent->value, def->min, def->max, &lval);
        break;
    case SS_PARAM_TIME:
        ret = conv_time(ent->value, def->min, def->max, &lval);
        expect = "a time (number with optional unit s, m, h, d or w)";
        break;
    case SS_PARAM_MODE:
        ret = conv_mode(ent->value, &lval);
        expect = "an octal mode";
        break;
    case SS_PARAM_BOOL:
        ret = conv_bool(ent->value, &bval);
        expect = "yes or no";
        break;
    case SS_PARAM_STR:
        break;
    }
    if (ret == CONV_ERR_SYNTAX) {
        *err = myasprintf("%s: bad value \"%s\": expected %s",
                          param_label(ent), ent->value, expect);
        return (-1);
    }
    if (ret == CONV_ERR_RANGE) {
        lo = param_describe_bound(def, def->min);
        hi = param_describe_bound(def, def->max);
        *err = myasprintf("%s: value \"%s\" out of range (%s to %s)",
                          param_label(ent), ent->value, lo, hi);
        myfree(lo);
        myfree(hi);
        return (-1);
    }
    if (def->lval)
        *def->lval = lval;
    if (def->bval)
        *def->bval = bval;
    if (def->sval)
        *def->sval = mystrdup(ent->value);
    return (0);
}

/* param_set_finish - expand, convert and store every parameter */
int     param_set_finish(PARAM_SET *set, char **err)
{
    size_t  i;

    for (i = 0; i < set->count; i++)
        if (param_expand(set, &set->entries[i], 0, err) < 0)
            return (-1);
    for (i = 0; i < set->count; i++)
        if (param_convert(&set->entries[i], err) < 0)
            return (-1);
    return (0);
}

/* param_set_publish - the set that param_where() asks from now on */
void    param_set_publish(PARAM_SET *set)
{
    param_published = set;
}

/*
 * param_unknown - "parameter NAME" for a name no published set has. Kept
 * per name, never freed: two calls in one expression must both stay
 * valid, and the names are the program's own, a handful.
 */
static const char *param_unknown(const char *name)
{
    static char **known;
    static size_t count;
    size_t  i;

    for (i = 0; i < count; i++)
        if (strcmp(known[i] + sizeof("parameter ") - 1, name) == 0)
            return (known[i]);
    known = myrealloc(known, (count + 1) * sizeof(*known));
    return (known[count++] = myasprintf("parameter %s", name));
}

/* param_where - param_label() by name, for errors found after finish */
const char *param_where(const char *name)
{
    PARAM_ENTRY *ent;

    if (param_published == 0
        || (ent = param_find(param_published, name, strlen(name))) == 0)
        return (param_unknown(name));
    return (param_label(ent));
}

/*
 * param_set_print - "name = raw" lines that read back to the same set:
 * values never hold a line break or white space at either end (both
 * readers see to it), and "#" starts a comment only at a line's start
 */
void    param_set_print(PARAM_SET *set, FILE *fp, int all)
{
    PARAM_ENTRY *ent;
    size_t  i;

    for (i = 0; i < set->count; i++) {
        ent = &set->entries[i];
        if (ent->runtime || (!all && strcmp(ent->raw, ent->defraw) == 0))
            continue;
        fprintf(fp, "%s =%s%s\n", ent->def->name, *ent->raw ? " " : "",
                ent->raw);
    }
}

/* param_set_given - was the parameter set by a file or an override? */
int     param_set_given(PARAM_SET *set, const char *name)
{
    PARAM_ENTRY *ent = param_find(set, name, strlen(name));

    if (ent == 0)
        ss_msg_panic("param_set_given: unknown parameter %s", name);
    return (strcmp(ent->origin, "default") != 0);
}

/* param_set_free - release a set */
void    param_set_free(PARAM_SET *set)
{
    size_t  i;

    if (set == param_published)
        param_published = 0;
    for (i = 0; i < set->count; i++) {
        myfree(set->entries[i].raw);
        myfree(set->entries[i].origin);
        myfree(set->entries[i].defraw);
        myfree(set->entries[i].where);
        myfree(set->entries[i].value);
    }
    myfree(set->entries);
    myfree(set);
}
