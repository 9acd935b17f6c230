/*
 * test_master.c - the end of a pass connection's attribute list, in both
 * of Postfix's formats, whole and piece by piece; and GENERATION
 */
#include "config.h"

#include <string.h>

#include "master.h"
#include "tap.h"

/* scan - feed len bytes of text in pieces of step; the last status */
static int scan(const char *text, size_t len, size_t step, size_t *used)
{
    MASTER_ATTRS st;
    size_t  off;
    size_t  n;
    int     status = 0;

    memset(&st, 0, sizeof(st));
    for (off = 0; off < len && status == 0; off += n) {
        n = len - off < step ? len - off : step;
        status = master_attrs_scan(&st, text + off, n);
    }
    *used = st.total;
    return (status);
}

/* ends - the list ends exactly at its last byte, fed whole or bytewise */
static void ends(const char *name, const char *text, size_t len)
{
    size_t  used1;
    size_t  used2;
    int     whole = scan(text, len, len, &used1);
    int     bytes = scan(text, len, 1, &used2);

    ok(whole == 1 && bytes == 1 && used1 == len && used2 == len,
       "%s: ends at byte %zu (whole %d at %zu, bytewise %d at %zu)", name, len,
       whole, used1, bytes, used2);
}

/* open_ - not ended yet */
static void open_(const char *name, const char *text, size_t len)
{
    size_t  used;

    ok(scan(text, len, 1, &used) == 0, "%s: not ended", name);
}

/* The length of a literal, its embedded "\0"s included. */
#define ENDS(name, lit) ends((name), (lit), sizeof(lit) - 1)
#define OPEN(name, lit) open_((name), (lit), sizeof(lit) - 1)

int     main(void)
{
    char    big[MASTER_ATTRS_MAX + 10];
    size_t  used;
    unsigned gen = 7;

    ENDS("attr_print0, empty list", "\0");
    ENDS("attr_print0, postscreen's four",
         "client_address\0" "192.0.2.1\0" "client_port\0" "50000\0"
         "server_address\0" "192.0.2.2\0" "server_port\0" "25\0" "\0");
    ENDS("attr_print0, an empty value is no end", "a\0\0b\0x\0\0");
    ENDS("attr_print0, a newline inside a value", "a\0\n\nx\0\0");
    OPEN("attr_print0, name and value only", "a\0v\0");
    OPEN("attr_print0, a name alone", "a\0");
    ENDS("plain, empty list", "\n");
    ENDS("plain, two lines", "a=1\nb=2\n\n");
    ENDS("attr_print64, one line", "Y2xpZW50:MQ==\n\n");
    OPEN("plain, one line", "a=1\n");
    memset(big, 'x', sizeof(big));
    ok(scan(big, sizeof(big), 100, &used) == -1 && used == MASTER_ATTRS_MAX + 1,
       "more than MASTER_ATTRS_MAX bytes: refused at byte %zu", used);

    ok(master_generation("17", &gen) == 0 && gen == 15, "GENERATION 17 is 15");
    ok(master_generation("37777777777", &gen) == 0 && gen == 037777777777U,
       "GENERATION 37777777777");
    gen = 7;
    ok(master_generation("8", &gen) < 0 && gen == 7, "GENERATION 8 refused");
    ok(master_generation("", &gen) < 0 && gen == 7, "GENERATION empty refused");
    ok(master_generation("40000000000", &gen) < 0, "GENERATION too big refused");
    return (done_testing());
}
