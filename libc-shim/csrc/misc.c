/* Small C-only pieces: assert's failure report and difftime (a double return, which the
 * soft-float Rust half cannot produce for GCC-compiled callers; see README).
 *
 * The assertion message has glibc's shape without the program-name prefix (Rivet images have
 * no program name beyond argv[0], which the os layer owns):
 * "file:line: function: Assertion `expression' failed." on stderr, then abort(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef RIVET_LIBC_EXPORT
void __assert_fail(const char *assertion, const char *file, unsigned int line, const char *function)
{
    fprintf(stderr, "%s:%u: %s%sAssertion `%s' failed.\n", file, line, function ? function : "",
            function ? ": " : "", assertion);
    fflush(stderr);
    abort();
}

void __assert_perror_fail(int error, const char *file, unsigned int line, const char *function)
{
    fprintf(stderr, "%s:%u: %s%sUnexpected error: %s.\n", file, line, function ? function : "",
            function ? ": " : "", strerror(error));
    fflush(stderr);
    abort();
}

void __assert(const char *assertion, const char *file, int line)
{
    __assert_fail(assertion, file, (unsigned int)line, NULL);
}

double difftime(time_t end, time_t start)
{
    return (double)(end - start);
}
#endif
