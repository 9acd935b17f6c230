/*
 * fuzz_access.c - libFuzzer target for the access rules parser
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_access.c lib/access.c lib/access_trie.c lib/conv.c \
 *	    lib/mymalloc.c t/fuzz/fuzz_msg.c -o fuzz_access
 *	mkdir -p corpus && ./fuzz_access -max_total_time=60 corpus
 *
 * Any bytes go to access_parse(); a rule set that parses is asked about
 * peers made of the same bytes, and what it answers is checked against
 * what the header promises. An error must be one line naming the label.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "access.h"
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

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *err = 0;
    ACCESS *acc = access_parse((const char *) data, size, "fuzz", fuzz_uid,
                               &err);

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
    access_free(acc);
    return (0);
}
