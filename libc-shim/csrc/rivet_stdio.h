/* The contract between the C half of the shim (printf family, csrc/) and the os layer (src/os/).
 *
 * Compiled against glibc 2.36's <stdio.h>, so FILE is glibc's struct _IO_FILE. The os layer
 * defines the function below; the FILE-based printf functions (printf, fprintf, vprintf,
 * vfprintf, dprintf) format into a buffer and hand the bytes to it. */
#ifndef RIVET_STDIO_H
#define RIVET_STDIO_H

#include <stddef.h>
#include <stdio.h>

/* Writes `len` bytes from `bytes` to `stream` (buffered per the stream's mode). Returns the number
 * of bytes written: `len` on success; on failure fewer, with the stream's error flag and errno
 * set. Provided by the os layer (src/os/). */
size_t __rivet_file_write(FILE *stream, const char *bytes, size_t len);

/* Writes `len` bytes to file descriptor `fd` (dprintf). Returns the count written or -1 with
 * errno set. Provided by the os layer: it is `write` under an internal name. */
long __rivet_fd_write(int fd, const char *bytes, size_t len);

#endif
