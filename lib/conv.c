/*
 * conv.c - strict conversion of numbers, time values, booleans and modes
 *
 * strtol() alone accepts leading white space, a lone sign and trailing
 * garbage; every function here checks those itself.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conv.h"

/*
 * conv_digits - parse a decimal prefix, set *end. CONV_ERR_RANGE says
 * that the number overflows; the caller reports it only when the rest
 * of the text is right, since "99999999999999999999x" is bad syntax.
 */
static int conv_digits(const char *str, int allow_sign, long *out, char **end)
{
    if (!isdigit((unsigned char) str[0])
        && !(allow_sign && str[0] == '-' && isdigit((unsigned char) str[1])))
        return (CONV_ERR_SYNTAX);
    errno = 0;
    *out = strtol(str, end, 10);
    return (errno == ERANGE ? CONV_ERR_RANGE : CONV_OK);
}

/* conv_long - decimal integer within bounds */
int     conv_long(const char *str, long min, long max, long *out)
{
    long    val;
    char   *end;
    int     err;

    if ((err = conv_digits(str, min < 0, &val, &end)) == CONV_ERR_SYNTAX)
        return (err);
    if (*end != 0)
        return (CONV_ERR_SYNTAX);
    if (err == CONV_ERR_RANGE || val < min || val > max)
        return (CONV_ERR_RANGE);
    *out = val;
    return (CONV_OK);
}

/* conv_time - time value with optional unit, in seconds, within bounds */
int     conv_time(const char *str, long min, long max, long *out)
{
    long    val;
    long    mult;
    char   *end;
    int     err;

    if ((err = conv_digits(str, 0, &val, &end)) == CONV_ERR_SYNTAX)
        return (err);
    switch (*end) {
    case 0:
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    case 'w':
        mult = 7 * 86400;
        break;
    default:
        return (CONV_ERR_SYNTAX);
    }
    if (*end && end[1] != 0)
        return (CONV_ERR_SYNTAX);
    if (err == CONV_ERR_RANGE || val > LONG_MAX / mult)
        return (CONV_ERR_RANGE);
    val *= mult;
    if (val < min || val > max)
        return (CONV_ERR_RANGE);
    *out = val;
    return (CONV_OK);
}

/* conv_bool - yes/no and friends */
int     conv_bool(const char *str, int *out)
{
    static const char *yes[] = {"yes", "true", "on", "1", 0};
    static const char *no[] = {"no", "false", "off", "0", 0};
    int     i;

    for (i = 0; yes[i]; i++) {
        if (strcasecmp(str, yes[i]) == 0) {
            *out = 1;
            return (CONV_OK);
        }
        if (strcasecmp(str, no[i]) == 0) {
            *out = 0;
            return (CONV_OK);
        }
    }
    return (CONV_ERR_SYNTAX);
}

/* conv_mode - octal file mode */
int     conv_mode(const char *str, long *out)
{
    unsigned long val;
    int     err;

    if ((err = conv_octal(str, 07777, &val)) == CONV_OK)
        *out = (long) val;
    return (err);
}

/* conv_octal - octal digits only, at most max */
int     conv_octal(const char *str, unsigned long max, unsigned long *out)
{
    unsigned long val;
    char   *end;

    /* strtoul() would take a sign, white space or nothing at all. */
    if (str[0] < '0' || str[0] > '7')
        return (CONV_ERR_SYNTAX);
    errno = 0;
    val = strtoul(str, &end, 8);
    if (*end != 0)
        return (CONV_ERR_SYNTAX);
    if (errno == ERANGE || val > max)
        return (CONV_ERR_RANGE);
    *out = val;
    return (CONV_OK);
}

/* conv_strerror - text for an error code */
const char *conv_strerror(int err)
{
    switch (err) {
    case CONV_OK:
        return ("no error");
    case CONV_ERR_RANGE:
        return ("out of range");
    default:
        return ("bad syntax");
    }
}
