/*
 * fuzz_access.c - libFuzzer target for the access rules parser
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_access.c lib/access.c lib/access_trie.c \
 *	    lib/hostname.c lib/conv.c lib/mymalloc.c t/fuzz/fuzz_msg.c \
 *	    -o fuzz_access
 *	mkdir -p corpus && ./fuzz_access -max_total_time=60 corpus
 *
 * Any bytes go to access_parse(); a rule set that parses is asked about
 * peers made of the same bytes, and what it answers is checked against
 * what the header promises. An error must be one line naming the label.
 *
 * The same bytes go to hostname_clean(), whole and in pieces, and what
 * passes must be a clean name: the same again when cleaned twice, the
 * input lower-cased less one final dot. Every name rule of a set that
 * parses must match the name it names ("=host": host itself;
 * "=.domain": a name under it), and names made of the input are looked
 * up too.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "access.h"
#include "hostname.h"
#include "mymalloc.h"

/* fuzz_uid - a password database of two users */
static int fuzz_uid(const char *name, long *uid)
{
    if (strcmp(name, "root") == 0)
        *uid = 0;
    else if (strcmp(name, "nobody") == 0)
        *uid = 65534;
    else
        return (-1);
    return (0);
}

/* fuzz_check - a rule that access_match() returned keeps its promises */
static void fuzz_check(const ACCESS *acc, const ACCESS_RULE *rule)
{
    char  **cpp;

    if (rule == 0)
        return;
    if (rule->env == 0 || rule->line < 1 || (rule->allow && rule->message)
        || (!rule->allow && rule->env[0]) || access_count(acc) == 0)
        abort();
    for (cpp = rule->env; *cpp; cpp++)
        if (strchr(*cpp, '=') == 0)
            abort();
}

/* fuzz_peers - ask about peers made of the input's bytes */
static void fuzz_peers(const ACCESS *acc, const uint8_t *data, size_t size)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    uint8_t bytes[16] = {0};
    long    uid;

    memcpy(bytes, data, size < 16 ? size : 16);
    memcpy(&sin.sin_addr, bytes, 4);
    memcpy(&sin6.sin6_addr, bytes, 16);
    fuzz_check(acc, access_match(acc, (struct sockaddr *) &sin,
                                 sizeof(sin), -1));
    fuzz_check(acc, access_match(acc, (struct sockaddr *) &sin6,
                                 sizeof(sin6), -1));
    memset(sin6.sin6_addr.s6_addr, 0, 10);      /* IPv4-mapped */
    memset(sin6.sin6_addr.s6_addr + 10, 0xff, 2);
    fuzz_check(acc, access_match(acc, (struct sockaddr *) &sin6,
                                 sizeof(sin6), -1));
    uid = (long) bytes[0] << 8 | bytes[1];
    fuzz_check(acc, access_match(acc, (struct sockaddr *) &sun,
                                 sizeof(sa_family_t), uid));
    fuzz_check(acc, access_match(acc, (struct sockaddr *) &sun,
                                 sizeof(sa_family_t), 0));
    fuzz_check(acc, access_match(acc, 0, 0, -1));
    fuzz_check(acc, access_match(acc, (struct sockaddr *) &sin, 3, 7));
}

/* fuzz_clean - hostname_clean() on len bytes: 0 only for a clean name */
static int fuzz_clean(const char *in, size_t len, char *out)
{
    char    again[HOSTNAME_MAX + 1];
    size_t  n;
    size_t  i;

    if (hostname_clean(in, len, out) < 0)
        return (-1);
    n = strlen(out);
    if (n == 0 || n > HOSTNAME_MAX || out[0] == '.' || out[n - 1] == '.'
        || strstr(out, "..") != 0 || n + (in[len - 1] == '.') != len)
        abort();
    for (i = 0; i < n; i++)
        if (!(out[i] == in[i] || (in[i] >= 'A' && in[i] <= 'Z'
                                  && out[i] == in[i] - 'A' + 'a'))
            || strchr("abcdefghijklmnopqrstuvwxyz0123456789-._", out[i]) == 0)
            abort();
    if (hostname_clean(out, n, again) < 0 || strcmp(again, out) != 0)
        abort();
    return (0);
}

/* fuzz_name - a name rule that matches nothing, or a rule that is not one */
static void fuzz_name(const ACCESS *acc, const char *name, int must)
{
    const ACCESS_RULE *rule = access_match_name(acc, name);

    if ((must && rule == 0) || (rule && (rule->any || !access_has_names(acc))))
        abort();
    fuzz_check(acc, rule);
}

/* fuzz_pattern - a name pattern at the start of a line must match */
static void fuzz_pattern(const ACCESS *acc, const char *text, size_t len)
{
    char    name[HOSTNAME_MAX + 1];
    char    under[HOSTNAME_MAX + 3] = "x.";
    size_t  n = 0;
    int     domain;

    while (n < len && strchr(" \t\r\v\f", text[n]) && text[n] != 0)
        n++;
    if (n == len || text[n] != '=')
        return;
    text += n + 1;
    len -= n + 1;
    domain = len > 0 && text[0] == '.';
    for (n = domain; n < len && strchr(" \t\r\v\f", text[n]) == 0; n++)
        /* void */ ;
    /* The set parsed: the name is clean, or the parser is wrong. */
    if (fuzz_clean(text + domain, n - domain, name) < 0)
        abort();
    if (!domain)
        fuzz_name(acc, name, 1);
    else
        fuzz_name(acc, strcat(under, name), strlen(name) + 2 <= HOSTNAME_MAX);
    fuzz_name(acc, name, 0);
}

/* fuzz_names - every line's name pattern, and names made of the input */
static void fuzz_names(const ACCESS *acc, const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    const char *nl;
    char    name[HOSTNAME_MAX + 1];
    size_t  pos;
    size_t  n;

    for (pos = 0; pos < size; pos += n + 1) {
        nl = memchr(text + pos, '\n', size - pos);
        n = nl ? (size_t) (nl - (text + pos)) : size - pos;
        fuzz_pattern(acc, text + pos, n);
        if (fuzz_clean(text + pos, n, name) == 0)
            fuzz_name(acc, name, 0);
    }
    if (!access_has_names(acc) && access_match_name(acc, "x.test") != 0)
        abort();
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *err = 0;
    char    name[HOSTNAME_MAX + 1];
    ACCESS *acc;
    size_t  n;

    /* Raw bytes as a name from DNS: short prefixes, a few long ones, all */
    for (n = 0; n <= size && n <= 300; n += n < 64 ? 1 : 61)
        (void) fuzz_clean((const char *) data, n, name);
    (void) fuzz_clean((const char *) data, size, name);
    acc = access_parse((const char *) data, size, "fuzz", fuzz_uid, &err);
    if (acc == 0) {
        if (err == 0 || strncmp(err, "fuzz, line ", 11) != 0
            || strchr(err, '\n') != 0)
            abort();
        myfree(err);
        return (0);
    }
    if (err != 0)
        abort();
    fuzz_peers(acc, data, size);
    fuzz_names(acc, data, size);
    access_free(acc);
    return (0);
}
