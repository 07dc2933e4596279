/* The os layer's variadic functions, which stable Rust cannot define: open, openat, fcntl,
 * ioctl, syscall, prctl. Each takes its fixed arguments, reads what the call needs from the
 * va_list, and hands over to Rust (src/os/stubs.rs). Compiled against glibc 2.36's headers. */
#include <errno.h>
#include <stdarg.h>

long __rivet_fail(int error);
long __rivet_syscall(long number, const long *args);

/* No files yet: every path is missing. */
int open(const char *path, int flags, ...)
{
    (void)path;
    (void)flags;
    return (int)__rivet_fail(ENOENT);
}

int open64(const char *path, int flags, ...)
{
    (void)path;
    (void)flags;
    return (int)__rivet_fail(ENOENT);
}

int openat(int dir, const char *path, int flags, ...)
{
    (void)dir;
    (void)path;
    (void)flags;
    return (int)__rivet_fail(ENOENT);
}

/* Sockets' descriptor control, in Rust (os/socket.rs): 1 if fd is a socket (*result set). */
int __rivet_socket_fcntl(int fd, int command, long argument, long *result);

/* Descriptor control: sockets answer F_GETFL/F_SETFL (O_NONBLOCK) and F_GETFD/F_SETFD;
 * 0-2 answer F_GETFL/F_GETFD; others are EBADF. */
int fcntl(int fd, int command, ...)
{
    long argument = 0, result = 0;
    if (command == 2 /* F_SETFD */ || command == 4 /* F_SETFL */) {
        va_list ap;
        va_start(ap, command);
        argument = va_arg(ap, long);
        va_end(ap);
    }
    if (__rivet_socket_fcntl(fd, command, argument, &result))
        return (int)result;
    if (fd >= 0 && fd <= 2 && (command == 1 /* F_GETFD */ || command == 3 /* F_GETFL */))
        return command == 3 ? 2 /* O_RDWR */ : 0;
    return (int)__rivet_fail(fd >= 0 && fd <= 2 ? EINVAL : EBADF);
}

int fcntl64(int fd, int command, ...)
{
    long argument = 0;
    if (command == 2 || command == 4) {
        va_list ap;
        va_start(ap, command);
        argument = va_arg(ap, long);
        va_end(ap);
    }
    return fcntl(fd, command, argument);
}

/* Device control: the console is not a terminal device that takes ioctls (ENOTTY). */
int ioctl(int fd, unsigned long request, ...)
{
    (void)request;
    return (int)__rivet_fail(fd >= 0 && fd <= 2 ? ENOTTY : EBADF);
}

/* Linux system calls: the few libstdc++ makes (futex, gettid) are answered by Rust; the rest
 * fail with ENOSYS. Always six argument words, as the kernel's ABI has it. */
long syscall(long number, ...)
{
    long args[6];
    va_list ap;
    va_start(ap, number);
    for (int i = 0; i < 6; i++)
        args[i] = va_arg(ap, long);
    va_end(ap);
    return __rivet_syscall(number, args);
}

int prctl(int option, ...)
{
    (void)option;
    return (int)__rivet_fail(ENOSYS);
}
