#ifndef SS_ACCESS_TRIE_H
#define SS_ACCESS_TRIE_H

/*++
 * NAME
 *	access_trie 3
 * SUMMARY
 *	the rule set behind access(3): rules found by a binary trie
 * SYNOPSIS
 *	#include <access_trie.h>
 *
 *	ACCESS	*access_new(void);
 *	const ACCESS_RULE *access_place(ACCESS *acc,
 *			const ACCESS_PATTERN *pat);
 *	void	access_add(ACCESS *acc, const ACCESS_RULE *rule);
 *	void	access_rule_free(ACCESS_RULE *rule);
 *	void	access_env_free(char **env);
 *	void	access_key_bytes(ACCESS_KEY *key,
 *			const unsigned char *bytes, size_t len);
 *	void	access_mask(ACCESS_KEY *key, int plen);
 *
 *	extern const int access_bits[ACCESS_TRIES];
 *	extern char *access_no_env[];
 * DESCRIPTION
 *	The half of access(3) that holds parsed rules and answers
 *	access_match(), access_count() and access_free() (declared in
 *	access.h, defined here); lib/access.c, the parser, builds a set
 *	with these functions only and never sees inside an ACCESS.
 *
 *	A pattern is a kind (ACCESS_V4, ACCESS_V6, ACCESS_UID: one trie
 *	each, keys of access_bits[kind] bits; ACCESS_ANY: "*", no trie),
 *	a key (most significant bit first) and a prefix length; or a name
 *	rule (ACCESS_HOST: "=name", ACCESS_DOMAIN: "=.name"), whose name
 *	is hostname_clean()'s output and whose key and length are unused.
 *	Name rules live in a search tree (tsearch(3)) ordered by kind and
 *	name, so that a duplicate is found on the way in and a lookup costs
 *	O(log n) comparisons per candidate name.
 *
 *	access_new() returns an empty set. access_place() enters pat for
 *	the rule that the next access_add() appends, and returns a null
 *	pointer; or, when a rule with the same pattern is there already,
 *	changes nothing and returns that rule. The caller then appends
 *	the rule with access_add() or, on a duplicate, not at all; the
 *	set then owns what the rule points to.
 *
 *	access_rule_free() releases what a rule holds (its message, its
 *	environment); access_env_free() releases an environment built with
 *	mymalloc(), "NAME=value" strings and a null-terminated array, and
 *	ignores a null one and access_no_env, the empty environment that
 *	rules without assignments share.
 *
 *	access_key_bytes() makes a key from an address in network byte
 *	order, len bytes (4 or 16); access_mask() clears the bits of key
 *	after the first plen.
 *--*/

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "hostname.h"

#define ACCESS_V4       0               /* the tries, by kind of key */
#define ACCESS_V6       1
#define ACCESS_UID      2
#define ACCESS_ANY      3               /* "*": no trie */
#define ACCESS_HOST     4               /* "=name": the names tree */
#define ACCESS_DOMAIN   5               /* "=.name": the names tree */
#define ACCESS_TRIES    3

/* The largest uid: (uid_t) -1 means "none" to the kernel. */
#define ACCESS_UID_MAX  ((long) (LONG_MAX < 4294967294 ? LONG_MAX : 4294967294))

typedef struct ACCESS_KEY {
    uint32_t w[4];                      /* most significant bit first */
} ACCESS_KEY;

typedef struct ACCESS_PATTERN {
    int     kind;                       /* ACCESS_V4 ... ACCESS_ANY */
    ACCESS_KEY key;
    int     plen;
    char    name[HOSTNAME_MAX + 1];     /* ACCESS_HOST, ACCESS_DOMAIN */
} ACCESS_PATTERN;

extern const int access_bits[ACCESS_TRIES];
extern char *access_no_env[];

extern ACCESS *access_new(void);
extern const ACCESS_RULE *access_place(ACCESS *, const ACCESS_PATTERN *);
extern void access_add(ACCESS *, const ACCESS_RULE *);
extern void access_rule_free(ACCESS_RULE *);
extern void access_env_free(char **);
extern void access_key_bytes(ACCESS_KEY *, const unsigned char *, size_t);
extern void access_mask(ACCESS_KEY *, int);

#endif
