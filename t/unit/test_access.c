/*
 * test_access.c - access rules: the examples of the specification, every
 * error with its message, the most specific match, and lookups whose cost
 * does not grow with the number of rules; name rules ("=host",
 * "=.domain"): the most specific among them, errors, and the same costs
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "mymalloc.h"
#include "tap.h"

#define NO_UID  (-1L)

/* stub_uid - a password database of three users and one odd entry */
static int stub_uid(const char *name, long *uid)
{
    static const struct {
        const char *name;
        long    uid;
    }       users[] = {
        {"root", 0}, {"alice", 1000}, {"bob", 1001}, {"negative", -5},
    };
    size_t  i;

    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        if (strcmp(name, users[i].name) == 0) {
            *uid = users[i].uid;
            return (0);
        }
    }
    return (-1);
}

/* parse - rules from a string, or null with the error printed */
static ACCESS *parse(const char *text)
{
    char   *err = 0;
    ACCESS *acc = access_parse(text, strlen(text), "rules", stub_uid, &err);

    if (acc == 0)
        printf("# unexpected error: %s\n", err);
    myfree(err);
    return (acc);
}

/* bad - the text is refused with exactly this message */
static void bad(const char *text, size_t len, ACCESS_UID_FN fn,
                        const char *want)
{
    char   *err = 0;
    ACCESS *acc = access_parse(text, len, "rules", fn, &err);

    ok(acc == 0 && err != 0 && strcmp(err, want) == 0, "error: %s", want);
    if (err == 0 || strcmp(err, want) != 0)
        printf("#   got: %s\n", err ? err : "(no error)");
    access_free(acc);
    myfree(err);
}

/* bad_text - bad() for a null-terminated text and the stub users */
static void bad_text(const char *text, const char *want)
{
    bad(text, strlen(text), stub_uid, want);
}

/* ip - the rule for an IP peer given as text */
static const ACCESS_RULE *ip(const ACCESS *acc, const char *addr)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        return (access_match(acc, (struct sockaddr *) &sin, sizeof(sin),
                             NO_UID));
    }
    if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1) {
        printf("# test bug: bad address %s\n", addr);
        exit(1);
    }
    sin6.sin6_family = AF_INET6;
    return (access_match(acc, (struct sockaddr *) &sin6, sizeof(sin6), NO_UID));
}

/* unix_peer - the rule for a unix-socket peer with this uid */
static const ACCESS_RULE *unix_peer(const ACCESS *acc, long uid)
{
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    return (access_match(acc, (struct sockaddr *) &sun, sizeof(sa_family_t),
                         uid));
}

/* line_of - the line of a rule, 0 for none */
static int line_of(const ACCESS_RULE *rule)
{
    return (rule ? rule->line : 0);
}

/* rng - xorshift64*, reproducible */
static uint64_t rng(void)
{
    static uint64_t s = 0x9e3779b97f4a7c15ULL;

    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (s * 2685821657736338717ULL);
}

/* says - whether a rule is a deny with this message */
static int says(const ACCESS_RULE *rule, const char *message)
{
    return (rule && !rule->allow && rule->message
            && strcmp(rule->message, message) == 0);
}

/* spec_peers - IP peers against the example of section 10 */
static void spec_peers(const ACCESS *acc)
{
    const ACCESS_RULE *r;

    r = ip(acc, "10.200.3.4");
    ok(line_of(r) == 2 && r->allow && r->env[0] == 0 && r->message == 0,
       "10.200.3.4: allowed by 10.0.0.0/8 (line 2), empty environment");
    ok(line_of(ip(acc, "10.1.2.3")) == 3 && says(ip(acc, "10.1.2.3"),
                                                 "sorry, not you"),
       "10.1.2.3: denied by its own line, message \"sorry, not you\"");
    ok(line_of(ip(acc, "10.1.2.4")) == 2, "10.1.2.4: the network again");
    r = ip(acc, "2001:db8:ffff::1");
    ok(line_of(r) == 4 && r->allow && r->env[0] && r->env[1] && !r->env[2]
       && strcmp(r->env[0], "TIER=gold") == 0
       && strcmp(r->env[1], "GREETING=hello there") == 0,
       "2001:db8:ffff::1: allowed with TIER=gold GREETING=hello there");
    ok(line_of(ip(acc, "192.0.2.1")) == 7, "192.0.2.1: \"*\"");
    ok(line_of(ip(acc, "2001:db9::1")) == 7, "2001:db9::1: \"*\"");
    ok(line_of(ip(acc, "::ffff:10.1.2.3")) == 3,
       "::ffff:10.1.2.3 (mapped) matches the IPv4 rule 10.1.2.3");
    ok(line_of(ip(acc, "::ffff:10.9.9.9")) == 2,
       "::ffff:10.9.9.9 (mapped) matches the IPv4 network");
}

/* spec_example - the example of section 10, peer by peer */
static void spec_example(void)
{
    const char *text =
    "# pattern            action\n"
    "10.0.0.0/8           allow\n"
    "10.1.2.3             deny sorry, not you\n"
    "2001:db8::/32        allow TIER=gold GREETING=\"hello there\"\n"
    "# a unix-socket peer uid (or uid:NAME)\n"
    "uid:1000             allow\n"
    "*                    deny\n";
    ACCESS *acc = parse(text);
    const ACCESS_RULE *r;

    ok(acc != 0 && access_count(acc) == 5, "the example parses: 5 rules");
    if (acc == 0)
        return;
    spec_peers(acc);
    r = unix_peer(acc, 1000);
    ok(line_of(r) == 6 && r->allow, "unix peer uid 1000: allowed by uid:1000");
    r = unix_peer(acc, 1001);
    ok(line_of(r) == 7 && !r->allow && r->message == 0,
       "unix peer uid 1001: \"*\" denies, no message");
    ok(line_of(unix_peer(acc, NO_UID)) == 7, "unix peer, uid unknown: \"*\"");
    ok(line_of(access_match(acc, 0, 0, 1000)) == 6,
       "a null peer with uid 1000");
    access_free(acc);
}

/* bad_table - each text refused with its message */
static void bad_table(const char *const (*table)[2], size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++)
        bad_text(table[i][0], table[i][1]);
}

/* spec_errors - the errors named in the brief, each at its line */
static void spec_errors(void)
{
    static const char *const table[][2] = {
        {"# host bits\n\n10.1.2.3/8 allow\n",
        "rules, line 3: network \"10.1.2.3/8\" has host bits set"},
        {"\n10.0.0.0/8 allow\n\n\n10.0.0.0/8 deny\n",
        "rules, line 5: duplicate pattern \"10.0.0.0/8\" (also on line 2)"},
        {"\n\n\n\n\n\n10.0.0.0/8 permit\n",
        "rules, line 7: unknown action \"permit\" (expected allow or deny)"},
        {"\n\n\n\n\n\n\n\n10.0.0.300 deny\n",
        "rules, line 9: bad address \"10.0.0.300\""},
        {"\n\n\nuid:nosuchuser allow\n",
        "rules, line 4: unknown user \"nosuchuser\""},
        {"\n\n\n\n\n* allow GREETING=\"hello\n",
        "rules, line 6: unterminated quote in \"GREETING=\"hello\""},
    };

    bad_table(table, sizeof(table) / sizeof(table[0]));
}

/* pattern_errors - patterns refused */
static void pattern_errors(void)
{
    static const char *const table[][2] = {
        {"10.0.0.0/33 allow", "rules, line 1: bad network \"10.0.0.0/33\""},
        {"10.0.0.0/ allow", "rules, line 1: bad network \"10.0.0.0/\""},
        {"10.0.0.0/+8 allow", "rules, line 1: bad network \"10.0.0.0/+8\""},
        {"10.0.0.0/0008 deny", "rules, line 1: bad network \"10.0.0.0/0008\""},
        {"2001:db8::/129 deny",
        "rules, line 1: bad network \"2001:db8::/129\""},
        {"2001:db8::1/64 allow",
        "rules, line 1: network \"2001:db8::1/64\" has host bits set"},
        {"::ffff:10.1.2.3/104 allow",
        "rules, line 1: network \"::ffff:10.1.2.3/104\" has host bits set"},
        {"010.0.0.1 allow", "rules, line 1: bad address \"010.0.0.1\""},
        {"10.0.0 allow", "rules, line 1: bad address \"10.0.0\""},
        {"fe80::1%eth0 allow", "rules, line 1: bad address \"fe80::1%eth0\""},
        {"[::1] allow", "rules, line 1: bad address \"[::1]\""},
        {"localhost allow", "rules, line 1: bad address \"localhost\""},
        {"uid: allow", "rules, line 1: bad uid \"uid:\""},
        {"uid:4294967295 allow", "rules, line 1: bad uid \"uid:4294967295\""},
        {"uid:negative allow", "rules, line 1: unknown user \"negative\""},
    };

    bad_table(table, sizeof(table) / sizeof(table[0]));
    bad("uid:root allow", 14, 0, "rules, line 1: unknown user \"root\"");
}

/* action_errors - actions and assignments refused */
static void action_errors(void)
{
    static const char *const table[][2] = {
        {"10.0.0.1 Allow",
        "rules, line 1: unknown action \"Allow\" (expected allow or deny)"},
        {"  10.0.0.1  \r\n",
        "rules, line 1: no action after \"10.0.0.1\" (expected allow or deny)"},
        {"* allow 1A=b",
        "rules, line 1: bad assignment \"1A=b\" (expected NAME=value)"},
        {"* allow A",
        "rules, line 1: bad assignment \"A\" (expected NAME=value)"},
        {"* allow A-B=c",
        "rules, line 1: bad assignment \"A-B=c\" (expected NAME=value)"},
        {"* allow A=b\"c", "rules, line 1: stray quote in \"A=b\"c\""},
        {"* allow A=\"b\"c D=e",
        "rules, line 1: text after the closing quote in \"A=\"b\"c\""},
        {"* allow A=\"b\\\"",
        "rules, line 1: unterminated quote in \"A=\"b\\\"\""},
        {"* allow A=1 B=2 A=3",
        "rules, line 1: variable \"A\" assigned twice"},
    };

    bad_table(table, sizeof(table) / sizeof(table[0]));
}

/* byte_errors - NUL bytes, long lines, unprintable culprits */
static void byte_errors(void)
{
    static const char nul[] = "* allow\n1.2.3.4 deny a\0b\n";
    char   *line = mymalloc(ACCESS_LINE_MAX + 1);
    char    text[200] = "# culprits are cut and cleaned\n\x1b[31m";
    char    want[200] = "rules, line 2: bad address \"?[31m";
    char   *err = 0;
    ACCESS *acc;

    bad(nul, sizeof(nul) - 1, stub_uid, "rules, line 2: NUL byte in line");
    memset(line, ' ', ACCESS_LINE_MAX + 1);
    memcpy(line, "* deny", 6);
    bad(line, ACCESS_LINE_MAX + 1, stub_uid,
        "rules, line 1: line longer than 65536 bytes");
    line[ACCESS_LINE_MAX] = '\n';       /* exactly the bound: fine */
    acc = access_parse(line, ACCESS_LINE_MAX + 1, "rules", stub_uid, &err);
    ok(acc != 0 && access_count(acc) == 1, "a line of %d bytes is fine",
       ACCESS_LINE_MAX);
    access_free(acc);
    myfree(line);
    memset(text + strlen(text), 'x', 120);
    strcat(text, " deny\n");
    memset(want + strlen(want), 'x', 95);
    strcat(want, "...\"");
    bad_text(text, want);
}

/* duplicates - the same pattern written differently */
static void duplicates(void)
{
    static const char *const table[][2] = {
        {"10.0.0.1 allow\n10.0.0.1/32 deny\n",
        "rules, line 2: duplicate pattern \"10.0.0.1/32\" (also on line 1)"},
        {"10.0.0.0/08 allow\n10.0.0.0/8 deny\n",
        "rules, line 2: duplicate pattern \"10.0.0.0/8\" (also on line 1)"},
        {"2001:db8::1/128 allow\n2001:DB8:0::1 deny\n",
        "rules, line 2: duplicate pattern \"2001:DB8:0::1\" (also on line 1)"},
        {"10.0.0.1 allow\n::ffff:10.0.0.1 deny\n",
        "rules, line 2: duplicate pattern \"::ffff:10.0.0.1\" "
        "(also on line 1)"},
        {"10.0.0.0/8 allow\n::ffff:10.0.0.0/104 deny\n",
        "rules, line 2: duplicate pattern \"::ffff:10.0.0.0/104\" "
        "(also on line 1)"},
        {"0.0.0.0/0 allow\n::ffff:0.0.0.0/96 deny\n",
        "rules, line 2: duplicate pattern \"::ffff:0.0.0.0/96\" "
        "(also on line 1)"},
        {"uid:0 allow\nuid:root deny\n",
        "rules, line 2: duplicate pattern \"uid:root\" (also on line 1)"},
        {"uid:1000 allow\nuid:01000 deny\n",
        "rules, line 2: duplicate pattern \"uid:01000\" (also on line 1)"},
        {"* deny\n* allow\n",
        "rules, line 2: duplicate pattern \"*\" (also on line 1)"},
        {"10.0.0.0/16 allow\n10.0.0.0/8 allow\n"
        "10.0.0.0/24 deny\n10.0.0.0/8 deny\n",
        "rules, line 4: duplicate pattern \"10.0.0.0/8\" (also on line 2)"},
    };

    bad_table(table, sizeof(table) / sizeof(table[0]));
}

/* specific - the longest prefix wins, in either order of the lines */
static void specific(const char *text, const char *order)
{
    ACCESS *acc = parse(text);

    ok(acc != 0, "%s: parses", order);
    if (acc == 0)
        return;
    ok(says(ip(acc, "10.1.2.3"), "twentyfour")
       && says(ip(acc, "10.1.9.9"), "sixteen")
       && says(ip(acc, "10.9.9.9"), "eight")
       && says(ip(acc, "10.1.2.200"), "thirtytwo")
       && says(ip(acc, "11.0.0.1"), "zero")
       && says(ip(acc, "2001:db8:1::1"), "fortyeight")
       && says(ip(acc, "2001:db8:2::1"), "v6 thirtytwo")
       && says(ip(acc, "2001:db8:1::5"), "one28")
       && says(ip(acc, "3fff::1"), "v6 zero")
       && says(unix_peer(acc, 0), "star"),
       "%s: /32 > /24 > /16 > /8 > /0 > \"*\", /128 > /48 > /32 > ::/0",
       order);
    access_free(acc);
}

/* most_specific - the same rules forwards and backwards */
static void most_specific(void)
{
    static const char *lines[] = {
        "*             deny star\n",
        "0.0.0.0/0     deny zero\n",
        "10.0.0.0/8    deny eight\n",
        "10.1.0.0/16   deny sixteen\n",
        "10.1.2.0/24   deny twentyfour\n",
        "10.1.2.200    deny thirtytwo\n",
        "::/0          deny v6 zero\n",
        "2001:db8::/32 deny v6 thirtytwo\n",
        "2001:db8:1::/48 deny fortyeight\n",
        "2001:db8:1::5 deny one28\n",
    };
    size_t  n = sizeof(lines) / sizeof(lines[0]);
    char    forward[1024] = "";
    char    backward[1024] = "";
    size_t  i;

    for (i = 0; i < n; i++) {
        strcat(forward, lines[i]);
        strcat(backward, lines[n - 1 - i]);
    }
    specific(forward, "general first");
    specific(backward, "specific first");
}

/* families - rules stay in their family; no match is null */
static void families(void)
{
    ACCESS *acc = parse("10.0.0.0/8 allow\n2001:db8::/32 allow\n"
                        "uid:1000 allow\n");
    ACCESS *v6 = parse("::/0 deny v6\n");
    ACCESS *any = parse("* deny\n");
    ACCESS *empty = parse("\n   \n# nothing\n\t# at all\n");

    ok(acc && v6 && any && empty, "four rule sets parse");
    if (!(acc && v6 && any && empty))
        return;
    ok(ip(acc, "192.0.2.1") == 0 && ip(acc, "2001:db9::1") == 0
       && unix_peer(acc, 1001) == 0 && unix_peer(acc, NO_UID) == 0,
       "no rule matches: null, the caller denies");
    ok(ip(v6, "::ffff:10.0.0.1") == 0 && ip(v6, "10.0.0.1") == 0
       && line_of(ip(v6, "::1")) == 1,
       "::/0 matches IPv6 peers only, mapped ones are IPv4");
    ok(line_of(ip(acc, "10.0.0.1")) == 1 && unix_peer(acc, 10) == 0,
       "IP rules never match a unix peer");
    {
        struct sockaddr_in sin = {.sin_family = AF_INET};

        inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
        ok(access_match(acc, (struct sockaddr *) &sin, sizeof(sin), 1000) == 0,
           "uid rules never match an IP peer, even with its uid");
        ok(access_match(acc, (struct sockaddr *) &sin, 4, NO_UID) == 0
           && access_match(any, (struct sockaddr *) &sin, 4, NO_UID) != 0,
           "a truncated address matches \"*\" alone");
    }
    ok(line_of(ip(any, "10.0.0.1")) == 1 && line_of(ip(any, "::1")) == 1
       && line_of(unix_peer(any, 5)) == 1
       && line_of(unix_peer(any, NO_UID)) == 1,
       "\"*\" matches anything");
    ok(access_count(empty) == 0 && ip(empty, "10.0.0.1") == 0,
       "comments and blank lines only: no rules, nothing matches");
    access_free(acc);
    access_free(v6);
    access_free(any);
    access_free(empty);
}

/* syntax - comments, messages, environments, line ends */
static void syntax(void)
{
    ACCESS *acc = parse(
        "  # indented comment\n"
        "1.2.3.4 deny go away # really\t \r\n"
        "1.2.3.5\tdeny  \t two  spaces\n"
        "1.2.3.6 allow A=\"x \\\"y\\\" \\\\z \\n\" B=plain C=\"\" D= E_9=#x\n"
        "::ffff:5.6.7.0/120 deny mapped\n"
        "uid:bob allow\r\n"
        "1.2.3.7 deny");
    const ACCESS_RULE *r;

    ok(acc != 0 && access_count(acc) == 6, "syntax samples parse: 6 rules");
    if (acc == 0)
        return;
    ok(says(ip(acc, "1.2.3.4"), "go away # really"),
       "a deny message keeps its '#', loses trailing white space and \\r");
    ok(says(ip(acc, "1.2.3.5"), "two  spaces"),
       "the message starts after the white space, keeps inner spaces");
    r = ip(acc, "1.2.3.6");
    ok(r && r->allow && strcmp(r->env[0], "A=x \"y\" \\z \\n") == 0
       && strcmp(r->env[1], "B=plain") == 0 && strcmp(r->env[2], "C=") == 0
       && strcmp(r->env[3], "D=") == 0 && strcmp(r->env[4], "E_9=#x") == 0
       && r->env[5] == 0,
       "quoted values with spaces and escapes, empty values");
    ok(line_of(ip(acc, "5.6.7.8")) == 5
       && line_of(ip(acc, "::ffff:5.6.7.9")) == 5,
       "a mapped pattern is the IPv4 network it maps");
    ok(line_of(unix_peer(acc, 1001)) == 6,
       "uid:NAME through uid_fn, CRLF line");
    r = ip(acc, "1.2.3.7");
    ok(r && !r->allow && r->message == 0,
       "deny without message on a last line without newline: null message");
    access_free(acc);
}

/* A rule as the differential test knows it: what the trie must find. */
typedef struct NET {
    int     v6;
    unsigned char bytes[16];
    int     plen;
} NET;

/* net_has - whether the first plen bits of a and b agree */
static int net_has(const unsigned char *a, const unsigned char *b, int plen)
{
    int     k;

    for (k = 0; k < plen; k++)
        if ((a[k / 8] ^ b[k / 8]) & (0x80 >> (k % 8)))
            return (0);
    return (1);
}

/* net_random - a network in a small space, so that many of them nest */
static void net_random(NET *net)
{
    static const unsigned char v6base[4] = {0x20, 0x01, 0x0d, 0xb8};
    int     k;

    memset(net, 0, sizeof(*net));
    net->v6 = rng() % 2;
    if (net->v6) {
        memcpy(net->bytes, v6base, 4);
        net->bytes[4] = (unsigned char) (rng() % 16);
        net->bytes[15] = (unsigned char) rng();
        net->plen = (int) (rng() % 2 ? 32 + rng() % 9 : 118 + rng() % 11);
    } else {
        net->bytes[0] = 10;
        net->bytes[1] = (unsigned char) (rng() % 4);
        net->bytes[3] = (unsigned char) rng();
        net->plen = rng() % 8 == 0 ? (int) (rng() % 9) : 8 + (int) (rng() % 25);
    }
    for (k = net->plen; k < (net->v6 ? 128 : 32); k++)
        net->bytes[k / 8] &= ~(0x80 >> (k % 8));
}

/* net_format - a rule line; some IPv4 ones written IPv4-mapped */
static size_t net_format(char *buf, const NET *net)
{
    unsigned char mapped[16] = {0};
    char    addr[INET6_ADDRSTRLEN];

    if (!net->v6 && rng() % 4 == 0) {
        mapped[10] = mapped[11] = 0xff;
        memcpy(mapped + 12, net->bytes, 4);
        inet_ntop(AF_INET6, mapped, addr, sizeof(addr));
        return (sprintf(buf, "%s/%d deny\n", addr, net->plen + 96));
    }
    inet_ntop(net->v6 ? AF_INET6 : AF_INET, net->bytes, addr, sizeof(addr));
    return (sprintf(buf, "%s/%d deny\n", addr, net->plen));
}

/* net_rules - n distinct random networks, and their text */
static char *net_rules(NET *nets, size_t n)
{
    char   *text = mymalloc(n * 64 + 1);
    size_t  len = 0;
    size_t  i;
    size_t  j;

    for (i = 0; i < n; i++) {
        do {
            net_random(nets + i);
            for (j = 0; j < i; j++)
                if (nets[j].v6 == nets[i].v6 && nets[j].plen == nets[i].plen
                    && memcmp(nets[j].bytes, nets[i].bytes, 16) == 0)
                    break;
        } while (j < i);
        len += net_format(text + len, nets + i);
    }
    text[len] = 0;
    return (text);
}

/* net_oracle - the line of the longest matching network, by brute force */
static int net_oracle(const NET *nets, size_t n, int v6,
                              const unsigned char *addr)
{
    int     best = -1;
    int     line = 0;
    size_t  i;

    for (i = 0; i < n; i++)
        if (nets[i].v6 == v6 && nets[i].plen > best
            && net_has(nets[i].bytes, addr, nets[i].plen)) {
            best = nets[i].plen;
            line = (int) i + 1;
        }
    return (line);
}

/* differential - the trie against a linear scan, on nested networks */
static void differential(void)
{
    static const size_t sizes[] = {1, 2, 5, 30, 200, 2000};
    NET    *nets = mymalloc(2000 * sizeof(*nets));
    NET     peer;
    char    addr[INET6_ADDRSTRLEN];
    size_t  s;
    int     k;
    int     wrong = 0;
    ACCESS *acc;
    char   *text;

    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        text = net_rules(nets, sizes[s]);
        if ((acc = parse(text)) == 0)
            wrong++;
        for (k = 0; acc && k < 20000; k++) {
            net_random(&peer);
            if (k % 2)
                peer.bytes[rng() % (peer.v6 ? 16 : 4)] ^= (unsigned char) rng();
            inet_ntop(peer.v6 ? AF_INET6 : AF_INET, peer.bytes, addr,
                      sizeof(addr));
            if (line_of(ip(acc, addr)) != net_oracle(nets, sizes[s], peer.v6,
                                                     peer.bytes) && wrong++ < 5)
                printf("# %s: wrong rule in a set of %zu\n", addr, sizes[s]);
        }
        access_free(acc);
        myfree(text);
    }
    ok(wrong == 0,
       "random nested networks: the trie agrees with a linear scan");
    myfree(nets);
}

/* reading - access_read(): the file names itself in errors */
static void reading(void)
{
    char    path[] = "/tmp/test_access.XXXXXX";
    int     fd = mkstemp(path);
    char   *err = 0;
    char   *want;
    ACCESS *acc;

    ok(fd >= 0 && write(fd, "* allow\nuid:root deny\n", 22) == 22,
       "a rules file written");
    acc = access_read(path, &err);
    ok(acc && access_count(acc) == 2 && line_of(unix_peer(acc, 0)) == 2,
       "access_read: the file parses, uid:root through getpwnam()");
    access_free(acc);
    ok(write(fd, "10.0.0.1/8 deny\n", 16) == 16
       && access_read(path, &err) == 0, "access_read: a bad line is refused");
    want = myasprintf("%s, line 3: network \"10.0.0.1/8\" has host bits set",
                      path);
    ok(err && strcmp(err, want) == 0, "... naming file and line: %s", err);
    myfree(err);
    myfree(want);
    ok(ftruncate(fd, ACCESS_FILE_MAX + 1) == 0 && access_read(path, &err) == 0,
       "access_read: a file over %ld bytes is refused", ACCESS_FILE_MAX);
    want = myasprintf("rules file \"%s\" is larger than %ld bytes", path,
                      ACCESS_FILE_MAX);
    ok(err && strcmp(err, want) == 0, "... %s", err);
    myfree(err);
    myfree(want);
    /* Without a rule the file would deny everyone: said at start. */
    want = myasprintf("%s: no rules; write \"* deny\" to refuse everyone",
                      path);
    ok(ftruncate(fd, 0) == 0 && access_read(path, &err) == 0
       && err && strcmp(err, want) == 0, "access_read: an empty file: %s", err);
    myfree(err);
    err = 0;
    ok(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "# all\n\n  # off\n", 15) == 15
       && access_read(path, &err) == 0 && err && strcmp(err, want) == 0,
       "access_read: comments and blank lines only: %s", err);
    myfree(err);
    myfree(want);
    close(fd);
    unlink(path);
    ok(access_read(path, &err) == 0 && strstr(err, "cannot open rules file"),
       "access_read: a missing file: %s", err);
    myfree(err);
}

/* now - monotonic seconds */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* random_rule - rule i of n, distinct by construction: the top bits hold
 * a bijection of i and lie inside the prefix */
static int random_rule(char *buf, size_t size, size_t i, size_t n)
{
    unsigned char bytes[16];
    char    addr[INET6_ADDRSTRLEN];
    uint64_t a = rng();
    uint64_t b = rng();
    int     v6 = i >= n / 2;
    int     plen;
    int     k;

    i = v6 ? i - n / 2 : i;
    for (k = 0; k < 8; k++) {
        bytes[k] = (unsigned char) (a >> (56 - 8 * k));
        bytes[k + 8] = (unsigned char) (b >> (56 - 8 * k));
    }
    if (v6) {
        uint32_t top = (uint32_t) (i * 2654435761u);

        bytes[0] = (unsigned char) (top >> 24);
        bytes[1] = (unsigned char) (top >> 16);
        bytes[2] = (unsigned char) (top >> 8);
        bytes[3] = (unsigned char) top;
        plen = 32 + (int) (rng() % 97);
    } else {
        uint32_t top = (uint32_t) ((i * 40503u) & 0xffff);

        bytes[0] = (unsigned char) (top >> 8);
        bytes[1] = (unsigned char) top;
        plen = 16 + (int) (rng() % 17);
    }
    for (k = plen; k < (v6 ? 128 : 32); k++)
        bytes[k / 8] &= ~(0x80 >> (k % 8));
    inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, addr, sizeof(addr));
    return (snprintf(buf, size, "%s/%d %s\n", addr, plen,
                     i % 2 ? "allow" : "deny"));
}

/* random_rules - n distinct random networks as a rules text */
static char *random_rules(size_t n, size_t *len)
{
    size_t  size = n * 64 + 1;
    char   *text = mymalloc(size);
    size_t  i;

    for (*len = 0, i = 0; i < n; i++)
        *len += random_rule(text + *len, size - *len, i, n);
    return (text);
}

/* lookups - ns per lookup of random peers, IPv4 and IPv6 in turn */
static double lookups(const ACCESS *acc, long count, long clients)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    uint64_t *pool = clients ? mymalloc(clients * sizeof(*pool)) : 0;
    double  start;
    long    sum = 0;
    long    i;
    uint64_t r;

    for (i = 0; i < clients; i++)
        pool[i] = rng();
    start = now();
    for (i = 0; i < count; i++) {
        r = clients ? pool[i % clients] : rng();
        if (i % 2) {
            sin.sin_addr.s_addr = (uint32_t) r;
            sum += line_of(access_match(acc, (struct sockaddr *) &sin,
                                        sizeof(sin), NO_UID));
        } else {
            memcpy(sin6.sin6_addr.s6_addr, &r, 8);
            memcpy(sin6.sin6_addr.s6_addr + 8, &r, 8);
            sum += line_of(access_match(acc, (struct sockaddr *) &sin6,
                                        sizeof(sin6), NO_UID));
        }
    }
    printf("# (matched lines sum to %ld)\n", sum);
    start = (now() - start) * 1e9 / count;
    if (pool)
        myfree(pool);
    return (start);
}

/* performance - parse time, and lookups that do not scan the rules */
static void performance(void)
{
    size_t  big_len;
    size_t  small_len;
    char   *big = random_rules(100000, &big_len);
    char   *small = random_rules(10, &small_len);
    char   *err = 0;
    double  t0 = now();
    ACCESS *acc = access_parse(big, big_len, "rules", 0, &err);
    double  parse = now() - t0;
    ACCESS *few = access_parse(small, small_len, "rules", 0, &err);
    double  ns_few;
    double  ns_many;
    const char *sanitize = getenv("SS_SANITIZE");

    ok(acc != 0 && few != 0 && access_count(acc) == 100000,
       "100,000 random distinct networks parse%s%s", err ? ": " : "",
       err ? err : "");
    if (acc == 0 || few == 0)
        return;
    printf("# parse 100,000 rules: %.1f ms\n", parse * 1e3);
    /* The sanitizer build (.ci/sanitize) checks memory, not speed. */
    if (sanitize && *sanitize)
        skip("under ASan: instrumented code is several times slower",
             "... in under a second");
    else
        ok(parse < 1.0, "... in under a second");
    ns_few = lookups(few, 1000000, 0);
    ns_many = lookups(acc, 1000000, 0);
    printf("# lookups: %.1f ns each against 10 rules, "
           "%.1f ns against 100,000\n",
           ns_few, ns_many);
    /* A service sees a working set of clients, not the whole Internet. */
    printf("# lookups, 1,000 client addresses: %.1f ns each against 10 "
           "rules, %.1f ns against 100,000\n", lookups(few, 1000000, 1000),
           lookups(acc, 1000000, 1000));
    /*
     * A scan of the rules would cost some 10,000 times more. The bound is
     * loose because 10 rules sit in the cache while 100,000 do not: each
     * level of the trie may be a cache miss (10x to 30x measured).
     */
    ok(ns_many < 200 * (ns_few > 20 ? ns_few : 20),
       "lookups against 100,000 rules cost a small multiple of 10 (no scan)");
    access_free(acc);
    access_free(few);
    myfree(big);
    myfree(small);
}

/* name - the line of the name rule for a clean name, 0 for none */
static int name(const ACCESS *acc, const char *host)
{
    return (line_of(access_match_name(acc, host)));
}

/* names_decide - the most specific name rule, case and final dots aside */
static void names_decide(const ACCESS *acc, const char *order)
{
    const ACCESS_RULE *r = access_match_name(acc, "other.test");

    ok(name(acc, "client.test") == 1,
       "%s: =client.test beats =.test for client.test", order);
    ok(r && r->line == 2 && r->allow && r->env[0]
       && strcmp(r->env[0], "V=x") == 0 && r->env[1] == 0 && r->any == 0,
       "%s: other.test: =.test allows with V=x", order);
    ok(name(acc, "a.b.c.test") == 2, "%s: =.test matches any depth", order);
    ok(name(acc, "test") == 0 && name(acc, "xtest") == 0
       && name(acc, "client.test.example.com") == 0,
       "%s: =.test matches neither test, xtest nor client.test.example.com",
       order);
    ok(name(acc, "b.a.example.org") == 3 && name(acc, "x.y.a.example.org") == 3,
       "%s: =.a.example.org beats =.example.org and =.org", order);
    ok(name(acc, "a.example.org") == 4 && name(acc, "x.example.org") == 4,
       "%s: a.example.org is under =.example.org, not =.a.example.org",
       order);
    ok(name(acc, "example.org") == 5 && name(acc, "evilexample.org") == 5
       && name(acc, "org") == 0,
       "%s: example.org and evilexample.org fall to =.org; org to nothing",
       order);
    ok(name(acc, "host.example.org") == 6
       && name(acc, "x.host.example.org") == 4,
       "%s: =Host.Example.ORG. is =host.example.org, that name only",
       order);
    ok(name(acc, "www.example.net") == 7 && name(acc, "example.net") == 0,
       "%s: =.EXAMPLE.net. is =.example.net", order);
    ok(name(acc, "client.test2") == 0 && name(acc, "ient.test") == 2,
       "%s: no partial labels", order);
}

/* name_rules - name rules beside address rules, in either line order */
static void name_rules(void)
{
    static const char *lines[] = {
        "=client.test       deny by name\n",
        "=.test             allow V=x\n",
        "=.a.example.org    deny a\n",
        "=.example.org      deny example\n",
        "=.org              deny org\n",
        "=Host.Example.ORG. deny host\n",
        "=.EXAMPLE.net.     deny net\n",
        "10.0.0.0/8         allow\n",
        "*                  deny star\n",
    };
    size_t  n = sizeof(lines) / sizeof(lines[0]);
    char    forward[1024] = "";
    char    backward[1024] = "";
    ACCESS *acc;
    size_t  i;

    for (i = 0; i < n; i++) {
        strcat(forward, lines[i]);
        strcat(backward, lines[n - 1 - i]);
    }
    acc = parse(forward);
    ok(acc && access_count(acc) == 9 && access_has_names(acc),
       "name rules parse: 9 rules, access_has_names() says so");
    if (acc == 0)
        return;
    names_decide(acc, "general first");
    ok(line_of(ip(acc, "10.1.2.3")) == 8 && ip(acc, "10.1.2.3")->any == 0
       && line_of(ip(acc, "192.0.2.1")) == 9 && ip(acc, "192.0.2.1")->any == 1
       && unix_peer(acc, 0)->any == 1,
       "access_match(): the address rule (any 0), else \"*\" (any 1)");
    access_free(acc);
    acc = parse(backward);
    if (acc == 0)
        return;
    /* backwards, line k is line n + 1 - k: renumber by the patterns */
    ok(name(acc, "client.test") == 9 && name(acc, "other.test") == 8
       && name(acc, "b.a.example.org") == 7 && name(acc, "a.example.org") == 6
       && name(acc, "example.org") == 5 && name(acc, "host.example.org") == 4
       && name(acc, "www.example.net") == 3 && name(acc, "test") == 0,
       "specific first: the same rules decide the same");
    access_free(acc);
}

/* name_alone - name rules never match an address, nor do others names */
static void name_alone(void)
{
    ACCESS *names = parse("=client.test deny\n=.test allow\n");
    ACCESS *plain = parse("10.0.0.0/8 allow\n::/0 allow\nuid:0 allow\n"
                          "* deny\n");

    ok(names && plain, "two rule sets parse");
    if (!(names && plain))
        return;
    ok(ip(names, "127.0.0.2") == 0 && ip(names, "::1") == 0
       && unix_peer(names, 0) == 0 && access_match(names, 0, 0, NO_UID) == 0,
       "name rules alone: access_match() finds nothing for any peer");
    ok(!access_has_names(plain) && name(plain, "client.test") == 0
       && name(plain, "10.1.2.3") == 0,
       "without name rules: access_has_names() 0, no name matches, not even "
       "\"*\"");
    access_free(names);
    access_free(plain);
}

/* long_name - "=" and a name of len bytes, labels of 9 bytes, then rest */
static void long_name(char *text, size_t len, const char *rest)
{
    size_t  k;

    text[0] = '=';
    for (k = 0; k < len; k++)
        text[1 + k] = k % 10 == 9 ? '.' : 'b';
    strcpy(text + 1 + len, rest);
}

/* long_names - 253 bytes pass, 254 do not (the culprit cut to 100) */
static void long_names(void)
{
    char    text[400];
    char    want[400];
    ACCESS *acc;

    long_name(text, 253, " deny\n");
    ok((acc = parse(text)) != 0, "a name of 253 bytes passes");
    access_free(acc);
    long_name(text, 253, ". deny\n");
    ok((acc = parse(text)) != 0, "... and with a final dot");
    access_free(acc);
    long_name(text, 254, "");
    snprintf(want, sizeof(want), "rules, line 1: bad host name \"%.100s...\"",
             text);
    strcat(text, " deny\n");
    bad_text(text, want);
}

/* name_errors - bad names and duplicate names, as the other errors */
static void name_errors(void)
{
    static const char *const table[][2] = {
        {"=exa!mple.org allow", "rules, line 1: bad host name \"=exa!mple.org\""},
        {"\n\n=. deny", "rules, line 3: bad host name \"=.\""},
        {"= deny", "rules, line 1: bad host name \"=\""},
        {"=.. deny", "rules, line 1: bad host name \"=..\""},
        {"=..test deny", "rules, line 1: bad host name \"=..test\""},
        {"=a..b deny", "rules, line 1: bad host name \"=a..b\""},
        {"=a.. deny", "rules, line 1: bad host name \"=a..\""},
        {"==host deny", "rules, line 1: bad host name \"==host\""},
        {"=*.example.org deny",
        "rules, line 1: bad host name \"=*.example.org\""},
        {"=a/b deny", "rules, line 1: bad host name \"=a/b\""},
        {"=caf\xc3\xa9.test deny",
        "rules, line 1: bad host name \"=caf\xc3\xa9.test\""},
        {"=a\x01z deny", "rules, line 1: bad host name \"=a?z\""},
        {"=client.test",
        "rules, line 1: no action after \"=client.test\" "
        "(expected allow or deny)"},
        {"=client.test permit",
        "rules, line 1: unknown action \"permit\" (expected allow or deny)"},
        {"=client.test allow\n=Client.Test. deny\n",
        "rules, line 2: duplicate pattern \"=Client.Test.\" (also on line 1)"},
        {"=.test allow\n# x\n=y.test deny\n=.TEST. deny\n",
        "rules, line 4: duplicate pattern \"=.TEST.\" (also on line 1)"},
    };
    char    label[70];
    char    text[400];
    char    want[400];

    bad_table(table, sizeof(table) / sizeof(table[0]));
    memset(label, 'a', 64);
    label[64] = 0;
    snprintf(text, sizeof(text), "=x.%s deny\n", label);
    snprintf(want, sizeof(want), "rules, line 1: bad host name \"=x.%s\"",
             label);
    bad_text(text, want);
    long_names();
}

/* name_networks - a network list refuses names */
static void name_networks(void)
{
    static const char *const lists[] = {
        "10.0.0.0/8, =proxy.example.org",
        "=.example.org 10.0.0.0/8",
        "=Proxy.Example.Org.",
    };
    static const char *const culprits[] = {
        "=proxy.example.org", "=.example.org", "=Proxy.Example.Org.",
    };
    char   *err = 0;
    ACCESS *acc = access_networks("10.0.0.0/8, 192.168.0.0/16",
                                  "parameter upstream_proxy_networks", &err);
    const ACCESS_RULE *r = acc ? ip(acc, "10.1.2.3") : 0;
    char   *want;
    size_t  i;

    ok(r && r->allow && !r->any && ip(acc, "172.16.0.1") == 0
       && !access_has_names(acc),
       "access_networks: a list of networks, no names");
    access_free(acc);
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        err = 0;
        acc = access_networks(lists[i], "parameter upstream_proxy_networks",
                              &err);
        want = myasprintf("parameter upstream_proxy_networks: host name "
                          "\"%s\" is not a network", culprits[i]);
        ok(acc == 0 && err && strcmp(err, want) == 0,
           "access_networks(\"%s\"): %s", lists[i], want);
        if (err == 0 || strcmp(err, want) != 0)
            printf("#   got: %s\n", err ? err : "(no error)");
        access_free(acc);
        myfree(err);
        myfree(want);
    }
}

/* A name rule as the differential test knows it. */
typedef struct NAME_RULE {
    int     domain;                     /* 1: "=.name", 0: "=name" */
    char    name[40];
} NAME_RULE;

/* name_random - 1 to 4 labels from a small set, so that many nest */
static void name_random(char *buf)
{
    static const char *const labels[] = {"a", "b", "ab", "c-d", "x_y"};
    int     n = 1 + (int) (rng() % 4);
    int     k;

    buf[0] = 0;
    for (k = 0; k < n; k++) {
        if (k > 0)
            strcat(buf, ".");
        strcat(buf, labels[rng() % 5]);
    }
}

/* name_oracle - the rule for name by brute force: exact, longest domain */
static int name_oracle(const NAME_RULE *rules, size_t n, const char *name)
{
    size_t  len = strlen(name);
    size_t  best = 0;
    int     line = 0;
    size_t  i;
    size_t  dl;

    for (i = 0; i < n; i++) {
        if (!rules[i].domain && strcmp(rules[i].name, name) == 0)
            return ((int) i + 1);
        dl = strlen(rules[i].name);
        if (rules[i].domain && dl + 1 < len + 1 && dl > best
            && name[len - dl - 1] == '.'
            && strcmp(name + len - dl, rules[i].name) == 0) {
            best = dl;
            line = (int) i + 1;
        }
    }
    return (line);
}

/* name_case - a pattern written with random capitals and a final dot */
static void name_case(char *buf, const char *name)
{
    size_t  k;

    for (k = 0; name[k]; k++)
        buf[k] = (char) (rng() % 2 && name[k] >= 'a' && name[k] <= 'z' ?
                         name[k] - 'a' + 'A' : name[k]);
    buf[k] = 0;
    if (rng() % 3 == 0)
        strcat(buf, ".");
}

/* name_differential - the tree against a linear scan on nested names */
static void name_differential(void)
{
    static const size_t sizes[] = {1, 3, 10, 40, 150};
    NAME_RULE rules[150];
    char   *text = mymalloc(150 * 64);
    char    written[50];
    char    peer[40];
    size_t  s;
    size_t  i;
    size_t  j;
    int     k;
    int     wrong = 0;
    ACCESS *acc;

    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        text[0] = 0;
        for (i = 0; i < sizes[s]; i++) {
            do {
                rules[i].domain = (int) (rng() % 2);
                name_random(rules[i].name);
                for (j = 0; j < i; j++)
                    if (rules[j].domain == rules[i].domain
                        && strcmp(rules[j].name, rules[i].name) == 0)
                        break;
            } while (j < i);
            name_case(written, rules[i].name);
            sprintf(text + strlen(text), "=%s%s deny\n",
                    rules[i].domain ? "." : "", written);
        }
        if ((acc = parse(text)) == 0)
            wrong++;
        for (k = 0; acc && k < 5000; k++) {
            name_random(peer);
            if (name(acc, peer) != name_oracle(rules, sizes[s], peer)
                && wrong++ < 5)
                printf("# %s: wrong rule in a set of %zu\n", peer, sizes[s]);
        }
        access_free(acc);
    }
    myfree(text);
    ok(wrong == 0,
       "random nested names: the tree agrees with a linear scan");
}

/* name_lookups - ns per access_match_name() of n names in turn */
static double name_lookups(const ACCESS *acc, char (*names)[40], size_t n,
                                   long count)
{
    double  start = now();
    long    sum = 0;
    long    i;

    for (i = 0; i < count; i++)
        sum += name(acc, names[i % n]);
    printf("# (matched lines sum to %ld)\n", sum);
    return ((now() - start) * 1e9 / count);
}

/* name_set - n name rules, half "=hN.example.org", half "=.dN.test" */
static ACCESS *name_set(size_t n, char (*names)[40], double *secs)
{
    char   *text = mymalloc(n * 40 + 1);
    size_t  len = 0;
    size_t  i;
    char   *err = 0;
    double  t0;
    ACCESS *acc;

    for (i = 0; i < n; i++) {
        len += (size_t) sprintf(text + len, i % 2 ? "=.d%zu.test deny\n" :
                                "=H%zu.Example.ORG allow\n", i);
        sprintf(names[i], i % 2 ? "x.y.d%zu.test" : "h%zu.example.org", i);
    }
    t0 = now();
    acc = access_parse(text, len, "rules", 0, &err);
    *secs = now() - t0;
    if (err)
        printf("# %s\n", err);
    myfree(err);
    myfree(text);
    return (acc);
}

/* name_performance - 100,000 name rules: parse time, lookups, no scan */
static void name_performance(void)
{
    char    (*names)[40] = mymalloc(100000 * sizeof(*names));
    char    few_names[10][40];
    double  parse;
    double  unused;
    ACCESS *acc = name_set(100000, names, &parse);
    ACCESS *few = name_set(10, few_names, &unused);
    const char *sanitize = getenv("SS_SANITIZE");
    double  ns_few;
    double  ns_many;
    size_t  i;
    int     wrong = 0;

    ok(acc && few && access_count(acc) == 100000,
       "100,000 name rules parse");
    if (acc == 0 || few == 0)
        return;
    for (i = 0; i < 100000; i++)
        wrong += name(acc, names[i]) != (int) i + 1;
    ok(wrong == 0, "... each name finds its own rule (%d wrong)", wrong);
    printf("# parse 100,000 name rules: %.1f ms\n", parse * 1e3);
    if (sanitize && *sanitize)
        skip("under ASan: instrumented code is several times slower",
             "... in under a second");
    else
        ok(parse < 1.0, "... in under a second");
    ns_few = name_lookups(few, few_names, 10, 1000000);
    ns_many = name_lookups(acc, names, 100000, 1000000);
    printf("# name lookups: %.1f ns each against 10 rules, "
           "%.1f ns against 100,000\n", ns_few, ns_many);
    /* A balanced tree: some 17 levels against 4, each maybe a cache miss. */
    ok(ns_many < 200 * (ns_few > 20 ? ns_few : 20),
       "name lookups against 100,000 rules cost a small multiple of 10");
    access_free(acc);
    access_free(few);
    myfree(names);
}

int     main(void)
{
    spec_example();
    spec_errors();
    pattern_errors();
    action_errors();
    byte_errors();
    duplicates();
    most_specific();
    families();
    syntax();
    differential();
    reading();
    performance();
    name_rules();
    name_alone();
    name_errors();
    name_networks();
    name_differential();
    name_performance();
    return (done_testing());
}
