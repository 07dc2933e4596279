/* The printf engine's interface inside the C half: an output target and the formatter.
 *
 * `rivet_format` walks a printf format string over a va_list and sends the bytes to a
 * `struct rivet_out`, which either fills a caller's buffer (the snprintf family) or batches
 * bytes for a stream writer (the FILE and fd functions). Compiled against glibc 2.36's headers. */
#ifndef RIVET_FORMAT_H
#define RIVET_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Where formatted bytes go. */
struct rivet_out {
    /* String mode: the caller's buffer and its size (room for the NUL included); `buf` may be NULL
     * when `cap` is 0. */
    char *buf;
    size_t cap;
    /* Bytes produced so far (also those that did not fit). */
    size_t count;
    /* Stream mode when non-NULL: called with each full batch and at the end; returns 0 on
     * success, -1 on failure (the formatter then reports -1). */
    int (*write)(void *ctx, const char *bytes, size_t len);
    void *ctx;
    char batch[256];
    size_t batched;
    /* Set when a conversion or a write failed; errno holds the cause. */
    int failed;
};

/* Formats `fmt` with `ap` into `out`. Returns the number of bytes produced, or -1 with errno set
 * (EOVERFLOW when the count exceeds INT_MAX, EILSEQ for an unconvertible wide character, EINVAL
 * for a malformed conversion, or the stream writer's error). In string mode the buffer is always
 * NUL-terminated when `cap` > 0. */
int rivet_format(struct rivet_out *out, const char *fmt, va_list ap);

/* The engine behind vsnprintf, exported under this name on every target (the host tests call it). */
int __rivet_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);

/* The same as a variadic function (the host tests call it). */
int __rivet_snprintf(char *buf, size_t cap, const char *fmt, ...);

#endif
