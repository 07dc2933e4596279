/* errno, per thread: glibc's headers make `errno` `(*__errno_location ())`, and the prebuilt
 * libstdc++ calls that function. C, not Rust, because stable Rust has no `#[thread_local]`: the
 * variable lives in the ELF TLS block every Rivet thread gets (rivet_arch::tls). */
#include <errno.h>

static __thread int rivet_errno;

int *__errno_location(void)
{
    return &rivet_errno;
}
