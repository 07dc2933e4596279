/* Wide-character number parsing and formatting: wcstol & co., swprintf and vswprintf.
 *
 * libstdc++ calls these for std::stoi/stod over std::wstring and for std::to_wstring. In the
 * "C" locale every wide character of a number or a format is ASCII, so the wide text is narrowed
 * 1:1 (stopping at the first non-ASCII character, which cannot belong to a number) and handed to
 * the narrow functions; an end pointer maps back by the same offset. swprintf runs the printf
 * engine and widens its bytes as they come.
 *
 * Known weak spots: a number longer than 1023 characters is cut there; in a wide format, %ls
 * of a non-ASCII character fails with EILSEQ (glibc copies it). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "format.h"

uint64_t __rivet_strtod_bits(const char *text, char **end);
uint32_t __rivet_strtof_bits(const char *text, char **end);

/* Copies the ASCII prefix of `wide` into `narrow` (NUL-terminated, at most cap - 1 bytes). */
static void narrow_copy(const wchar_t *wide, char *narrow, size_t cap)
{
    size_t i = 0;
    while (i + 1 < cap && wide[i] != 0 && (uint32_t)wide[i] < 0x80) {
        narrow[i] = (char)wide[i];
        i++;
    }
    narrow[i] = 0;
}

#define NARROW_CAP 1024

#define WIDE_INTEGER(name, narrow_name, type)                                                 \
    type __rivet_##name(const wchar_t *text, wchar_t **end, int base)                        \
    {                                                                                         \
        char narrow[NARROW_CAP];                                                              \
        narrow_copy(text, narrow, sizeof narrow);                                             \
        char *narrow_end = NULL; /* stays NULL for a bad base: glibc leaves *end alone */     \
        type value = narrow_name(narrow, &narrow_end, base);                                  \
        if (end != NULL && narrow_end != NULL)                                                \
            *end = (wchar_t *)text + (narrow_end - narrow);                                   \
        return value;                                                                         \
    }

WIDE_INTEGER(wcstol, strtol, long)
WIDE_INTEGER(wcstoul, strtoul, unsigned long)
WIDE_INTEGER(wcstoll, strtoll, long long)
WIDE_INTEGER(wcstoull, strtoull, unsigned long long)

/* wcstod and wcstof as IEEE bits, like their narrow twins (host tests compare the bits). */
uint64_t __rivet_wcstod_bits(const wchar_t *text, wchar_t **end)
{
    char narrow[NARROW_CAP];
    narrow_copy(text, narrow, sizeof narrow);
    char *narrow_end;
    uint64_t bits = __rivet_strtod_bits(narrow, &narrow_end);
    if (end != NULL)
        *end = (wchar_t *)text + (narrow_end - narrow);
    return bits;
}

uint32_t __rivet_wcstof_bits(const wchar_t *text, wchar_t **end)
{
    char narrow[NARROW_CAP];
    narrow_copy(text, narrow, sizeof narrow);
    char *narrow_end;
    uint32_t bits = __rivet_strtof_bits(narrow, &narrow_end);
    if (end != NULL)
        *end = (wchar_t *)text + (narrow_end - narrow);
    return bits;
}

/* The destination of swprintf: widens bytes into `buf`, counting what does not fit. */
struct wide_sink {
    wchar_t *buf;
    size_t cap;
    size_t len;
};

static int write_wide(void *ctx, const char *bytes, size_t len)
{
    struct wide_sink *sink = ctx;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)bytes[i] >= 0x80) {
            errno = EILSEQ;
            return -1;
        }
        if (sink->len + 1 < sink->cap)
            sink->buf[sink->len] = (wchar_t)bytes[i];
        sink->len++;
    }
    return 0;
}

/* vswprintf: -1 when the output (with its terminator) does not fit `cap` wide characters, as C
 * requires; the buffer then holds what fit, terminated. */
int __rivet_vswprintf(wchar_t *buf, size_t cap, const wchar_t *fmt, va_list ap)
{
    char narrow_format[NARROW_CAP];
    size_t fmt_len = wcslen(fmt);
    if (fmt_len >= sizeof narrow_format) {
        errno = EOVERFLOW;
        return -1;
    }
    for (size_t i = 0; i <= fmt_len; i++) {
        if ((uint32_t)fmt[i] >= 0x80) {
            errno = EILSEQ;
            return -1;
        }
        narrow_format[i] = (char)fmt[i];
    }
    struct wide_sink sink = {buf, cap, 0};
    struct rivet_out out;
    out.buf = NULL;
    out.cap = 0;
    out.count = 0;
    out.write = write_wide;
    out.ctx = &sink;
    out.batched = 0;
    out.failed = 0;
    int result = rivet_format(&out, narrow_format, ap);
    if (cap > 0)
        buf[sink.len < cap ? sink.len : cap - 1] = 0;
    if (result < 0)
        return -1;
    if ((size_t)result >= cap) {
        errno = EOVERFLOW;
        return -1;
    }
    return result;
}

int __rivet_swprintf(wchar_t *buf, size_t cap, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __rivet_vswprintf(buf, cap, fmt, ap);
    va_end(ap);
    return result;
}

#ifdef RIVET_LIBC_EXPORT
long wcstol(const wchar_t *text, wchar_t **end, int base) { return __rivet_wcstol(text, end, base); }
unsigned long wcstoul(const wchar_t *text, wchar_t **end, int base) { return __rivet_wcstoul(text, end, base); }
long long wcstoll(const wchar_t *text, wchar_t **end, int base) { return __rivet_wcstoll(text, end, base); }
unsigned long long wcstoull(const wchar_t *text, wchar_t **end, int base) { return __rivet_wcstoull(text, end, base); }

double wcstod(const wchar_t *text, wchar_t **end)
{
    uint64_t bits = __rivet_wcstod_bits(text, end);
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

float wcstof(const wchar_t *text, wchar_t **end)
{
    uint32_t bits = __rivet_wcstof_bits(text, end);
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

long double wcstold(const wchar_t *text, wchar_t **end)
{
    char narrow[NARROW_CAP];
    narrow_copy(text, narrow, sizeof narrow);
    char *narrow_end;
    long double value = strtold(narrow, &narrow_end);
    if (end != NULL)
        *end = (wchar_t *)text + (narrow_end - narrow);
    return value;
}

int vswprintf(wchar_t *buf, size_t cap, const wchar_t *fmt, va_list ap)
{
    return __rivet_vswprintf(buf, cap, fmt, ap);
}

int swprintf(wchar_t *buf, size_t cap, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __rivet_vswprintf(buf, cap, fmt, ap);
    va_end(ap);
    return result;
}
#endif
