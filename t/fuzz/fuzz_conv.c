/*
 * fuzz_conv.c - libFuzzer target for the number, time, boolean and mode
 * conversions
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_conv.c lib/conv.c -o fuzz_conv
 *	mkdir -p corpus && ./fuzz_conv -max_total_time=60 corpus
 *
 * The input, up to its first null byte, is one string, given to
 * conv_long() and conv_time() with several pairs of bounds (those of the
 * parameter tables, and the extremes), to conv_bool(), conv_mode() and
 * conv_octal(). Each answer is compared with a reference written here
 * from conv.h's words alone, without strtol(): the grammar ("the whole
 * of str or nothing", no white space, a sign only where a negative value
 * is allowed), the value, the bounds, overflow as "out of range" and
 * malformed text as "bad syntax", and *out left alone on an error.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conv.h"

#define FUZZ_UNTOUCHED  0x5a5a5a5aL     /* *out before the call */

#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* The bounds of conv_long() and conv_time() tried on every input. */
static const long fuzz_bounds[][2] = {
    {LONG_MIN, LONG_MAX},
    {0, LONG_MAX},
    {0, INT_MAX},                       /* max_use, the time parameters */
    {1, 65535},                         /* listen_backlog, ports */
    {0, 10},                            /* in_flow_delay */
    {1, 3600},                          /* upstream_proxy_timeout */
    {-100, 100},                        /* a signed application parameter */
    {LONG_MIN, -1},
    {0, 0},
};

/* The maxima of conv_octal() tried on every input. */
static const unsigned long fuzz_octal_max[] = {07777, 0777, 0, ULONG_MAX};

/* fuzz_digits - the reference: decimal digits, overflow noted, or -1 */
static int fuzz_digits(const char *str, unsigned base, unsigned long *val,
                               int *overflow, const char **end)
{
    const char *cp = str;
    unsigned d;

    *val = 0;
    *overflow = 0;
    for (; *cp >= '0' && *cp < (char) ('0' + base); cp++) {
        d = (unsigned) (*cp - '0');
        if (*val > (ULONG_MAX - d) / base)
            *overflow = 1;
        else
            *val = *val * base + d;
    }
    *end = cp;
    return (cp == str ? -1 : 0);
}

/* fuzz_ref_long - what conv_long() must answer */
static int fuzz_ref_long(const char *str, long min, long max, long *out)
{
    int     neg = min < 0 && str[0] == '-';
    unsigned long mag;
    int     overflow;
    const char *end;
    long    val;

    if (fuzz_digits(str + neg, 10, &mag, &overflow, &end) < 0 || *end)
        return (CONV_ERR_SYNTAX);
    if (overflow || mag > (neg ? (unsigned long) LONG_MAX + 1 : LONG_MAX))
        return (CONV_ERR_RANGE);
    val = !neg ? (long) mag : mag == (unsigned long) LONG_MAX + 1 ? LONG_MIN
        : -(long) mag;
    if (val < min || val > max)
        return (CONV_ERR_RANGE);
    *out = val;
    return (CONV_OK);
}

/* fuzz_ref_time - what conv_time() must answer */
static int fuzz_ref_time(const char *str, long min, long max, long *out)
{
    static const char units[] = "smhdw";
    static const long mult[] = {1, 60, 3600, 86400, 7 * 86400};
    unsigned long mag;
    int     overflow;
    const char *end;
    const char *unit;
    long    m = 1;

    if (fuzz_digits(str, 10, &mag, &overflow, &end) < 0)
        return (CONV_ERR_SYNTAX);
    if (*end) {
        if ((unit = strchr(units, *end)) == 0 || end[1])
            return (CONV_ERR_SYNTAX);
        m = mult[unit - units];
    }
    if (overflow || mag > (unsigned long) (LONG_MAX / m))
        return (CONV_ERR_RANGE);
    if ((long) mag * m < min || (long) mag * m > max)
        return (CONV_ERR_RANGE);
    *out = (long) mag *m;
    return (CONV_OK);
}

/* fuzz_ref_bool - what conv_bool() must answer */
static int fuzz_ref_bool(const char *str, int *out)
{
    static const char *words[] = {"no", "yes", "false", "true", "off", "on",
    "0", "1"};
    size_t  i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(str, words[i]) == 0) {
            *out = (int) (i % 2);
            return (CONV_OK);
        }
    }
    return (CONV_ERR_SYNTAX);
}

/* fuzz_ref_octal - what conv_octal() must answer */
static int fuzz_ref_octal(const char *str, unsigned long max,
                                  unsigned long *out)
{
    unsigned long val;
    int     overflow;
    const char *end;

    if (fuzz_digits(str, 8, &val, &overflow, &end) < 0 || *end)
        return (CONV_ERR_SYNTAX);
    if (overflow || val > max)
        return (CONV_ERR_RANGE);
    *out = val;
    return (CONV_OK);
}

/* fuzz_same - the same code, and the same value on success */
static void fuzz_same(const char *fn, const char *str, int got,
                              long got_val, int want, long want_val)
{
    if (got != want || (got == CONV_OK ? got_val != want_val
                        : got_val != FUZZ_UNTOUCHED)) {
        fprintf(stderr, "fuzz: %s(\"%s\"): %d (%ld), expected %d (%ld)\n",
                fn, str, got, got_val, want, want_val);
        abort();
    }
}

/* fuzz_string - every conversion of one string */
static void fuzz_string(const char *str)
{
    long    lo;
    long    hi;
    long    got;
    long    want;
    int     got_b;
    int     want_b;
    unsigned long got_u;
    unsigned long want_u;
    size_t  i;
    int     r;
    int     w;

    for (i = 0; i < sizeof(fuzz_bounds) / sizeof(fuzz_bounds[0]); i++) {
        lo = fuzz_bounds[i][0];
        hi = fuzz_bounds[i][1];
        got = want = FUZZ_UNTOUCHED;
        r = conv_long(str, lo, hi, &got);
        w = fuzz_ref_long(str, lo, hi, &want);
        fuzz_same("conv_long", str, r, got, w, want);
        if (lo < 0)
            continue;                   /* a time is never negative */
        got = want = FUZZ_UNTOUCHED;
        r = conv_time(str, lo, hi, &got);
        w = fuzz_ref_time(str, lo, hi, &want);
        fuzz_same("conv_time", str, r, got, w, want);
    }
    got_b = want_b = (int) FUZZ_UNTOUCHED;
    r = conv_bool(str, &got_b);
    w = fuzz_ref_bool(str, &want_b);
    fuzz_same("conv_bool", str, r, got_b, w, want_b);
    for (i = 0; i < sizeof(fuzz_octal_max) / sizeof(fuzz_octal_max[0]); i++) {
        got_u = want_u = FUZZ_UNTOUCHED;
        r = conv_octal(str, fuzz_octal_max[i], &got_u);
        w = fuzz_ref_octal(str, fuzz_octal_max[i], &want_u);
        fuzz_same("conv_octal", str, r, (long) got_u, w, (long) want_u);
    }
    got = FUZZ_UNTOUCHED;
    want_u = FUZZ_UNTOUCHED;
    r = conv_mode(str, &got);
    w = fuzz_ref_octal(str, 07777, &want_u);
    fuzz_same("conv_mode", str, r, got, w, (long) want_u);
    FUZZ_ASSERT(conv_strerror(r) != 0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *str = malloc(size + 1);

    if (str == 0)
        abort();
    memcpy(str, data, size);
    str[size] = 0;
    fuzz_string(str);
    free(str);
    return (0);
}
