/*
 * access.c - access rules: who may connect, and what its handler is told
 *
 * The lookup structure is a path-compressed binary trie per kind of key
 * (IPv4, IPv6, uid), its nodes in one array and linked by index, so that
 * a realloc() moves nothing that matters and access_free() frees a
 * handful of blocks. Each node holds a prefix; an inner node that only
 * joins two branches holds no rule. Prefix lengths grow strictly on the
 * way down, so an insertion or a lookup visits at most bits + 1 nodes,
 * whatever the number of rules, and nothing recurses. Duplicates fall
 * out of the insertion: the same prefix lands on the same node.
 *
 * uids live in a trie of their own as 32-bit keys that are always full
 * length: the same code, a bounded lookup, no hash to flood.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "conv.h"
#include "mymalloc.h"

#define ACCESS_V4       0               /* the tries, by kind of key */
#define ACCESS_V6       1
#define ACCESS_UID      2
#define ACCESS_ANY      3               /* "*": no trie */
#define ACCESS_TRIES    3

/* The largest uid: (uid_t) -1 means "none" to the kernel. */
#define ACCESS_UID_MAX  ((long) (LONG_MAX < 4294967294 ? LONG_MAX : 4294967294))

typedef struct ACCESS_KEY {
    uint32_t w[4];                      /* most significant bit first */
} ACCESS_KEY;

typedef struct ACCESS_NODE {
    ACCESS_KEY key;                     /* the prefix, later bits zero */
    uint32_t child[2];                  /* by the bit after it; 0: none */
    uint32_t rule;                      /* index + 1 in rules; 0: none */
    int     plen;                       /* prefix length in bits */
} ACCESS_NODE;

struct ACCESS {
    ACCESS_RULE *rules;
    size_t  nrules;
    size_t  rules_size;
    ACCESS_NODE *nodes;                 /* nodes[0] unused: 0 is "none" */
    size_t  nnodes;
    size_t  nodes_size;
    uint32_t root[ACCESS_TRIES];
    size_t  any;                        /* the "*" rule, index + 1 */
};

typedef struct ACCESS_PATTERN {
    int     kind;                       /* ACCESS_V4 ... ACCESS_ANY */
    ACCESS_KEY key;
    int     plen;
} ACCESS_PATTERN;

typedef struct ACCESS_CTX {
    const char *label;                  /* the file, in messages */
    int     line;                       /* the line being parsed */
    ACCESS_UID_FN uid_fn;
    char  **err;
    char   *buf;                        /* a copy of the line */
    size_t  size;
} ACCESS_CTX;

static const int access_bits[ACCESS_TRIES] = {32, 128, 32};

#define ACCESS_STR(n) ACCESS_STR2(n)
#define ACCESS_STR2(n) #n

static char *access_no_env[] = {0};     /* shared by rules without */

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

/* access_key_bytes - a key from an address in network byte order */
static void access_key_bytes(ACCESS_KEY *key, const unsigned char *bytes,
                                     size_t len)
{
    size_t  i;

    memset(key, 0, sizeof(*key));
    for (i = 0; i < len; i++)
        key->w[i / 4] |= (uint32_t) bytes[i] << (24 - 8 * (i % 4));
}

/* access_mask - clear the bits of key after the first plen */
static void access_mask(ACCESS_KEY *key, int plen)
{
    int     i;
    int     keep;

    for (i = 0; i < 4; i++) {
        keep = plen - 32 * i;
        if (keep <= 0)
            key->w[i] = 0;
        else if (keep < 32)
            key->w[i] &= ~(0xffffffffu >> keep);
    }
}

/* access_bit - bit i of key */
static int access_bit(const ACCESS_KEY *key, int i)
{
    return ((key->w[i / 32] >> (31 - i % 32)) & 1);
}

/* access_clz - leading zero bits of x, which is not 0 */
static int access_clz(uint32_t x)
{
    int     n = 0;

    if ((x & 0xffff0000u) == 0) {
        n += 16;
        x <<= 16;
    }
    if ((x & 0xff000000u) == 0) {
        n += 8;
        x <<= 8;
    }
    if ((x & 0xf0000000u) == 0) {
        n += 4;
        x <<= 4;
    }
    if ((x & 0xc0000000u) == 0) {
        n += 2;
        x <<= 2;
    }
    return (n + ((x & 0x80000000u) == 0));
}

/* access_common - the number of leading bits a and b share, at most max */
static int access_common(const ACCESS_KEY *a, const ACCESS_KEY *b, int max)
{
    int     n = 0;
    int     i;
    uint32_t x;

    for (i = 0; i < 4 && n < max; i++, n += 32)
        if ((x = a->w[i] ^ b->w[i]) != 0) {
            n += access_clz(x);
            break;
        }
    return (n < max ? n : max);
}

/* access_within - whether key starts with the prefix of node n */
static int access_within(const ACCESS_NODE *n, const ACCESS_KEY *key)
{
    int     left = n->plen;
    int     i;
    uint32_t x;

    for (i = 0; left > 0; i++, left -= 32) {
        x = n->key.w[i] ^ key->w[i];
        if ((left < 32 ? x >> (32 - left) : x) != 0)
            return (0);
    }
    return (1);
}

/* access_node - a new node; the caller reserved room for it */
static uint32_t access_node(ACCESS *acc, const ACCESS_KEY *key, int plen,
                                    size_t rule)
{
    ACCESS_NODE *node = acc->nodes + acc->nnodes;

    node->key = *key;
    access_mask(&node->key, plen);
    node->child[0] = node->child[1] = 0;
    node->rule = (uint32_t) rule;
    node->plen = plen;
    return ((uint32_t) acc->nnodes++);
}

/* access_reserve - room for two more nodes, so that pointers into them hold */
static void access_reserve(ACCESS *acc)
{
    if (acc->nnodes + 2 > acc->nodes_size) {
        acc->nodes_size *= 2;
        acc->nodes = myrealloc(acc->nodes,
                               acc->nodes_size * sizeof(ACCESS_NODE));
    }
}

/* access_insert - add a prefix to a trie: 0, or the rule already there */
static size_t access_insert(ACCESS *acc, int trie, const ACCESS_KEY *key,
                                    int plen, size_t rule)
{
    uint32_t *slot = acc->root + trie;
    ACCESS_NODE *n;
    uint32_t fork;
    int     common;

    access_reserve(acc);
    while (*slot != 0) {
        n = acc->nodes + *slot;
        common = access_common(&n->key, key, n->plen < plen ? n->plen : plen);
        if (common == n->plen && common == plen) {
            if (n->rule == 0)                   /* an inner node: fill it */
                n->rule = (uint32_t) rule;
            return (n->rule == rule ? 0 : n->rule);
        }
        if (common == n->plen) {                /* below n: go down */
            slot = n->child + access_bit(key, common);
            continue;
        }
        if (common == plen) {                   /* above n: the new parent */
            fork = access_node(acc, key, plen, rule);
        } else {                                /* beside n: a fork */
            fork = access_node(acc, key, common, 0);
            acc->nodes[fork].child[access_bit(key, common)] =
                access_node(acc, key, plen, rule);
        }
        acc->nodes[fork].child[access_bit(&n->key, common)] = *slot;
        *slot = fork;
        return (0);
    }
    *slot = access_node(acc, key, plen, rule);
    return (0);
}

/* access_lookup - the rule of the longest prefix of key in a trie, or 0 */
static size_t access_lookup(const ACCESS *acc, int trie, const ACCESS_KEY *key)
{
    uint32_t i = acc->root[trie];
    const ACCESS_NODE *n;
    size_t  best = 0;

    while (i != 0) {
        n = acc->nodes + i;
        if (!access_within(n, key))
            break;
        if (n->rule != 0)
            best = n->rule;
        if (n->plen == access_bits[trie])
            break;
        i = n->child[access_bit(key, n->plen)];
    }
    return (best);
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

/* access_pattern - what a rule applies to */
static int access_pattern(ACCESS_CTX *ctx, const char *text,
                                  ACCESS_PATTERN *pat)
{
    if (strcmp(text, "*") == 0) {
        pat->kind = ACCESS_ANY;
        return (0);
    }
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

/* access_env_free - release a rule's environment */
static void access_env_free(char **env)
{
    char  **cpp;

    if (env == 0 || env == access_no_env)
        return;
    for (cpp = env; *cpp != 0; cpp++)
        myfree(*cpp);
    myfree(env);
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

/* access_rule_free - release what a rule holds */
static void access_rule_free(ACCESS_RULE *rule)
{
    myfree((void *) rule->message);
    access_env_free(rule->env);
}

/* access_place - a pattern into its trie: 0, or the rule already there */
static size_t access_place(ACCESS *acc, const ACCESS_PATTERN *pat,
                                   size_t rule)
{
    if (pat->kind != ACCESS_ANY)
        return (access_insert(acc, pat->kind, &pat->key, pat->plen, rule));
    if (acc->any != 0)
        return (acc->any);
    acc->any = rule;
    return (0);
}

/* access_add - append a rule */
static void access_add(ACCESS *acc, const ACCESS_RULE *rule)
{
    if (acc->nrules == acc->rules_size) {
        acc->rules_size *= 2;
        acc->rules = myrealloc(acc->rules, acc->rules_size * sizeof(*rule));
    }
    acc->rules[acc->nrules++] = *rule;
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
    ACCESS_RULE rule = {0, 0, access_no_env, ctx->line};
    ACCESS_PATTERN pat;
    char   *rest = access_word(line);
    char   *action = rest;
    char    tail[40];
    size_t  dup;

    if (access_pattern(ctx, line, &pat) < 0)
        return (-1);
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
    if ((dup = access_place(acc, &pat, acc->nrules + 1)) != 0) {
        access_rule_free(&rule);
        snprintf(tail, sizeof(tail), " (also on line %d)",
                 acc->rules[dup - 1].line);
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

/* access_new - an empty rule set */
static ACCESS *access_new(void)
{
    ACCESS *acc = mycalloc(1, sizeof(*acc));

    acc->rules_size = 16;
    acc->rules = mymalloc(acc->rules_size * sizeof(*acc->rules));
    acc->nodes_size = 16;
    acc->nodes = mymalloc(acc->nodes_size * sizeof(*acc->nodes));
    acc->nnodes = 1;                    /* index 0 means "none" */
    return (acc);
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
 * access_networks - a list of addresses and networks (Postfix's list
 * syntax) as allow rules; an item listed twice is listed once
 */
ACCESS *access_networks(const char *list, const char *label, char **err)
{
    ACCESS_CTX ctx = {label, 0, 0, err, 0, 0};
    ACCESS *acc = access_new();
    ACCESS_RULE rule = {1, 0, access_no_env, 0};
    ACCESS_PATTERN pat;
    char   *copy = mystrdup(list);
    char   *item;
    char   *next = copy;

    while ((item = strsep(&next, ", \t\r\n\v\f")) != 0) {
        if (*item == 0)
            continue;
        if (access_net(&ctx, item, &pat) < 0) {
            myfree(copy);
            access_free(acc);
            return (0);
        }
        if (access_place(acc, &pat, acc->nrules + 1) == 0)
            access_add(acc, &rule);
    }
    myfree(copy);
    return (acc);
}

/* access_peer_key - the trie and key for a peer; -1: none applies */
static int access_peer_key(const struct sockaddr *peer, socklen_t len,
                                   long uid, ACCESS_KEY *key)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    int     family = AF_UNSPEC;

    if (peer != 0 && len >= sizeof(sa_family_t))
        family = peer->sa_family;

    if (family == AF_INET) {
        if (len < sizeof(sin))
            return (-1);
        memcpy(&sin, peer, sizeof(sin));
        access_key_bytes(key, (unsigned char *) &sin.sin_addr, 4);
        return (ACCESS_V4);
    }
    if (family == AF_INET6) {
        if (len < sizeof(sin6))
            return (-1);
        memcpy(&sin6, peer, sizeof(sin6));
        if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
            access_key_bytes(key, sin6.sin6_addr.s6_addr + 12, 4);
            return (ACCESS_V4);
        }
        access_key_bytes(key, sin6.sin6_addr.s6_addr, 16);
        return (ACCESS_V6);
    }
    if (uid < 0 || uid > ACCESS_UID_MAX)
        return (-1);
    memset(key, 0, sizeof(*key));
    key->w[0] = (uint32_t) uid;
    return (ACCESS_UID);
}

/* access_match - the rule that decides for a peer, or null */
const ACCESS_RULE *access_match(const ACCESS *acc, const struct sockaddr *peer,
                                        socklen_t len, long uid)
{
    ACCESS_KEY key;
    int     trie = access_peer_key(peer, len, uid, &key);
    size_t  found = trie < 0 ? 0 : access_lookup(acc, trie, &key);

    if (found == 0)
        found = acc->any;
    return (found ? acc->rules + found - 1 : 0);
}

/* access_count - the number of rules */
size_t  access_count(const ACCESS *acc)
{
    return (acc->nrules);
}

/* access_free - release everything */
void    access_free(ACCESS *acc)
{
    size_t  i;

    if (acc == 0)
        return;
    for (i = 0; i < acc->nrules; i++)
        access_rule_free(acc->rules + i);
    myfree(acc->rules);
    myfree(acc->nodes);
    myfree(acc);
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
