/* The printf engine's floating-point conversions: %f %F %e %E %g %G %a %A, exactly.
 *
 * The value's binary significand and exponent are expanded into all of their decimal digits with
 * a small base-1e9 big integer, then rounded once, half to even, which is what glibc prints in
 * the default rounding mode. Doubles and `long double`s (x86_64's 80-bit extended, aarch64's
 * binary128) are all exact; long doubles beyond about 1e±330 need ~30 KB of digits, taken from
 * malloc (without memory they print their double approximation). `%a` is exact for every
 * format (x87 values lead with their top four bits, as glibc prints them). */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format_parts.h"

/* ---- exact decimal expansion of a double ----------------------------------------------------- */

#define LIMB_BASE 1000000000u

/* Storage sizes. Every double and every long double with a binary exponent in -1300..1100 fits
 * the small ones (on the stack); other long doubles (up to ~4933 integer and ~16500 fraction
 * digits) use the large ones, from malloc. */
#define SMALL_DIGITS 1400
#define SMALL_LIMBS 150
#define SMALL_BODY 1500
#define LARGE_DIGITS 16800
#define LARGE_LIMBS 1900
#define LARGE_BODY 6400

/* A non-negative integer in base 1e9, least significant limb first, in caller storage. */
struct big {
    uint32_t *limb;
    int len;
};

static void big_from_u128(struct big *big, unsigned __int128 value)
{
    big->len = 0;
    while (value != 0) {
        big->limb[big->len++] = (uint32_t)(value % LIMB_BASE);
        value /= LIMB_BASE;
    }
}

static void big_mul_small(struct big *big, uint32_t factor)
{
    uint64_t carry = 0;
    for (int i = 0; i < big->len; i++) {
        uint64_t product = (uint64_t)big->limb[i] * factor + carry;
        big->limb[i] = (uint32_t)(product % LIMB_BASE);
        carry = product / LIMB_BASE;
    }
    while (carry != 0) {
        big->limb[big->len++] = (uint32_t)(carry % LIMB_BASE);
        carry /= LIMB_BASE;
    }
}

/* Writes the decimal digits of `big` (no leading zeros; nothing for zero) to `to`; returns the
 * count. */
static int big_digits(const struct big *big, char *to)
{
    int n = 0;
    for (int i = big->len - 1; i >= 0; i--) {
        uint32_t limb = big->limb[i];
        char chunk[9];
        for (int j = 8; j >= 0; j--) {
            chunk[j] = (char)('0' + limb % 10);
            limb /= 10;
        }
        int j = 0;
        if (i == big->len - 1)
            while (j < 8 && chunk[j] == '0')
                j++;
        for (; j < 9; j++)
            to[n++] = chunk[j];
    }
    return n;
}

/* value = 0.d[0]d[1]…d[n-1] × 10^point, d[0] != 0 unless n == 0 (zero); caller storage. */
struct decimal {
    char *d;
    int n;
    int point;
};

/* The exact digits of mantissa × 2^exponent into dec->d, using `limbs` as the big integer's
 * storage (sized as above for the value's range). */
static void decimal_from_parts(struct decimal *dec, unsigned __int128 mantissa, int exponent,
                               uint32_t *limbs)
{
    struct big big = {limbs, 0};
    int n = 0;
    int point;
    if (exponent >= 0) {
        big_from_u128(&big, mantissa);
        int shift = exponent;
        while (shift >= 29) {
            big_mul_small(&big, UINT32_C(1) << 29);
            shift -= 29;
        }
        big_mul_small(&big, UINT32_C(1) << shift);
        n = big_digits(&big, dec->d);
        point = n;
    } else {
        int k = -exponent;
        unsigned __int128 one = 1;
        unsigned __int128 integer = k < 128 ? mantissa >> k : 0;
        unsigned __int128 fraction = k < 128 ? mantissa & ((one << k) - 1) : mantissa;
        big_from_u128(&big, integer);
        n = big_digits(&big, dec->d);
        point = n;
        /* fraction / 2^k = fraction × 5^k / 10^k: k digits after the point. */
        big_from_u128(&big, fraction);
        int left = k;
        while (left >= 13) {
            big_mul_small(&big, 1220703125u); /* 5^13 */
            left -= 13;
        }
        uint32_t rest = 1;
        while (left-- > 0)
            rest *= 5;
        big_mul_small(&big, rest);
        char *frac = dec->d + n;
        int digits = big_digits(&big, frac);
        /* Left-pad to k digits. */
        memmove(frac + (k - digits), frac, (size_t)digits);
        for (int i = 0; i < k - digits; i++)
            frac[i] = '0';
        n += k;
    }
    /* Normalise: strip leading and trailing zeros. */
    int start = 0;
    while (start < n && dec->d[start] == '0')
        start++;
    if (start == n) {
        dec->n = 0;
        dec->point = 0;
        return;
    }
    if (start > 0)
        memmove(dec->d, dec->d + start, (size_t)(n - start));
    n -= start;
    point -= start;
    while (n > 0 && dec->d[n - 1] == '0')
        n--;
    dec->n = n;
    dec->point = point;
}

/* Keeps the first `keep` digits, rounding the rest away half to even. */
static void decimal_round(struct decimal *dec, int keep)
{
    if (keep >= dec->n)
        return;
    if (keep < 0) {
        dec->n = 0;
        dec->point = 0;
        return;
    }
    int up;
    char first = dec->d[keep];
    if (first > '5') {
        up = 1;
    } else if (first < '5') {
        up = 0;
    } else {
        /* Digits were trimmed of trailing zeros: anything after means above the half. */
        up = keep + 1 < dec->n || (keep > 0 && ((dec->d[keep - 1] - '0') & 1));
    }
    dec->n = keep;
    if (up) {
        int i = keep - 1;
        while (i >= 0 && dec->d[i] == '9')
            i--;
        if (i < 0) {
            dec->d[0] = '1';
            dec->n = 1;
            dec->point += 1;
        } else {
            dec->d[i]++;
            dec->n = i + 1;
        }
    }
    while (dec->n > 0 && dec->d[dec->n - 1] == '0')
        dec->n--;
    if (dec->n == 0)
        dec->point = 0;
}

static char decimal_digit(const struct decimal *dec, int index)
{
    return index >= 0 && index < dec->n ? dec->d[index] : '0';
}

/* ---- floating-point conversions --------------------------------------------------------------- */

/* The body of %f: integer digits, point, `precision` fraction digits. Returns its length. */
static size_t body_fixed(const struct decimal *dec, int precision, int alt, char *to)
{
    size_t len = 0;
    if (dec->point <= 0) {
        to[len++] = '0';
    } else {
        for (int i = 0; i < dec->point; i++)
            to[len++] = decimal_digit(dec, i);
    }
    if (precision > 0 || alt)
        to[len++] = '.';
    for (int i = 0; i < precision; i++)
        to[len++] = decimal_digit(dec, dec->point + i);
    return len;
}

/* The body of %e: one digit, point, `precision` digits, exponent of at least two digits. */
static size_t body_exponent(const struct decimal *dec, int precision, int alt, char e, char *to)
{
    size_t len = 0;
    int exponent = dec->n == 0 ? 0 : dec->point - 1;
    to[len++] = decimal_digit(dec, 0);
    if (precision > 0 || alt)
        to[len++] = '.';
    for (int i = 1; i <= precision; i++)
        to[len++] = decimal_digit(dec, i);
    to[len++] = e;
    to[len++] = exponent < 0 ? '-' : '+';
    unsigned magnitude = (unsigned)(exponent < 0 ? -exponent : exponent);
    char digits[8];
    int count = 0;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (count < 2)
        digits[count++] = '0';
    while (count > 0)
        to[len++] = digits[--count];
    return len;
}

/* Removes trailing fraction zeros (and a bare point) from a %g body's digits part. */
static size_t strip_fraction_zeros(char *body, size_t len)
{
    size_t point = 0;
    while (point < len && body[point] != '.')
        point++;
    if (point == len)
        return len;
    while (len > point + 1 && body[len - 1] == '0')
        len--;
    if (len == point + 1)
        len--;
    return len;
}


static size_t body_hex(const struct hex_form *form, int precision, int alt, int upper, char *to)
{
    const char *alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned lead = form->lead;
    unsigned __int128 fraction = form->fraction;
    int nibbles = form->nibbles;
    int exponent = form->exponent;
    unsigned __int128 one = 1;
    int digits = nibbles;
    if (precision >= 0 && precision < nibbles) {
        int drop = 4 * (nibbles - precision);
        unsigned __int128 kept = fraction >> drop;
        unsigned __int128 rest = fraction & ((one << drop) - 1);
        unsigned __int128 half = one << (drop - 1);
        /* Ties go to even; with no fraction digits the parity is the leading digit's. */
        unsigned parity = precision == 0 ? lead : (unsigned)(kept & 1);
        if (rest > half || (rest == half && (parity & 1)))
            kept++;
        if (precision == 0 ? kept != 0 : (kept >> (4 * precision)) != 0) {
            lead += 1;
            kept &= precision == 0 ? 0 : ((one << (4 * precision)) - 1);
        }
        if (form->renormalise && lead == 16) {
            lead = 1;
            exponent += 4;
        }
        fraction = kept << drop;
        digits = precision;
    } else if (precision < 0) {
        while (digits > 0 && ((fraction >> (4 * (nibbles - digits))) & 0xf) == 0)
            digits--;
    }
    size_t len = 0;
    to[len++] = alphabet[lead & 0xf];
    if (digits > 0 || alt || precision > 0)
        to[len++] = '.';
    for (int i = 0; i < digits; i++)
        to[len++] = alphabet[(unsigned)(fraction >> (4 * (nibbles - 1 - i))) & 0xf];
    to[len++] = upper ? 'P' : 'p';
    to[len++] = exponent < 0 ? '-' : '+';
    unsigned magnitude = (unsigned)(exponent < 0 ? -exponent : exponent);
    char tmp[8];
    int count = 0;
    do {
        tmp[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    while (count > 0)
        to[len++] = tmp[--count];
    return len;
}


static uint64_t double_bits(double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

struct number number_from_double(double value)
{
    uint64_t bits = double_bits(value);
    struct number number;
    number.negative = (int)(bits >> 63);
    int biased = (int)((bits >> 52) & 0x7ff);
    uint64_t fraction = bits & ((UINT64_C(1) << 52) - 1);
    number.special = biased == 0x7ff ? (fraction != 0 ? 2 : 1) : 0;
    number.mantissa = biased == 0 ? fraction : fraction | UINT64_C(1) << 52;
    number.exponent = biased == 0 ? -1074 : biased - 1075;
    number.hex.lead = biased != 0;
    number.hex.fraction = fraction;
    number.hex.nibbles = 13;
    number.hex.exponent = biased == 0 ? (fraction == 0 ? 0 : -1022) : biased - 1023;
    number.hex.renormalise = 0;
    number.large = 0;
    number.approximation = value;
    number.hex_negative = number.negative;
    number.hex_special = number.special;
    return number;
}

/* A long double, exactly when its format is known (x86_64's 80-bit extended, IEEE binary128)
 * and its binary exponent fits the digit buffers; otherwise through double (a known weak spot
 * for values beyond double's range). The format is chosen by LDBL_MANT_DIG, not by naming an
 * architecture. */
struct number number_from_long_double(long double value)
{
    struct number number = number_from_double((double)value);
#if LDBL_MANT_DIG == 64 || LDBL_MANT_DIG == 113
    unsigned char bytes[sizeof(long double)];
    memcpy(bytes, &value, sizeof value);
    unsigned __int128 mantissa = 0;
    int biased;
    int negative;
#if LDBL_MANT_DIG == 64
    for (int i = 7; i >= 0; i--)
        mantissa = mantissa << 8 | bytes[i];
    biased = (bytes[9] & 0x7f) << 8 | bytes[8];
    negative = bytes[9] >> 7;
    int special = biased == 0x7fff ? ((uint64_t)(mantissa << 1) != 0 ? 2 : 1) : 0;
    int exponent = (biased == 0 ? 1 : biased) - 16383 - 63;
#else
    for (int i = 13; i >= 0; i--)
        mantissa = mantissa << 8 | bytes[i];
    biased = (bytes[15] & 0x7f) << 8 | bytes[14];
    negative = bytes[15] >> 7;
    int special = biased == 0x7fff ? (mantissa != 0 ? 2 : 1) : 0;
    if (biased != 0)
        mantissa |= (unsigned __int128)1 << 112;
    int exponent = (biased == 0 ? 1 : biased) - 16383 - 112;
#endif
    number.negative = negative;
    number.special = special;
    number.mantissa = mantissa;
    number.exponent = exponent;
    number.large = special == 0 && mantissa != 0 && (exponent < -1300 || exponent > 1100);
    number.approximation = (double)value;
    /* %a is exact at any exponent. */
    number.hex_negative = negative;
    number.hex_special = special;
#if LDBL_MANT_DIG == 64
    number.hex.lead = (unsigned)(mantissa >> 60) & 0xf;
    number.hex.fraction = mantissa & ((UINT64_C(1) << 60) - 1);
    number.hex.nibbles = 15;
    number.hex.exponent = mantissa == 0 ? 0 : (biased == 0 ? 1 : biased) - 16383 - 3;
    number.hex.renormalise = 1;
#else
    number.hex.lead = biased != 0;
    number.hex.fraction = mantissa & (((unsigned __int128)1 << 112) - 1);
    number.hex.nibbles = 28;
    number.hex.exponent = mantissa == 0 ? 0 : (biased == 0 ? 1 : biased) - 16383;
    number.hex.renormalise = 0;
#endif
#endif
    return number;
}

/* %f %e %g of a finite number, with the digit, limb and body storage the caller chose. */
static void format_decimal(struct rivet_out *out, const struct spec *spec,
                           const struct number *number, const char *prefix, size_t prefix_len,
                           int zero_pad, char *digits, uint32_t *limbs, char *body)
{
    enum { CAP = 1100 };
    int upper = spec->conv == 'F' || spec->conv == 'E' || spec->conv == 'G';
    int precision = spec->precision;
    size_t len = 0;
    size_t trailing_zeros = 0;
    if (precision < 0)
        precision = 6;
    struct decimal dec;
    dec.d = digits;
    decimal_from_parts(&dec, number->mantissa, number->exponent, limbs);
    int shown = precision > CAP ? CAP : precision;
    switch (spec->conv) {
    case 'f':
    case 'F':
        decimal_round(&dec, dec.point + precision);
        len = body_fixed(&dec, shown, spec->alt, body);
        trailing_zeros = (size_t)(precision - shown);
        break;
    case 'e':
    case 'E':
        decimal_round(&dec, precision + 1);
        if (precision > shown) {
            /* Zeros go before the exponent: emit digits, zeros, exponent. */
            char tail[16];
            len = body_exponent(&dec, shown, 1, upper ? 'E' : 'e', body);
            size_t e = len;
            while (body[e - 1] != 'e' && body[e - 1] != 'E')
                e--;
            e--;
            size_t tail_len = len - e;
            memcpy(tail, body + e, tail_len);
            size_t zeros = (size_t)(precision - shown);
            size_t total = e + zeros + tail_len;
            size_t pad = spec->width > 0 && (size_t)spec->width > prefix_len + total
                             ? (size_t)spec->width - prefix_len - total
                             : 0;
            if (!spec->left && !zero_pad)
                out_repeat(out, ' ', pad);
            out_bytes(out, prefix, prefix_len);
            if (!spec->left && zero_pad)
                out_repeat(out, '0', pad);
            out_bytes(out, body, e);
            out_repeat(out, '0', zeros);
            out_bytes(out, tail, tail_len);
            if (spec->left)
                out_repeat(out, ' ', pad);
            return;
        }
        len = body_exponent(&dec, precision, spec->alt, upper ? 'E' : 'e', body);
        break;
    default: { /* g, G */
        int p = precision == 0 ? 1 : precision;
        int point_before = dec.point;
        decimal_round(&dec, p);
        /* Rounding carried a value printed in f-style into e-style (999.5 → 1e+03). */
        int carried = dec.n != 0 && dec.point != point_before && point_before - 1 >= -4
                      && point_before - 1 < p;
        int exponent = dec.n == 0 ? 0 : dec.point - 1;
        if (p > exponent && exponent >= -4) {
            int fraction = p - 1 - exponent;
            int fraction_shown = fraction > CAP ? CAP : fraction;
            len = body_fixed(&dec, fraction_shown, spec->alt, body);
            if (spec->alt)
                trailing_zeros = (size_t)(fraction - fraction_shown);
        } else {
            /* glibc quirk, matched: with '#', when rounding carried an f-style value into
             * e-style, the fraction keeps f-style's digit count, none ("%#.3g" of 999.5 is
             * "1.e+03"). */
            int fraction = spec->alt && carried ? 0 : p - 1;
            int fraction_shown = fraction > CAP ? CAP : fraction;
            len = body_exponent(&dec, fraction_shown, spec->alt, upper ? 'E' : 'e', body);
            if (!spec->alt) {
                /* Strip zeros before the exponent. */
                size_t e = 0;
                while (body[e] != 'e' && body[e] != 'E')
                    e++;
                size_t kept = strip_fraction_zeros(body, e);
                memmove(body + kept, body + e, len - e);
                len -= e - kept;
            }
            break;
        }
        if (!spec->alt)
            len = strip_fraction_zeros(body, len);
        break;
    }
    }
    if (trailing_zeros == 0) {
        out_padded(out, spec, prefix, prefix_len, body, len, 0, zero_pad);
        return;
    }
    size_t total = prefix_len + len + trailing_zeros;
    size_t pad = spec->width > 0 && (size_t)spec->width > total ? (size_t)spec->width - total : 0;
    if (!spec->left && !zero_pad)
        out_repeat(out, ' ', pad);
    out_bytes(out, prefix, prefix_len);
    if (!spec->left && zero_pad)
        out_repeat(out, '0', pad);
    out_bytes(out, body, len);
    out_repeat(out, '0', trailing_zeros);
    if (spec->left)
        out_repeat(out, ' ', pad);
}

/* Formats a floating-point value. The body buffer holds the longest %f the digit buffers allow
 * plus a precision the caller caps; precision beyond the cap is emitted as zeros separately. */
void format_double(struct rivet_out *out, const struct spec *spec, const struct number *number)
{
    int hex = spec->conv == 'a' || spec->conv == 'A';
    int negative = hex ? number->hex_negative : number->negative;
    int special = hex ? number->hex_special : number->special;
    int upper = spec->conv == 'F' || spec->conv == 'E' || spec->conv == 'G' || spec->conv == 'A';
    char prefix[3];
    size_t prefix_len = 0;
    if (negative)
        prefix[prefix_len++] = '-';
    else if (spec->plus)
        prefix[prefix_len++] = '+';
    else if (spec->space)
        prefix[prefix_len++] = ' ';

    if (special != 0) {
        const char *word = special == 2 ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        out_padded(out, spec, prefix, prefix_len, word, 3, 0, 0);
        return;
    }
    int zero_pad = spec->zero && !spec->left;
    char body[SMALL_BODY];
    size_t len = 0;
    int precision = spec->precision;

    if (spec->conv == 'a' || spec->conv == 'A') {
        prefix[prefix_len++] = '0';
        prefix[prefix_len++] = upper ? 'X' : 'x';
        int nibbles = number->hex.nibbles;
        int shown = precision > nibbles ? nibbles : precision;
        len = body_hex(&number->hex, shown, spec->alt || precision > 0, upper, body);
        if (precision > nibbles) {
            /* Insert the extra zeros before the exponent: split the body at 'p'. */
            size_t p = 0;
            while (body[p] != 'p' && body[p] != 'P')
                p++;
            size_t total = len + (size_t)(precision - nibbles);
            size_t zeros = (size_t)(precision - nibbles);
            char tail[16];
            size_t tail_len = len - p;
            memcpy(tail, body + p, tail_len);
            size_t pad = spec->width > 0 && (size_t)spec->width > prefix_len + total
                             ? (size_t)spec->width - prefix_len - total
                             : 0;
            if (!spec->left && !zero_pad)
                out_repeat(out, ' ', pad);
            out_bytes(out, prefix, prefix_len);
            if (!spec->left && zero_pad)
                out_repeat(out, '0', pad);
            out_bytes(out, body, p);
            out_repeat(out, '0', zeros);
            out_bytes(out, tail, tail_len);
            if (spec->left)
                out_repeat(out, ' ', pad);
            return;
        }
        out_padded(out, spec, prefix, prefix_len, body, len, 0, zero_pad);
        return;
    }

    if (!number->large) {
        char digits[SMALL_DIGITS];
        uint32_t limbs[SMALL_LIMBS];
        format_decimal(out, spec, number, prefix, prefix_len, zero_pad, digits, limbs, body);
        return;
    }
    char *storage = malloc(LARGE_DIGITS + LARGE_LIMBS * sizeof(uint32_t) + LARGE_BODY);
    if (storage == NULL) {
        /* Out of memory: the long double's double approximation instead. */
        struct number near = number_from_double(number->approximation);
        char digits[SMALL_DIGITS];
        uint32_t limbs[SMALL_LIMBS];
        format_decimal(out, spec, &near, prefix, prefix_len, zero_pad, digits, limbs, body);
        return;
    }
    format_decimal(out, spec, number, prefix, prefix_len, zero_pad, storage,
                   (uint32_t *)(void *)(storage + LARGE_DIGITS),
                   storage + LARGE_DIGITS + LARGE_LIMBS * sizeof(uint32_t));
    free(storage);
}
