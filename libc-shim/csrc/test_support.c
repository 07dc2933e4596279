/* Host-test support: what the Rust tests cannot express themselves. Empty on the bare targets.
 *
 * Rust has no x87 `long double`, so the printf tests hand a long double's bytes to this
 * function, which passes the value to the shim's engine or to the host glibc's snprintf. */
#ifndef RIVET_LIBC_EXPORT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

int __rivet_test_format_long_double(char *buf, size_t cap, const char *fmt,
                                    const unsigned char *bytes, int ours)
{
    long double value;
    memcpy(&value, bytes, sizeof value);
    return ours ? __rivet_snprintf(buf, cap, fmt, value) : snprintf(buf, cap, fmt, value);
}

/* glibc's strtold, its value as bytes (the Rust tests compare them with the shim's). */
void __rivet_test_host_strtold(const char *text, char **end, unsigned char *bytes)
{
    long double value = strtold(text, end);
    memset(bytes, 0, 16);
    memcpy(bytes, &value, 10);
}
#endif
