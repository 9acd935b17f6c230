#ifndef SS_CONV_H
#define SS_CONV_H

/*++
 * NAME
 *	conv 3
 * SUMMARY
 *	strict conversion of numbers, time values, booleans and modes
 * SYNOPSIS
 *	#include <conv.h>
 *
 *	int	conv_long(const char *str, long min, long max, long *out);
 *	int	conv_time(const char *str, long min, long max, long *out);
 *	int	conv_bool(const char *str, int *out);
 *	int	conv_mode(const char *str, long *out);
 *	int	conv_octal(const char *str, unsigned long max,
 *			unsigned long *out);
 *	const char *conv_strerror(int err);
 * DESCRIPTION
 *	Each function converts the whole of str or nothing: leading or
 *	trailing garbage, an empty string, a sign where none belongs and
 *	overflow are errors, never a silent zero (no atoi()).
 *
 *	conv_long() takes a decimal integer within [min, max].
 *
 *	conv_time() takes a non-negative integer with an optional unit:
 *	s (seconds, the default), m, h, d or w; the result is in seconds
 *	and must lie within [min, max] seconds.
 *
 *	conv_bool() takes yes/no, true/false, on/off or 1/0 (any case).
 *
 *	conv_mode() takes an octal file mode from 0 to 07777.
 *
 *	conv_octal() takes octal digits (nothing else: no sign, no white
 *	space) for a value from 0 to max.
 *
 *	On success *out is set and CONV_OK returned; otherwise *out is left
 *	alone and CONV_ERR_SYNTAX or CONV_ERR_RANGE returned;
 *	conv_strerror() gives the text ("bad syntax", "out of range").
 *--*/

#define CONV_OK         0
#define CONV_ERR_SYNTAX 1
#define CONV_ERR_RANGE  2

extern int conv_long(const char *, long, long, long *);
extern int conv_time(const char *, long, long, long *);
extern int conv_bool(const char *, int *);
extern int conv_mode(const char *, long *);
extern int conv_octal(const char *, unsigned long, unsigned long *);
extern const char *conv_strerror(int);

#endif
