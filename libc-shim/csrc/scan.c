/* The scanf family over strings: sscanf, vsscanf and glibc's __isoc99_ names.
 *
 * Written from C11 7.21.6.2. Directives: white space, literal bytes, and conversions
 * d i u o x X p n c s [ ] f F e E g G a A % with assignment suppression (*), a maximum field
 * width and the length modifiers hh h l ll q j z Z t L. Floating-point fields go through the
 * shim's correctly rounded strtod (`__rivet_strtod_bits`), so they read exactly what strtod
 * reads, over the bytes glibc's scanner would take (see scan_float_text).
 *
 * The FILE forms (scanf, fscanf, vscanf, vfscanf and their __isoc99_ names) report end of
 * input: Rivet's stdin has none and files cannot be opened yet. Known weak spots: %ls/%lc
 * and %l[ store ASCII only (the "C" locale); long double fields are read as double. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

uint64_t __rivet_strtod_bits(const char *text, char **end);
uint32_t __rivet_strtof_bits(const char *text, char **end);

static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_J, LEN_Z, LEN_T, LEN_BIG_L };

/* Reads an integer of `base` (0: by prefix) from at most `width` bytes of `in`. Returns the
 * bytes consumed (0: no number) and stores the value modulo 2^64 (strtoull's clamping for an
 * overflow, applied to the magnitude). */
static size_t scan_integer(const char *in, size_t width, int base, int is_signed, uint64_t *out)
{
    size_t at = 0;
    int negative = 0;
    if (at < width && (in[at] == '+' || in[at] == '-')) {
        negative = in[at] == '-';
        at++;
    }
    int prefix_zero = 0;
    if ((base == 0 || base == 16) && at + 1 < width && in[at] == '0' && (in[at + 1] | 0x20) == 'x') {
        /* glibc takes the "0x" even with no hex digit after it: the value is then the 0. */
        at += 2;
        base = 16;
        prefix_zero = 1;
    } else if (base == 0) {
        base = at < width && in[at] == '0' ? 8 : 10;
    }
    size_t start = at;
    uint64_t magnitude = 0;
    int overflow = 0;
    while (at < width && digit_value((unsigned char)in[at]) < base) {
        unsigned digit = (unsigned)digit_value((unsigned char)in[at]);
        if (magnitude > (UINT64_MAX - digit) / (unsigned)base)
            overflow = 1;
        magnitude = magnitude * (unsigned)base + digit;
        at++;
    }
    if (at == start && !prefix_zero)
        return 0;
    if (is_signed) {
        uint64_t limit = negative ? (UINT64_C(1) << 63) : (uint64_t)INT64_MAX;
        if (overflow || magnitude > limit)
            magnitude = limit;
    } else if (overflow) {
        magnitude = UINT64_MAX;
        negative = 0;
    }
    *out = negative ? (uint64_t)0 - magnitude : magnitude;
    return at;
}

static void store_integer(void *target, enum length length, uint64_t value)
{
    switch (length) {
    case LEN_HH: *(unsigned char *)target = (unsigned char)value; break;
    case LEN_H: *(unsigned short *)target = (unsigned short)value; break;
    case LEN_L: *(unsigned long *)target = (unsigned long)value; break;
    case LEN_LL: case LEN_BIG_L: *(unsigned long long *)target = value; break;
    case LEN_J: *(uintmax_t *)target = value; break;
    case LEN_Z: *(size_t *)target = (size_t)value; break;
    case LEN_T: *(ptrdiff_t *)target = (ptrdiff_t)value; break;
    default: *(unsigned *)target = (unsigned)value; break;
    }
}

static int lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* How many bytes of `in` (at most `width`) glibc's scanf takes as a floating-point field; 0
 * for a matching failure. Measured against glibc 2.36: it takes a dangling exponent ("1e+"
 * reads as 1 and consumes all three bytes), "inf" but fails on an incomplete "infinity",
 * "nan" without a "(...)" tail, and "0x" only with a digit or point after it. */
static size_t scan_float_text(const char *in, size_t limit)
{
    size_t width = strnlen(in, limit);
    size_t at = 0;
    if (at < width && (in[at] == '+' || in[at] == '-'))
        at++;
    if (at < width && lower((unsigned char)in[at]) == 'i') {
        static const char word[] = "infinity";
        size_t i = 0;
        while (i < 8 && at + i < width && lower((unsigned char)in[at + i]) == word[i])
            i++;
        if (i == 3 || i == 8)
            return at + i;
        return 0; /* "in", or "infin…" that is not "infinity" (even when the width cut it) */
    }
    if (at < width && lower((unsigned char)in[at]) == 'n') {
        if (at + 2 < width && lower((unsigned char)in[at + 1]) == 'a' && lower((unsigned char)in[at + 2]) == 'n')
            return at + 3;
        return 0;
    }
    int hex = 0;
    if (at + 1 < width && in[at] == '0' && lower((unsigned char)in[at + 1]) == 'x') {
        hex = 1;
        at += 2;
        /* The width ending right after "0x" leaves the "0"; anything else but a digit or a
         * point after it is a matching failure. */
        if (at == width)
            return width == limit ? at - 1 : 0;
        if (!(digit_value((unsigned char)in[at]) < 16 || in[at] == '.'))
            return 0;
    }
    int base = hex ? 16 : 10;
    size_t digits = 0;
    while (at < width && digit_value((unsigned char)in[at]) < base) {
        at++;
        digits++;
    }
    if (at < width && in[at] == '.') {
        at++;
        while (at < width && digit_value((unsigned char)in[at]) < base) {
            at++;
            digits++;
        }
    }
    if (digits == 0 && !hex)
        return 0;
    if (digits > 0 && at < width && lower((unsigned char)in[at]) == (hex ? 'p' : 'e')) {
        at++;
        if (at < width && (in[at] == '+' || in[at] == '-'))
            at++;
        while (at < width && in[at] >= '0' && in[at] <= '9')
            at++;
    }
    return at;
}

/* The set of a %[ conversion: 256 flags; returns the format after the closing ']' or NULL. */
static const char *parse_set(const char *fmt, unsigned char set[256])
{
    int invert = 0;
    if (*fmt == '^') {
        invert = 1;
        fmt++;
    }
    memset(set, 0, 256);
    const char *first = fmt;
    while (*fmt != 0 && (*fmt != ']' || fmt == first)) {
        unsigned char low = (unsigned char)*fmt;
        if (fmt[1] == '-' && fmt[2] != ']' && fmt[2] != 0 && (unsigned char)fmt[2] >= low) {
            for (unsigned c = low; c <= (unsigned char)fmt[2]; c++)
                set[c] = 1;
            fmt += 3;
        } else {
            set[low] = 1;
            fmt++;
        }
    }
    if (*fmt != ']')
        return NULL;
    if (invert)
        for (int c = 0; c < 256; c++)
            set[c] = !set[c];
    return fmt + 1;
}

int __rivet_vsscanf(const char *input, const char *fmt, va_list caller_ap)
{
    va_list ap;
    va_copy(ap, caller_ap);
    const char *in = input;
    int assigned = 0;
    int result;
    while (*fmt != 0) {
        unsigned char f = (unsigned char)*fmt;
        if (is_space(f)) {
            while (is_space((unsigned char)*fmt))
                fmt++;
            while (is_space((unsigned char)*in))
                in++;
            continue;
        }
        if (f != '%' || fmt[1] == '%') {
            if (f == '%') {
                fmt++;
                while (is_space((unsigned char)*in))
                    in++;
            }
            if (*in == 0)
                goto input_failure;
            if (*in != *fmt)
                goto matching_failure;
            in++;
            fmt++;
            continue;
        }
        fmt++; /* '%' */
        int suppress = 0;
        if (*fmt == '*') {
            suppress = 1;
            fmt++;
        }
        size_t width = 0;
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (size_t)(*fmt - '0');
            fmt++;
        }
        enum length length = LEN_NONE;
        switch (*fmt) {
        case 'h':
            fmt++;
            length = LEN_H;
            if (*fmt == 'h') {
                fmt++;
                length = LEN_HH;
            }
            break;
        case 'l':
            fmt++;
            length = LEN_L;
            if (*fmt == 'l') {
                fmt++;
                length = LEN_LL;
            }
            break;
        case 'q': fmt++; length = LEN_LL; break;
        case 'j': fmt++; length = LEN_J; break;
        case 'z': case 'Z': fmt++; length = LEN_Z; break;
        case 't': fmt++; length = LEN_T; break;
        case 'L': fmt++; length = LEN_BIG_L; break;
        default: break;
        }
        char conversion = *fmt;
        if (conversion == 0)
            goto matching_failure;
        fmt++;
        if (conversion == 'n') {
            if (!suppress)
                store_integer(va_arg(ap, void *), length, (uint64_t)(in - input));
            continue;
        }
        if (conversion != 'c' && conversion != '[')
            while (is_space((unsigned char)*in))
                in++;
        if (*in == 0)
            goto input_failure;
        size_t limit = width == 0 ? SIZE_MAX : width;
        switch (conversion) {
        case 'd': case 'i': case 'u': case 'o': case 'x': case 'X': case 'p': {
            int base = conversion == 'd' || conversion == 'u' ? 10
                       : conversion == 'i'                    ? 0
                       : conversion == 'o'                    ? 8
                                                              : 16;
            size_t available = strnlen(in, limit);
            uint64_t value = 0;
            size_t used = scan_integer(in, available, base, conversion == 'd' || conversion == 'i', &value);
            if (used == 0)
                goto matching_failure;
            in += used;
            if (!suppress) {
                if (conversion == 'p')
                    *va_arg(ap, void **) = (void *)(uintptr_t)value;
                else
                    store_integer(va_arg(ap, void *), length, value);
                assigned++;
            }
            break;
        }
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A': {
            size_t used = scan_float_text(in, limit);
            if (used == 0)
                goto matching_failure;
            char field[512];
            size_t take = used < sizeof field - 1 ? used : sizeof field - 1;
            memcpy(field, in, take);
            field[take] = 0;
            char *end;
            uint64_t bits = __rivet_strtod_bits(field, &end);
            in += used;
            if (!suppress) {
                double value;
                memcpy(&value, &bits, sizeof value);
                if (length == LEN_L)
                    *va_arg(ap, double *) = value;
                else if (length == LEN_BIG_L)
                    *va_arg(ap, long double *) = value;
                else {
                    char *end_f;
                    uint32_t single_bits = __rivet_strtof_bits(field, &end_f);
                    float single;
                    memcpy(&single, &single_bits, sizeof single);
                    *va_arg(ap, float *) = single;
                }
                assigned++;
            }
            break;
        }
        case 's': {
            char *to = suppress ? NULL : va_arg(ap, char *);
            size_t count = 0;
            while (count < limit && in[count] != 0 && !is_space((unsigned char)in[count])) {
                if (to != NULL) {
                    if (length == LEN_L)
                        ((wchar_t *)to)[count] = (unsigned char)in[count];
                    else
                        to[count] = in[count];
                }
                count++;
            }
            if (to != NULL) {
                if (length == LEN_L)
                    ((wchar_t *)to)[count] = 0;
                else
                    to[count] = 0;
                assigned++;
            }
            in += count;
            break;
        }
        case 'c': {
            size_t want = width == 0 ? 1 : width;
            size_t available = strnlen(in, want);
            if (available < want && available == 0)
                goto input_failure;
            char *to = suppress ? NULL : va_arg(ap, char *);
            for (size_t i = 0; i < available; i++) {
                if (to != NULL) {
                    if (length == LEN_L)
                        ((wchar_t *)to)[i] = (unsigned char)in[i];
                    else
                        to[i] = in[i];
                }
            }
            in += available;
            /* glibc takes a short %Nc as it is and goes on (the next conversion meets the end
             * of input). */
            if (to != NULL)
                assigned++;
            break;
        }
        case '[': {
            unsigned char set[256];
            const char *after = parse_set(fmt, set);
            if (after == NULL)
                goto matching_failure;
            fmt = after;
            char *to = suppress ? NULL : va_arg(ap, char *);
            size_t count = 0;
            while (count < limit && in[count] != 0 && set[(unsigned char)in[count]]) {
                if (to != NULL) {
                    if (length == LEN_L)
                        ((wchar_t *)to)[count] = (unsigned char)in[count];
                    else
                        to[count] = in[count];
                }
                count++;
            }
            if (count == 0)
                goto matching_failure;
            if (to != NULL) {
                if (length == LEN_L)
                    ((wchar_t *)to)[count] = 0;
                else
                    to[count] = 0;
                assigned++;
            }
            in += count;
            break;
        }
        default:
            goto matching_failure;
        }
    }
    result = assigned;
    goto done;
input_failure:
    /* glibc counts assignments only: an input failure before the first one is EOF even after
     * a suppressed conversion. */
    result = assigned > 0 ? assigned : EOF;
    goto done;
matching_failure:
    result = assigned;
done:
    va_end(ap);
    return result;
}

/* sscanf under an internal name on every target: the host tests call it beside glibc's. */
int __rivet_sscanf(const char *input, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __rivet_vsscanf(input, fmt, ap);
    va_end(ap);
    return result;
}

#ifdef RIVET_LIBC_EXPORT
/* glibc's <stdio.h> redirects the C identifiers sscanf, fscanf … to the __isoc99_ symbols (an
 * asm label), so the plain symbols are defined here under other C names with their own labels. */
int rivet_vsscanf(const char *input, const char *fmt, va_list ap) __asm__("vsscanf");
int rivet_sscanf(const char *input, const char *fmt, ...) __asm__("sscanf");
int rivet_vfscanf(FILE *stream, const char *fmt, va_list ap) __asm__("vfscanf");
int rivet_fscanf(FILE *stream, const char *fmt, ...) __asm__("fscanf");
int rivet_vscanf(const char *fmt, va_list ap) __asm__("vscanf");
int rivet_scanf(const char *fmt, ...) __asm__("scanf");
int __isoc99_vsscanf(const char *input, const char *fmt, va_list ap);
int __isoc99_sscanf(const char *input, const char *fmt, ...);
int __isoc99_vfscanf(FILE *stream, const char *fmt, va_list ap);
int __isoc99_fscanf(FILE *stream, const char *fmt, ...);
int __isoc99_vscanf(const char *fmt, va_list ap);
int __isoc99_scanf(const char *fmt, ...);

int rivet_vsscanf(const char *input, const char *fmt, va_list ap)
{
    return __rivet_vsscanf(input, fmt, ap);
}

int rivet_sscanf(const char *input, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __rivet_vsscanf(input, fmt, ap);
    va_end(ap);
    return result;
}

int __isoc99_vsscanf(const char *input, const char *fmt, va_list ap)
{
    return __rivet_vsscanf(input, fmt, ap);
}

int __isoc99_sscanf(const char *input, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __rivet_vsscanf(input, fmt, ap);
    va_end(ap);
    return result;
}

/* The stream forms: no stream has input in Rivet yet, so each reports end of input. */
int rivet_vfscanf(FILE *stream, const char *fmt, va_list ap)
{
    (void)stream;
    (void)fmt;
    (void)ap;
    return EOF;
}

int rivet_fscanf(FILE *stream, const char *fmt, ...)
{
    (void)stream;
    (void)fmt;
    return EOF;
}

int rivet_vscanf(const char *fmt, va_list ap)
{
    (void)fmt;
    (void)ap;
    return EOF;
}

int rivet_scanf(const char *fmt, ...)
{
    (void)fmt;
    return EOF;
}

int __isoc99_vfscanf(FILE *stream, const char *fmt, va_list ap)
{
    return rivet_vfscanf(stream, fmt, ap);
}

int __isoc99_fscanf(FILE *stream, const char *fmt, ...)
{
    (void)stream;
    (void)fmt;
    return EOF;
}

int __isoc99_vscanf(const char *fmt, va_list ap)
{
    return rivet_vscanf(fmt, ap);
}

int __isoc99_scanf(const char *fmt, ...)
{
    (void)fmt;
    return EOF;
}
#endif
