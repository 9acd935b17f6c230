/*
 * test_hostname.c - hostname_clean(): the names that pass, in what form,
 * and every kind of name that does not (SPEC 13)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hostname.h"
#include "tap.h"

#define GUARD   16                      /* bytes after out that stay put */

/* shown - a name for a test's title, control and 8-bit bytes as \xNN */
static const char *shown(const char *in, size_t len)
{
    static char buf[4 * 300 + 1];
    size_t  i;
    size_t  n = 0;

    for (i = 0; i < len && n + 5 < sizeof(buf); i++) {
        unsigned char c = (unsigned char) in[i];

        if (c < 0x20 || c >= 0x7f)
            n += (size_t) snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);
        else
            buf[n++] = (char) c;
    }
    buf[n] = 0;
    return (buf);
}

/* clean - hostname_clean() on len bytes; out has guard bytes after it */
static int clean(const char *in, size_t len, char *out)
{
    int     ret;
    size_t  i;

    memset(out, 'Z', HOSTNAME_MAX + 1 + GUARD);
    ret = hostname_clean(in, len, out);
    for (i = HOSTNAME_MAX + 1; i < HOSTNAME_MAX + 1 + GUARD; i++)
        if (out[i] != 'Z') {
            printf("# wrote past HOSTNAME_MAX + 1 bytes\n");
            return (-2);
        }
    return (ret);
}

/* good - len bytes of in pass as want */
static void good(const char *in, size_t len, const char *want)
{
    char    out[HOSTNAME_MAX + 1 + GUARD];
    int     ret = clean(in, len, out);

    ok(ret == 0 && strcmp(out, want) == 0, "\"%s\" passes%s%s",
       len > 70 ? "(long)" : shown(in, len), strlen(want) > 70 ? "" : " as ",
       strlen(want) > 70 ? "" : want);
    if (ret == 0 && strcmp(out, want) != 0)
        printf("#   got \"%s\"\n", shown(out, strlen(out)));
}

/* bad - len bytes of in are no name */
static void bad(const char *in, size_t len, const char *why)
{
    char    out[HOSTNAME_MAX + 1 + GUARD];

    ok(clean(in, len, out) == -1, "\"%s\": no name (%s)",
       len > 70 ? "(long)" : shown(in, len), why);
}

/* good_str, bad_str - the same for null-terminated strings */
static void good_str(const char *in, const char *want)
{
    good(in, strlen(in), want);
}

static void bad_str(const char *in, const char *why)
{
    bad(in, strlen(in), why);
}

/* characters - the set that passes, case, the final dot */
static void characters(void)
{
    static const char unterminated[3] = {'a', 'b', 'c'};

    good_str("client.test", "client.test");
    good_str("a", "a");
    good_str("Client.TEST", "client.test");
    good_str("Client.Test.", "client.test");
    good_str("x.", "x");
    good_str("a-b_c.d9.0-1", "a-b_c.d9.0-1");
    good_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ.abcdefghijklmnopqrstuvwxyz.0123456789",
             "abcdefghijklmnopqrstuvwxyz.abcdefghijklmnopqrstuvwxyz.0123456789");
    good("client.test.and-more", 11, "client.test");
    good(unterminated, sizeof(unterminated), "abc");
    bad_str("exa mple.org", "a space");
    bad_str("example.org ", "a trailing space");
    bad_str("a\tb", "a tab");
    bad_str("a\nb", "a newline");
    bad_str("a\rb", "a carriage return");
    bad("a\0b", 3, "a NUL byte inside");
    bad("ab\0", 3, "a NUL byte at the end");
    bad_str("caf\xc3\xa9.test", "UTF-8");
    bad_str("\x80.test", "the byte 0x80");
    bad_str("a.\xff", "the byte 0xff");
    bad_str("a\x7f", "DEL");
    bad_str("*", "\"*\"");
    bad_str("*.example.org", "a wildcard");
    bad_str("a/b", "\"/\"");
    bad_str("a:b", "\":\"");
    bad_str("a@b", "\"@\"");
    bad_str("a%b", "\"%\"");
    bad_str("a\"b", "a quote");
    bad_str("a$(id)", "shell characters");
    bad_str("\x1b[31mred", "an escape sequence");
}

/* labels - empty names and labels */
static void labels(void)
{
    bad("", 0, "empty");
    bad_str(".", "a dot alone");
    bad_str("..", "two dots");
    bad_str(".example.org", "a leading dot");
    bad_str("a..b", "\"..\" inside");
    bad_str("a..", "two final dots");
    bad_str("a.b..", "two final dots after two labels");
}

/* lengths - 253 bytes and 63-byte labels at most */
static void lengths(void)
{
    char    name[300];
    char    want[300];
    char    label[70];
    size_t  i;

    /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes */
    memset(label, 'a', 63);
    label[63] = 0;
    snprintf(name, sizeof(name), "%s.%s.%s.%.61s", label, label, label,
             label);
    ok(strlen(name) == 253, "(a name of %zu bytes)", strlen(name));
    good_str(name, name);
    strcpy(want, name);
    strcat(name, ".");
    good_str(name, want);               /* 254 with the final dot: fine */
    name[253] = 'a';                    /* 254 without it: too long */
    bad(name, 254, "254 bytes");
    strcat(name, ".");
    bad_str(name, "254 bytes and a final dot");
    memset(name, 'b', 299);
    name[299] = 0;
    bad_str(name, "299 bytes, one label");
    for (i = 1; i < 299; i += 2)
        name[i] = '.';
    bad_str(name, "299 bytes of one-byte labels");
    /* a label of 63 bytes passes, 64 do not, wherever it is */
    good_str(label, label);
    snprintf(name, sizeof(name), "x.%s.y", label);
    good_str(name, name);
    label[63] = 'a';
    label[64] = 0;
    bad_str(label, "a label of 64 bytes");
    snprintf(name, sizeof(name), "x.%s.y", label);
    bad_str(name, "a label of 64 bytes inside");
    snprintf(name, sizeof(name), "x.%s", label);
    bad_str(name, "a label of 64 bytes at the end");
    snprintf(name, sizeof(name), "x.%s.", label);
    bad_str(name, "a label of 64 bytes before the final dot");
}

/* same - names that differ in case and final dot come out equal */
static void same(void)
{
    char    a[HOSTNAME_MAX + 1 + GUARD];
    char    b[HOSTNAME_MAX + 1 + GUARD];

    ok(clean("MAIL.Example.ORG.", 17, a) == 0
       && clean("mail.example.org", 16, b) == 0 && strcmp(a, b) == 0,
       "\"MAIL.Example.ORG.\" and \"mail.example.org\" compare equal");
}

int     main(void)
{
    characters();
    labels();
    lengths();
    same();
    return (done_testing());
}
