/* The printf engine's internal interface between its two files: format.c (the walk, integers,
 * strings, output) and format_float.c (exact floating-point conversion).
 *
 * The output helpers and the float entry points are ordinary symbols under __rivet_ names (the
 * macros below keep the short names in the sources); nothing outside the engine uses them. */
#ifndef RIVET_FORMAT_PARTS_H
#define RIVET_FORMAT_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

#define out_bytes __rivet_out_bytes
#define out_repeat __rivet_out_repeat
#define out_padded __rivet_out_padded
#define number_from_double __rivet_number_from_double
#define number_from_long_double __rivet_number_from_long_double
#define format_double __rivet_format_double

/* One conversion's specification. */
struct spec {
    int left;      /* '-' */
    int plus;      /* '+' */
    int space;     /* ' ' */
    int alt;       /* '#' */
    int zero;      /* '0' */
    int width;     /* 0 when absent */
    int precision; /* -1 when absent */
    char conv;
};

/* A value in %a's terms: lead digit, fraction nibbles and binary exponent. Doubles and
 * binary128 lead with 1 (0 when subnormal); x87 extended leads with the top four bits of its
 * 64-bit significand ("0x8p-3" for 1.0), as glibc prints them. */
struct hex_form {
    unsigned lead;
    unsigned __int128 fraction; /* `nibbles` hex digits */
    int nibbles;
    int exponent;
    /* x87: a carry out of the lead digit renormalises to 0x1…p(e+4) as glibc does. */
    int renormalise;
};

/* A floating-point value to format: sign, class and exact binary value. */
struct number {
    int negative;
    /* 0 finite, 1 infinity, 2 NaN. */
    int special;
    /* The finite value is mantissa × 2^exponent. */
    unsigned __int128 mantissa;
    int exponent;
    /* What %a prints, with its own sign and class (a long double beyond the decimal path's
     * range is decimal-formatted through double but hex-formatted exactly). */
    struct hex_form hex;
    int hex_negative;
    int hex_special;
    /* A long double whose digits need the large (malloc'd) storage, and its double
     * approximation for when there is no memory. */
    int large;
    double approximation;
};

/* Appends bytes to the output. */
void out_bytes(struct rivet_out *out, const char *bytes, size_t len);
/* Appends `len` copies of `c`. */
void out_repeat(struct rivet_out *out, char c, size_t len);
/* Emits prefix and body with the spec's width: spaces left or right, or zeros between prefix
 * and body when `zero_pad`. */
void out_padded(struct rivet_out *out, const struct spec *spec, const char *prefix,
                size_t prefix_len, const char *body, size_t body_len, size_t zeros, int zero_pad);

/* A double or long double as the float conversions take it. */
struct number number_from_double(double value);
struct number number_from_long_double(long double value);
/* Formats a number for %f %F %e %E %g %G %a %A. */
void format_double(struct rivet_out *out, const struct spec *spec, const struct number *number);

#endif
