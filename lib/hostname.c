/*
 * hostname.c - host names as the server takes them
 *
 * One small check serves both the resolver's answers and the rules
 * parser's patterns, so that a name in a rule and the same name from
 * DNS compare equal with strcmp(). The character set is that of host
 * names (RFC 952, RFC 1123) plus "_", which real PTR records carry;
 * anything else, a null byte included, makes the input no name at all
 * rather than a name with something replaced: a name is either trusted
 * as a whole or not used.
 */
#include "config.h"

#include <string.h>

#include "hostname.h"

/* hostname_char - a byte that a name may hold, lower-cased; 0: none */
char    hostname_char(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return ((char) (c - 'A' + 'a'));
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
        || c == '.' || c == '_')
        return ((char) c);
    return (0);
}

/* hostname_clean - a name lower-cased without its final dot, or -1 */
int     hostname_clean(const char *in, size_t len, char *out)
{
    size_t  label = 0;                  /* bytes of the label so far */
    size_t  i;
    char    c;

    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0 || len > HOSTNAME_MAX)
        return (-1);
    for (i = 0; i < len; i++) {
        if ((c = hostname_char((unsigned char) in[i])) == 0)
            return (-1);
        if (c != '.')
            label++;
        else if (label == 0)            /* a leading dot, or ".." */
            return (-1);
        else
            label = 0;
        if (label > HOSTNAME_LABEL_MAX)
            return (-1);
        out[i] = c;
    }
    if (label == 0)                     /* "name.." less one final dot */
        return (-1);
    out[len] = 0;
    return (0);
}
