/* libc-bench: the cost of a libc call that is a system call on Linux — getpid() and
 * clock_gettime(CLOCK_MONOTONIC) — in nanoseconds and, on x86_64, TSC cycles per call. The same
 * source runs in a Rivet image (built with rivet-cc: the calls are plain function calls into the
 * shim) and, built static with gcc, in the Linux baseline VM (getpid is a real system call there,
 * clock_gettime goes through the vDSO); `cargo xtask bench` prints the two side by side. Lines
 * are `bench: LABEL VALUE UNIT`, labels without digits (xtask/src/libc_bench.rs reads them). */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { CALLS = 200000 };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
static uint64_t cycles(void)
{
    uint32_t low, high;
    __asm__ volatile("lfence; rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}
#endif

int main(void)
{
    volatile long sink = 0;
    for (int i = 0; i < 1000; i++) /* warm up */
        sink += getpid();

    uint64_t start = now_ns();
    for (int i = 0; i < CALLS; i++)
        sink += getpid();
    double getpid_ns = (double)(now_ns() - start) / CALLS;

    struct timespec ts;
    start = now_ns();
    for (int i = 0; i < CALLS; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sink += ts.tv_nsec;
    }
    double clock_ns = (double)(now_ns() - start) / CALLS;

    printf("bench: libc getpid() %.1f ns\n", getpid_ns);
    printf("bench: libc clock_gettime() %.1f ns\n", clock_ns);
#if defined(__x86_64__)
    uint64_t first = cycles();
    for (int i = 0; i < CALLS; i++)
        sink += getpid();
    uint64_t middle = cycles();
    for (int i = 0; i < CALLS; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sink += ts.tv_nsec;
    }
    uint64_t last = cycles();
    printf("bench: libc getpid() in TSC cycles %.0f cycles\n", (double)(middle - first) / CALLS);
    printf("bench: libc clock_gettime() in TSC cycles %.0f cycles\n", (double)(last - middle) / CALLS);
#endif
    printf("bench: libc done\n");
    return sink == 42 ? 1 : 0;
}
