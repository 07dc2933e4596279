/* The printf family's public entry points over the engine in format.c.
 *
 * The string functions (snprintf, sprintf, vsnprintf, vsprintf, asprintf, vasprintf) fill memory;
 * the FILE functions (printf, fprintf, vprintf, vfprintf) hand batches of bytes to the os layer's
 * `__rivet_file_write` and dprintf/vdprintf to `__rivet_fd_write` (rivet_stdio.h). glibc's
 * `_FORTIFY_SOURCE` entry points (`__printf_chk` …) are the same functions with the flag ignored.
 *
 * Only the bare targets get the public names (RIVET_LIBC_EXPORT, see build.rs): on the host the
 * tests call `__rivet_vsnprintf` and compare it with the host glibc's snprintf. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#ifdef RIVET_LIBC_EXPORT
#include "rivet_stdio.h"

int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    return __rivet_vsnprintf(buf, cap, fmt, ap);
}

int snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __rivet_vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return result;
}

int vsprintf(char *buf, const char *fmt, va_list ap)
{
    /* The caller promises the room: no bound but the address space. */
    return __rivet_vsnprintf(buf, (size_t)-1 - (size_t)buf, fmt, ap);
}

int sprintf(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = vsprintf(buf, fmt, ap);
    va_end(ap);
    return result;
}

int vasprintf(char **result, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int len = __rivet_vsnprintf(NULL, 0, fmt, ap);
    if (len < 0) {
        va_end(again);
        return -1;
    }
    char *buf = malloc((size_t)len + 1);
    if (buf == NULL) {
        va_end(again);
        return -1;
    }
    __rivet_vsnprintf(buf, (size_t)len + 1, fmt, again);
    va_end(again);
    *result = buf;
    return len;
}

int asprintf(char **result, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vasprintf(result, fmt, ap);
    va_end(ap);
    return len;
}

static int write_file(void *ctx, const char *bytes, size_t len)
{
    return __rivet_file_write((FILE *)ctx, bytes, len) == len ? 0 : -1;
}

int vfprintf(FILE *stream, const char *fmt, va_list ap)
{
    struct rivet_out out;
    out.buf = NULL;
    out.cap = 0;
    out.count = 0;
    out.write = write_file;
    out.ctx = stream;
    out.batched = 0;
    out.failed = 0;
    return rivet_format(&out, fmt, ap);
}

int fprintf(FILE *stream, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = vfprintf(stream, fmt, ap);
    va_end(ap);
    return result;
}

int vprintf(const char *fmt, va_list ap)
{
    return vfprintf(stdout, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return result;
}

static int write_fd(void *ctx, const char *bytes, size_t len)
{
    int fd = (int)(long)ctx;
    while (len > 0) {
        long written = __rivet_fd_write(fd, bytes, len);
        if (written <= 0)
            return -1;
        bytes += written;
        len -= (size_t)written;
    }
    return 0;
}

int vdprintf(int fd, const char *fmt, va_list ap)
{
    struct rivet_out out;
    out.buf = NULL;
    out.cap = 0;
    out.count = 0;
    out.write = write_fd;
    out.ctx = (void *)(long)fd;
    out.batched = 0;
    out.failed = 0;
    return rivet_format(&out, fmt, ap);
}

int dprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = vdprintf(fd, fmt, ap);
    va_end(ap);
    return result;
}

/* _FORTIFY_SOURCE entry points: `flag` and the object size are not checked. */

int __vsnprintf_chk(char *buf, size_t cap, int flag, size_t size, const char *fmt, va_list ap)
{
    (void)flag;
    (void)size;
    return __rivet_vsnprintf(buf, cap, fmt, ap);
}

int __snprintf_chk(char *buf, size_t cap, int flag, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __vsnprintf_chk(buf, cap, flag, size, fmt, ap);
    va_end(ap);
    return result;
}

int __vsprintf_chk(char *buf, int flag, size_t size, const char *fmt, va_list ap)
{
    (void)flag;
    return __rivet_vsnprintf(buf, size, fmt, ap);
}

int __sprintf_chk(char *buf, int flag, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = __vsprintf_chk(buf, flag, size, fmt, ap);
    va_end(ap);
    return result;
}

int __vfprintf_chk(FILE *stream, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(stream, fmt, ap);
}

int __fprintf_chk(FILE *stream, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = vfprintf(stream, fmt, ap);
    va_end(ap);
    (void)flag;
    return result;
}

int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(stdout, fmt, ap);
}

int __printf_chk(int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int result = vfprintf(stdout, fmt, ap);
    va_end(ap);
    (void)flag;
    return result;
}
#endif
