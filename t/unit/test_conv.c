/*
 * test_conv.c - numbers, time values, booleans and modes: good and bad
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "conv.h"
#include "tap.h"

/* check_long - conv_long gives err, and val when it succeeds */
static void check_long(const char *in, long lo, long hi, int err, long val)
{
    long    out = -12345;
    int     got = conv_long(in, lo, hi, &out);

    ok(got == err && (err != CONV_OK || out == val),
       "conv_long(\"%s\", %ld, %ld) = %s %ld", in, lo, hi,
       conv_strerror(got), out);
}

/* check_time - conv_time gives err, and seconds when it succeeds */
static void check_time(const char *in, long hi, int err, long val)
{
    long    out = -12345;
    int     got = conv_time(in, 0, hi, &out);

    ok(got == err && (err != CONV_OK || out == val),
       "conv_time(\"%s\", max %ld) = %s %ld", in, hi, conv_strerror(got), out);
}

int     main(void)
{
    int     b = -1;
    long    m = -1;
    unsigned long u = 1;

    check_long("0", 0, 10, CONV_OK, 0);
    check_long("10", 0, 10, CONV_OK, 10);
    check_long("11", 0, 10, CONV_ERR_RANGE, 0);
    check_long("-1", 0, 10, CONV_ERR_SYNTAX, 0);
    check_long("-1", -5, 10, CONV_OK, -1);
    check_long("", 0, 10, CONV_ERR_SYNTAX, 0);
    check_long(" 5", 0, 10, CONV_ERR_SYNTAX, 0);
    check_long("5 ", 0, 10, CONV_ERR_SYNTAX, 0);
    check_long("5x", 0, 10, CONV_ERR_SYNTAX, 0);
    check_long("+5", 0, 10, CONV_ERR_SYNTAX, 0);
    check_long("0x10", 0, 100, CONV_ERR_SYNTAX, 0);
    check_long("99999999999999999999999", 0, LONG_MAX, CONV_ERR_RANGE, 0);
    /* Garbage is bad syntax, however long the number before it. */
    check_long("99999999999999999999x", 0, LONG_MAX, CONV_ERR_SYNTAX, 0);
    check_long("-99999999999999999999 ", -1, 0, CONV_ERR_SYNTAX, 0);
    check_long("2147483647", 0, INT_MAX, CONV_OK, INT_MAX);
    check_long("2147483648", 0, INT_MAX, CONV_ERR_RANGE, 0);

    check_time("0", 100, CONV_OK, 0);
    check_time("10", 100, CONV_OK, 10);
    check_time("10s", 100, CONV_OK, 10);
    check_time("2m", 1000, CONV_OK, 120);
    check_time("3h", 100000, CONV_OK, 10800);
    check_time("1d", 100000, CONV_OK, 86400);
    check_time("2w", 10000000, CONV_OK, 1209600);
    check_time("11", 10, CONV_ERR_RANGE, 0);
    check_time("1m", 10, CONV_ERR_RANGE, 0);
    check_time("1x", 100, CONV_ERR_SYNTAX, 0);
    check_time("1ms", 100, CONV_ERR_SYNTAX, 0);
    check_time("s", 100, CONV_ERR_SYNTAX, 0);
    check_time("-1s", 100, CONV_ERR_SYNTAX, 0);
    check_time("1.5s", 100, CONV_ERR_SYNTAX, 0);
    check_time("", 100, CONV_ERR_SYNTAX, 0);
    check_time("99999999999999999w", LONG_MAX, CONV_ERR_RANGE, 0);
    check_time("9223372036854775807w", LONG_MAX, CONV_ERR_RANGE, 0);
    check_time("99999999999999999999m", LONG_MAX, CONV_ERR_RANGE, 0);
    check_time("99999999999999999999x", LONG_MAX, CONV_ERR_SYNTAX, 0);
    check_time("99999999999999999999mx", LONG_MAX, CONV_ERR_SYNTAX, 0);

    ok(conv_bool("yes", &b) == CONV_OK && b == 1, "conv_bool yes");
    ok(conv_bool("No", &b) == CONV_OK && b == 0, "conv_bool No");
    ok(conv_bool("true", &b) == CONV_OK && b == 1, "conv_bool true");
    ok(conv_bool("maybe", &b) == CONV_ERR_SYNTAX, "conv_bool maybe is bad");
    ok(conv_mode("0660", &m) == CONV_OK && m == 0660, "conv_mode 0660");
    ok(conv_mode("777", &m) == CONV_OK && m == 0777, "conv_mode 777");
    ok(conv_mode("0800", &m) == CONV_ERR_SYNTAX, "conv_mode 0800 is bad");
    ok(conv_mode("17777", &m) == CONV_ERR_RANGE, "conv_mode 17777 out of range");
    ok(conv_mode("rw", &m) == CONV_ERR_SYNTAX, "conv_mode rw is bad");
    ok(conv_octal("17", UINT_MAX, &u) == CONV_OK && u == 15, "conv_octal 17");
    ok(conv_octal("0", UINT_MAX, &u) == CONV_OK && u == 0, "conv_octal 0");
    ok(conv_octal("37777777777", UINT_MAX, &u) == CONV_OK && u == UINT_MAX,
       "conv_octal UINT_MAX");
    ok(conv_octal("40000000000", UINT_MAX, &u) == CONV_ERR_RANGE,
       "conv_octal UINT_MAX + 1 out of range");
    ok(conv_octal("8", UINT_MAX, &u) == CONV_ERR_SYNTAX, "conv_octal 8 is bad");
    ok(conv_octal("12x", UINT_MAX, &u) == CONV_ERR_SYNTAX, "conv_octal 12x is bad");
    ok(conv_octal(" 1", UINT_MAX, &u) == CONV_ERR_SYNTAX, "conv_octal leading space is bad");
    ok(conv_octal("-1", UINT_MAX, &u) == CONV_ERR_SYNTAX, "conv_octal -1 is bad");
    ok(conv_octal("", UINT_MAX, &u) == CONV_ERR_SYNTAX, "conv_octal empty is bad");
    ok(conv_octal("777777777777777777777777", UINT_MAX, &u) == CONV_ERR_RANGE,
       "conv_octal overflow out of range");
    return (done_testing());
}
