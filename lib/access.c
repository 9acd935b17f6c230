/*
 * access.c - access rules: who may connect, and what its handler is told
 *
 * The parser of access(3): rules files and network lists become a rule
 * set through the few calls of access_trie.h, which holds the rules and
 * answers the lookups (access_match() is there).
 *
 * The text is hostile (a fuzz target feeds it): every line is bounded
 * and copied into a buffer of ours before anything reads it as a string,
 * so nothing reads past len and a NUL byte is refused, not a terminator.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "access_trie.h"
#include "conv.h"
#include "hostname.h"
#include "mymalloc.h"

typedef struct ACCESS_CTX {
    const char *label;                  /* the file, in messages */
    int     line;                       /* the line being parsed */
    ACCESS_UID_FN uid_fn;
    char  **err;
    char   *buf;                        /* a copy of the line */
    size_t  size;
} ACCESS_CTX;

#define ACCESS_STR(n) ACCESS_STR2(n)
#define ACCESS_STR2(n) #n

/* access_space - white space within a line */
static int access_space(int c)
{
    return (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f');
}

/* access_span - bytes up to white space or the end */
static size_t access_span(const char *text)
{
    size_t  n = 0;

    while (text[n] != 0 && !access_space(text[n]))
        n++;
    return (n);
}

/*
 * access_error - set *err to "LABEL, line N: what "culprit"tail" (a list
 * parameter has no lines: "LABEL: what ..."), return -1
 */
static int access_error(ACCESS_CTX *ctx, const char *what,
                                const char *culprit, size_t len,
                                const char *tail)
{
    char    where[20] = "";
    char    shown[ACCESS_CULPRIT_MAX + 4];
    size_t  n = len < ACCESS_CULPRIT_MAX ? len : ACCESS_CULPRIT_MAX;
    size_t  i;

    if (ctx->line > 0)
        snprintf(where, sizeof(where), ", line %d", ctx->line);
    if (culprit == 0) {
        *ctx->err = myasprintf("%s%s: %s", ctx->label, where, what);
        return (-1);
    }
    /* One line, whatever the culprit holds. */
    for (i = 0; i < n; i++)
        shown[i] = ((unsigned char) culprit[i] < 0x20 || culprit[i] == 0x7f) ?
            '?' : culprit[i];
    strcpy(shown + n, len > n ? "..." : "");
    *ctx->err = myasprintf("%s%s: %s \"%s\"%s", ctx->label, where, what,
                           shown, tail);
    return (-1);
}

/* access_uid - "uid:N" or "uid:NAME" */
static int access_uid(ACCESS_CTX *ctx, const char *text, ACCESS_PATTERN *pat)
{
    const char *name = text + 4;
    long    uid;

    if (name[0] == 0)
        return (access_error(ctx, "bad uid", text, strlen(text), ""));
    if (strspn(name, "0123456789") == strlen(name)) {
        if (conv_long(name, 0, ACCESS_UID_MAX, &uid) != CONV_OK)
            return (access_error(ctx, "bad uid", text, strlen(text), ""));
    } else if (ctx->uid_fn == 0 || ctx->uid_fn(name, &uid) < 0
               || uid < 0 || uid > ACCESS_UID_MAX) {
        return (access_error(ctx, "unknown user", name, strlen(name), ""));
    }
    memset(&pat->key, 0, sizeof(pat->key));
    pat->key.w[0] = (uint32_t) uid;
    pat->kind = ACCESS_UID;
    pat->plen = 32;
    return (0);
}

/* access_prefix - the "/n" of a network: 0..max, or -1 */
static int access_prefix(const char *text, int max)
{
    long    n;

    if (text[0] == 0 || strspn(text, "0123456789") != strlen(text)
        || strlen(text) > 3 || conv_long(text, 0, max, &n) != CONV_OK)
        return (-1);
    return ((int) n);
}

/* access_v4mapped - an IPv6 pattern within ::ffff:0:0/96 as IPv4 */
static void access_v4mapped(ACCESS_PATTERN *pat)
{
    if (pat->kind == ACCESS_V6 && pat->plen >= 96 && pat->key.w[0] == 0
        && pat->key.w[1] == 0 && pat->key.w[2] == 0xffff) {
        pat->kind = ACCESS_V4;
        pat->key.w[0] = pat->key.w[3];
        pat->key.w[3] = 0;
        pat->key.w[2] = 0;
        pat->plen -= 96;
    }
}

/* access_net - an address or a network */
static int access_net(ACCESS_CTX *ctx, const char *text, ACCESS_PATTERN *pat)
{
    char    addr[INET6_ADDRSTRLEN + 1];
    unsigned char bytes[16];
    size_t  alen = strcspn(text, "/");
    ACCESS_KEY full;

    pat->kind = memchr(text, ':', alen) ? ACCESS_V6 : ACCESS_V4;
    if (alen >= sizeof(addr))
        return (access_error(ctx, "bad address", text, strlen(text), ""));
    memcpy(addr, text, alen);
    addr[alen] = 0;
    if (inet_pton(pat->kind == ACCESS_V6 ? AF_INET6 : AF_INET, addr,
                  bytes) != 1)
        return (access_error(ctx, "bad address", text, strlen(text), ""));
    pat->plen = access_bits[pat->kind];
    if (text[alen] == '/'
        && (pat->plen = access_prefix(text + alen + 1, pat->plen)) < 0)
        return (access_error(ctx, "bad network", text, strlen(text), ""));
    access_key_bytes(&pat->key, bytes, pat->kind == ACCESS_V6 ? 16 : 4);
    full = pat->key;
    access_mask(&pat->key, pat->plen);
    if (memcmp(&full, &pat->key, sizeof(full)) != 0)
        return (access_error(ctx, "network", text, strlen(text),
                             " has host bits set"));
    access_v4mapped(pat);
    return (0);
}

/*
 * access_host - "=name" or "=.domain", the name as hostname_clean() has
 * it: a name from DNS and one from a rule then compare as strings
 */
static int access_host(ACCESS_CTX *ctx, const char *text, ACCESS_PATTERN *pat)
{
    const char *name = text + 1;

    pat->kind = ACCESS_HOST;
    if (name[0] == '.') {
        pat->kind = ACCESS_DOMAIN;
        name++;
    }
    if (hostname_clean(name, strlen(name), pat->name) < 0)
        return (access_error(ctx, "bad host name", text, strlen(text), ""));
    return (0);
}

/* access_pattern - what a rule applies to */
static int access_pattern(ACCESS_CTX *ctx, const char *text,
                                  ACCESS_PATTERN *pat)
{
    if (strcmp(text, "*") == 0) {
        pat->kind = ACCESS_ANY;
        return (0);
    }
    if (text[0] == '=')
        return (access_host(ctx, text, pat));
    if (strncmp(text, "uid:", 4) == 0)
        return (access_uid(ctx, text, pat));
    return (access_net(ctx, text, pat));
}

/* access_name_char - a letter, a digit or '_'; first says no digit */
static int access_name_char(int c, int first)
{
    return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
            || (!first && c >= '0' && c <= '9'));
}

/* access_quoted - copy a quoted value up to its closing quote, unescaped */
static void access_quoted(const char *from, const char *quote, char *to)
{
    for (/* void */ ; from < quote; from++) {
        if (from[0] == '\\' && (from[1] == '"' || from[1] == '\\'))
            from++;
        *to++ = *from;
    }
    *to = 0;
}

/* access_assignment - NAME=value at *cursor into a new string; advance */
static int access_assignment(ACCESS_CTX *ctx, char **cursor, char **out)
{
    char   *start = *cursor;
    char   *p = start;
    char   *q;

    if (!access_name_char(*p, 1))
        return (access_error(ctx, "bad assignment", start, access_span(start),
                             " (expected NAME=value)"));
    while (access_name_char(*p, 0))
        p++;
    if (*p++ != '=')
        return (access_error(ctx, "bad assignment", start, access_span(start),
                             " (expected NAME=value)"));
    if (*p != '"') {
        if (memchr(p, '"', (q = p + access_span(p)) - p) != 0)
            return (access_error(ctx, "stray quote in", start,
                                 access_span(start), ""));
        *out = mystrndup(start, q - start);
        *cursor = q;
        return (0);
    }
    for (q = p + 1; *q != 0 && *q != '"'; q++)
        if (q[0] == '\\' && (q[1] == '"' || q[1] == '\\'))
            q++;
    if (*q == 0)
        return (access_error(ctx, "unterminated quote in", start,
                             strlen(start), ""));
    if (q[1] != 0 && !access_space(q[1]))
        return (access_error(ctx, "text after the closing quote in", start,
                             q + 1 - start + access_span(q + 1), ""));
    *out = mymalloc(q - start);         /* "NAME=" + value + null byte */
    memcpy(*out, start, p - start);
    access_quoted(p + 1, q, *out + (p - start));
    *cursor = q + 1;
    return (0);
}

/* access_name_cmp - qsort() order of "NAME=value" strings by NAME */
static int access_name_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *) a;
    const unsigned char *y = *(const unsigned char *const *) b;

    while (*x == *y && *x != '=') {
        x++;
        y++;
    }
    return ((*x == '=' ? 0 : *x) - (*y == '=' ? 0 : *y));
}

/* access_env_unique - each NAME at most once (sorted: no quadratic scan) */
static int access_env_unique(ACCESS_CTX *ctx, char **env, size_t n)
{
    char  **sorted = mymalloc(n * sizeof(*sorted));
    size_t  i;
    int     ret = 0;

    memcpy(sorted, env, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), access_name_cmp);
    for (i = 1; i < n && ret == 0; i++)
        if (access_name_cmp(sorted + i - 1, sorted + i) == 0)
            ret = access_error(ctx, "variable", sorted[i],
                               strcspn(sorted[i], "="), " assigned twice");
    myfree(sorted);
    return (ret);
}

/* access_env - the NAME=value assignments after "allow" */
static int access_env(ACCESS_CTX *ctx, char *text, char ***envp)
{
    char  **env = 0;
    size_t  n = 0;
    size_t  size = 0;
    int     ret = 0;

    while (*text != 0 && ret == 0) {
        if (n == ACCESS_ENV_MAX) {
            ret = access_error(ctx, "more than " ACCESS_STR(ACCESS_ENV_MAX)
                               " assignments in one rule", 0, 0, "");
            break;
        }
        if (n + 2 > size) {
            size = size ? 2 * size : 4;
            env = myrealloc(env, size * sizeof(*env));
        }
        if ((ret = access_assignment(ctx, &text, env + n)) == 0)
            n++;
        env[n] = 0;
        while (access_space(*text))
            text++;
    }
    if (ret == 0 && n > 1)
        ret = access_env_unique(ctx, env, n);
    if (ret < 0) {
        access_env_free(env);
        return (-1);
    }
    *envp = env ? env : access_no_env;
    return (0);
}

/* access_word - end the word at text, return the start of the next */
static char *access_word(char *text)
{
    text += access_span(text);
    if (*text != 0)
        *text++ = 0;
    while (access_space(*text))
        text++;
    return (text);
}

/* access_rule - one rule: a trimmed line that is no comment */
static int access_rule(ACCESS *acc, ACCESS_CTX *ctx, char *line)
{
    ACCESS_RULE rule = {0, 0, access_no_env, ctx->line, 0};
    ACCESS_PATTERN pat;
    char   *rest = access_word(line);
    char   *action = rest;
    char    tail[40];
    const ACCESS_RULE *dup;

    if (access_pattern(ctx, line, &pat) < 0)
        return (-1);
    rule.any = pat.kind == ACCESS_ANY;
    if (*action == 0)
        return (access_error(ctx, "no action after", line, strlen(line),
                             " (expected allow or deny)"));
    rest = access_word(action);
    if (strcmp(action, "allow") == 0) {
        rule.allow = 1;
        if (access_env(ctx, rest, &rule.env) < 0)
            return (-1);
    } else if (strcmp(action, "deny") == 0) {
        rule.message = *rest ? mystrdup(rest) : 0;
    } else {
        return (access_error(ctx, "unknown action", action, strlen(action),
                             " (expected allow or deny)"));
    }
    if ((dup = access_place(acc, &pat)) != 0) {
        access_rule_free(&rule);
        snprintf(tail, sizeof(tail), " (also on line %d)", dup->line);
        return (access_error(ctx, "duplicate pattern", line, strlen(line),
                             tail));
    }
    access_add(acc, &rule);
    return (0);
}

/* access_line - one line of len bytes (no newline) */
static int access_line(ACCESS *acc, ACCESS_CTX *ctx, const char *text,
                               size_t len)
{
    char    what[60];
    char   *line;
    char   *end;

    if (len > ACCESS_LINE_MAX) {
        snprintf(what, sizeof(what), "line longer than %d bytes",
                 ACCESS_LINE_MAX);
        return (access_error(ctx, what, 0, 0, ""));
    }
    if (memchr(text, 0, len) != 0)
        return (access_error(ctx, "NUL byte in line", 0, 0, ""));
    if (len + 1 > ctx->size) {
        ctx->size = len + 1 > 2 * ctx->size ? len + 1 : 2 * ctx->size;
        ctx->buf = myrealloc(ctx->buf, ctx->size);
    }
    memcpy(ctx->buf, text, len);
    ctx->buf[len] = 0;
    for (end = ctx->buf + len; end > ctx->buf && access_space(end[-1]); end--)
        end[-1] = 0;
    for (line = ctx->buf; access_space(*line); line++)
         /* void */ ;
    if (*line == 0 || *line == '#')
        return (0);
    return (access_rule(acc, ctx, line));
}

/* access_parse - rules from text */
ACCESS *access_parse(const char *text, size_t len, const char *label,
                             ACCESS_UID_FN uid_fn, char **err)
{
    ACCESS_CTX ctx = {label, 0, uid_fn, err, 0, 0};
    ACCESS *acc = access_new();
    const char *nl;
    size_t  pos = 0;
    size_t  n;
    int     ret = 0;

    while (pos < len && ret == 0) {
        nl = memchr(text + pos, '\n', len - pos);
        n = nl ? (size_t) (nl - (text + pos)) : len - pos;
        if (ctx.line == INT_MAX)
            ret = access_error(&ctx, "too many lines", 0, 0, "");
        else
            ctx.line++;
        if (ret == 0)
            ret = access_line(acc, &ctx, text + pos, n);
        pos += n + 1;
    }
    myfree(ctx.buf);
    if (ret < 0) {
        access_free(acc);
        return (0);
    }
    return (acc);
}

/*
 * access_network - one item of a list: an address or a network. Never a
 * name: such lists (upstream_proxy_networks) decide on the address alone,
 * before any lookup could be made.
 */
static int access_network(ACCESS_CTX *ctx, const char *item,
                                  ACCESS_PATTERN *pat)
{
    if (item[0] == '=')
        return (access_error(ctx, "host name", item, strlen(item),
                             " is not a network"));
    return (access_net(ctx, item, pat));
}

/*
 * access_networks - a list of addresses and networks (Postfix's list
 * syntax) as allow rules; an item listed twice is listed once
 */
ACCESS *access_networks(const char *list, const char *label, char **err)
{
    ACCESS_CTX ctx = {label, 0, 0, err, 0, 0};
    ACCESS *acc = access_new();
    ACCESS_RULE rule = {1, 0, access_no_env, 0, 0};
    ACCESS_PATTERN pat;
    char   *copy = mystrdup(list);
    char   *item;
    char   *next = copy;

    while ((item = strsep(&next, ", \t\r\n\v\f")) != 0) {
        if (*item == 0)
            continue;
        if (access_network(&ctx, item, &pat) < 0) {
            myfree(copy);
            access_free(acc);
            return (0);
        }
        if (access_place(acc, &pat) == 0)
            access_add(acc, &rule);
    }
    myfree(copy);
    return (acc);
}

/* access_getpwnam - a user's uid from the password database */
static int access_getpwnam(const char *name, long *uid)
{
    struct passwd *pw = getpwnam(name);

    if (pw == 0)
        return (-1);
    *uid = (long) pw->pw_uid;
    return (0);
}

/* access_slurp - a whole file of at most ACCESS_FILE_MAX bytes, or null */
static char *access_slurp(const char *path, size_t *len, char **err)
{
    size_t  size = 8192;
    char   *text = mymalloc(size);
    ssize_t got = 0;
    int     fd;
    int     saved;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        *err = myasprintf("cannot open rules file \"%s\": %s", path,
                          strerror(errno));
        myfree(text);
        return (0);
    }
    for (*len = 0; *len <= ACCESS_FILE_MAX; *len += got) {
        if (*len == size) {             /* one byte past the bound will do */
            size = 2 * size <= ACCESS_FILE_MAX ? 2 * size : ACCESS_FILE_MAX + 1;
            text = myrealloc(text, size);
        }
        if ((got = read(fd, text + *len, size - *len)) < 0 && errno == EINTR)
            got = 0;
        else if (got <= 0)
            break;
    }
    saved = errno;
    (void) close(fd);
    if (got < 0)
        *err = myasprintf("cannot read rules file \"%s\": %s", path,
                          strerror(saved));
    else if (*len > ACCESS_FILE_MAX)
        *err = myasprintf("rules file \"%s\" is larger than %ld bytes", path,
                          ACCESS_FILE_MAX);
    if (got < 0 || *len > ACCESS_FILE_MAX) {
        myfree(text);
        return (0);
    }
    return (text);
}

/* access_read - rules from a file, user names from the password database */
ACCESS *access_read(const char *path, char **err)
{
    ACCESS *acc;
    size_t  len;
    char   *text;

    if ((text = access_slurp(path, &len, err)) == 0)
        return (0);
    acc = access_parse(text, len, path, access_getpwnam, err);
    myfree(text);
    /* It would deny everyone, unlike no file at all: say so at start. */
    if (acc != 0 && access_count(acc) == 0) {
        *err = myasprintf("%s: no rules; write \"* deny\" to refuse "
                          "everyone", path);
        access_free(acc);
        return (0);
    }
    return (acc);
}
