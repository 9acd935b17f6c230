/*
 * access_trie.c - the rule set of access(3): rules found by a trie
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
 * Host names are not bit strings with a useful prefix order (a domain
 * is a suffix, by labels), so name rules go into libc's balanced search
 * tree (tsearch(3)), keyed by kind and name: a duplicate is found on
 * insertion, and a lookup is one tfind() for the name and one per
 * domain above it, O(log n) string comparisons each, no hash to flood.
 * The tree holds pointers to entries of ours, listed in an array too,
 * since POSIX has no call that frees a whole tree.
 *
 * Only the set's own memory is here: no text, no I/O (access.c parses).
 */
#include "config.h"

#include <netinet/in.h>
#include <search.h>
#include <stdint.h>
#include <string.h>

#include "access.h"
#include "access_trie.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct ACCESS_NODE {
    ACCESS_KEY key;                     /* the prefix, later bits zero */
    uint32_t child[2];                  /* by the bit after it; 0: none */
    uint32_t rule;                      /* index + 1 in rules; 0: none */
    int     plen;                       /* prefix length in bits */
} ACCESS_NODE;

typedef struct ACCESS_NAME {
    int     kind;                       /* ACCESS_HOST or ACCESS_DOMAIN */
    const char *name;                   /* clean; in the same block */
    size_t  rule;                       /* index + 1 in rules */
} ACCESS_NAME;

struct ACCESS {
    ACCESS_RULE *rules;
    size_t  nrules;
    size_t  rules_size;
    ACCESS_NODE *nodes;                 /* nodes[0] unused: 0 is "none" */
    size_t  nnodes;
    size_t  nodes_size;
    uint32_t root[ACCESS_TRIES];
    size_t  any;                        /* the "*" rule, index + 1 */
    void   *names_root;                 /* tsearch(3) tree of ACCESS_NAME */
    ACCESS_NAME **names;                /* the same entries, to free them */
    size_t  nnames;
    size_t  names_size;
};

const int access_bits[ACCESS_TRIES] = {32, 128, 32};

char   *access_no_env[] = {0};          /* shared by rules without */

/* access_key_bytes - a key from an address in network byte order */
void    access_key_bytes(ACCESS_KEY *key, const unsigned char *bytes,
                                 size_t len)
{
    size_t  i;

    memset(key, 0, sizeof(*key));
    for (i = 0; i < len; i++)
        key->w[i / 4] |= (uint32_t) bytes[i] << (24 - 8 * (i % 4));
}

/* access_mask - clear the bits of key after the first plen */
void    access_mask(ACCESS_KEY *key, int plen)
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

/* access_clz - leading zero bits of x, which is not 0 (gcc and clang) */
static int access_clz(uint32_t x)
{
    return (__builtin_clz(x) - (int) (sizeof(unsigned) * 8 - 32));
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

/* access_env_free - release a rule's environment */
void    access_env_free(char **env)
{
    char  **cpp;

    if (env == 0 || env == access_no_env)
        return;
    for (cpp = env; *cpp != 0; cpp++)
        myfree(*cpp);
    myfree(env);
}

/* access_rule_free - release what a rule holds */
void    access_rule_free(ACCESS_RULE *rule)
{
    myfree((void *) rule->message);
    access_env_free(rule->env);
}

/* access_name_cmp - tsearch(3) order of name entries: kind, then name */
static int access_name_cmp(const void *a, const void *b)
{
    const ACCESS_NAME *x = a;
    const ACCESS_NAME *y = b;

    if (x->kind != y->kind)
        return (x->kind < y->kind ? -1 : 1);
    return (strcmp(x->name, y->name));
}

/* access_name_insert - a name into the tree: 0, or the rule already there */
static size_t access_name_insert(ACCESS *acc, const ACCESS_PATTERN *pat,
                                         size_t rule)
{
    size_t  len = strlen(pat->name);
    ACCESS_NAME *entry = mymalloc(sizeof(*entry) + len + 1);
    ACCESS_NAME *const *found;

    entry->kind = pat->kind;
    entry->name = memcpy((char *) (entry + 1), pat->name, len + 1);
    entry->rule = rule;
    if ((found = tsearch(entry, &acc->names_root, access_name_cmp)) == 0)
        ss_msg_fatal("out of memory adding a host name rule");
    if (*found != entry) {
        myfree(entry);
        return ((*found)->rule);
    }
    if (acc->nnames == acc->names_size) {
        acc->names_size = acc->names_size ? 2 * acc->names_size : 16;
        acc->names = myrealloc(acc->names,
                               acc->names_size * sizeof(*acc->names));
    }
    acc->names[acc->nnames++] = entry;
    return (0);
}

/*
 * access_place - a pattern into its trie (or the names tree) for the
 * next rule: null, or the rule already there
 */
const ACCESS_RULE *access_place(ACCESS *acc, const ACCESS_PATTERN *pat)
{
    size_t  rule = acc->nrules + 1;
    size_t  dup;

    if (pat->kind == ACCESS_HOST || pat->kind == ACCESS_DOMAIN)
        dup = access_name_insert(acc, pat, rule);
    else if (pat->kind != ACCESS_ANY)
        dup = access_insert(acc, pat->kind, &pat->key, pat->plen, rule);
    else if ((dup = acc->any) == 0)
        acc->any = rule;
    return (dup ? acc->rules + dup - 1 : 0);
}

/* access_add - append a rule */
void    access_add(ACCESS *acc, const ACCESS_RULE *rule)
{
    if (acc->nrules == acc->rules_size) {
        acc->rules_size *= 2;
        acc->rules = myrealloc(acc->rules, acc->rules_size * sizeof(*rule));
    }
    acc->rules[acc->nrules++] = *rule;
}

/* access_new - an empty rule set */
ACCESS *access_new(void)
{
    ACCESS *acc = mycalloc(1, sizeof(*acc));

    acc->rules_size = 16;
    acc->rules = mymalloc(acc->rules_size * sizeof(*acc->rules));
    acc->nodes_size = 16;
    acc->nodes = mymalloc(acc->nodes_size * sizeof(*acc->nodes));
    acc->nnodes = 1;                    /* index 0 means "none" */
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

/* access_name_find - the rule for a kind and a name, index + 1, or 0 */
static size_t access_name_find(const ACCESS *acc, int kind, const char *name)
{
    ACCESS_NAME key = {kind, name, 0};
    ACCESS_NAME *const *found = tfind(&key, &acc->names_root,
                                      access_name_cmp);

    return (found ? (*found)->rule : 0);
}

/*
 * access_match_name - the most specific name rule for a clean name: the
 * name itself, then each domain above it, longest first; or null
 */
const ACCESS_RULE *access_match_name(const ACCESS *acc, const char *name)
{
    const char *dot;
    size_t  found;

    if (acc->nnames == 0)
        return (0);
    found = access_name_find(acc, ACCESS_HOST, name);
    for (dot = strchr(name, '.'); found == 0 && dot != 0;
         dot = strchr(dot + 1, '.'))
        found = access_name_find(acc, ACCESS_DOMAIN, dot + 1);
    return (found ? acc->rules + found - 1 : 0);
}

/* access_has_names - whether any rule is a name rule */
int     access_has_names(const ACCESS *acc)
{
    return (acc->nnames > 0);
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
    for (i = 0; i < acc->nnames; i++) {
        (void) tdelete(acc->names[i], &acc->names_root, access_name_cmp);
        myfree(acc->names[i]);
    }
    myfree(acc->names);
    myfree(acc->rules);
    myfree(acc->nodes);
    myfree(acc);
}
