/* The shim on a target against glibc on the host: the same program, built by the host gcc
 * (linked with glibc) and by rivet-cc (linked with the shim), must print the same lines.
 * run.sh builds both, boots the image and diffs the outputs.
 *
 * It exercises the shim as compiled for the target (the kernel's code model, the soft-float
 * Rust half behind C wrappers): printf of generated doubles and integers, strtod/strtof bits,
 * strtol, sscanf, qsort, strftime/gmtime/timegm, ctype and string functions, exact math.
 * Deterministic: a fixed xorshift generator, no clocks. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

static uint64_t state = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1du;
}

static double random_double(void)
{
    uint64_t bits = next();
    double value;
    switch (next() % 5) {
    case 0: memcpy(&value, &bits, 8); return value;
    case 1: return (double)(int64_t)(next() % 2000000) / 64.0 - 10000.0;
    case 2: {
        uint64_t numerator = next();
        unsigned shift = (unsigned)(next() % 64);
        unsigned scale = (unsigned)(next() % 60);
        return (double)(numerator >> shift) / (double)(1ull << scale);
    }
    case 3: return ((double)(next() % 100000) + 0.5) / 1000.0;
    default: bits &= 0x000fffffffffffffu; memcpy(&value, &bits, 8); return value;
    }
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    static const char *const float_formats[] = {"%.17g", "%f", "%e", "%g", "%a", "%.3f", "%.0e",
                                                "%#.5g", "%+12.4e", "%-20.10f|", "%.40f", "%G"};
    static const char *const int_formats[] = {"%d", "%x", "%#o", "%+.5d", "%-8u|", "%08X", "% i"};
    char line[2048];
    for (int i = 0; i < 3000; i++) {
        double value = random_double();
        const char *format = float_formats[next() % (sizeof float_formats / sizeof *float_formats)];
        snprintf(line, sizeof line, format, value);
        printf("f %s\n", line);
        int number = (int)next();
        format = int_formats[next() % (sizeof int_formats / sizeof *int_formats)];
        snprintf(line, sizeof line, format, number);
        printf("i %s\n", line);
        /* One call per statement: argument evaluation order differs between compilers. */
        long long signed_value = (long long)next();
        unsigned long long unsigned_value = next();
        size_t size_value = (size_t)next();
        void *pointer = (void *)(uintptr_t)(next() | 1);
        int letter = 'A' + (int)(next() % 26);
        printf("l %lld %llu %zx %p %s %5.2s %c\n", signed_value, unsigned_value, size_value, pointer,
               "text", "abc", letter);
    }
    for (int i = 0; i < 3000; i++) {
        char text[64];
        double value = random_double();
        snprintf(text, sizeof text, (next() & 1) ? "%.17g" : "%.5e", value);
        if (next() % 4 == 0) {
            unsigned long long mantissa = next() >> 12;
            int exponent = (int)(next() % 2200) - 1100;
            snprintf(text, sizeof text, "0x%llxp%d", mantissa, exponent);
        }
        errno = 0;
        char *end;
        double parsed = strtod(text, &end);
        int e1 = errno;
        errno = 0;
        float single = strtof(text, NULL);
        uint64_t bits;
        uint32_t single_bits;
        memcpy(&bits, &parsed, 8);
        memcpy(&single_bits, &single, 4);
        printf("d %s %016llx %08x %d %d %ld\n", text, (unsigned long long)bits, single_bits, e1,
               errno, (long)(end - text));
        char sign = (next() & 1) ? '-' : '+';
        unsigned long long magnitude = next();
        snprintf(text, sizeof text, "  %c0x%llx", sign, magnitude);
        errno = 0;
        long l = strtol(text, &end, 0);
        printf("s %ld %d %ld %lu\n", l, errno, (long)(end - text), strtoul(text + 3, NULL, 16));
    }
    for (int i = 0; i < 500; i++) {
        int a = -1, n = -1;
        double d = 0;
        char word[32] = "";
        char input[64];
        int integer = (int)next();
        double real = random_double();
        snprintf(input, sizeof input, " %d,%g %s", integer, real, "word");
        int r = sscanf(input, "%d,%lf %31s%n", &a, &d, word, &n);
        printf("c %d %d %.17g %s %d\n", r, a, d, word, n);
    }
    uint64_t array[257];
    for (int i = 0; i < 257; i++)
        array[i] = next() % 1000;
    qsort(array, 257, sizeof *array, compare_u64);
    uint64_t sum = 0;
    for (int i = 0; i < 257; i++)
        sum = sum * 31 + array[i];
    printf("q %llu %llu %llu\n", (unsigned long long)array[0], (unsigned long long)array[256],
           (unsigned long long)sum);
    for (int i = 0; i < 300; i++) {
        time_t t = (time_t)(next() % 8000000000u) - 2000000000;
        struct tm tm;
        gmtime_r(&t, &tm);
        char text[128];
        strftime(text, sizeof text, "%a %A %b %B %c %d %e %H %I %j %m %M %p %S %U %W %V %G %y %Y %Z %z %s", &tm);
        printf("t %s %lld\n", text, (long long)timegm(&tm));
    }
    for (int c = -1; c < 256; c++)
        printf("k %d %d%d%d%d%d%d%d%d%d%d%d %d %d\n", c, !!isalnum(c), !!isalpha(c), !!isblank(c),
               !!iscntrl(c), !!isdigit(c), !!isgraph(c), !!islower(c), !!isprint(c), !!ispunct(c),
               !!isspace(c), !!isupper(c), tolower(c), toupper(c));
    for (int i = 0; i < 500; i++) {
        double x = random_double();
        double y = random_double();
        printf("m %a %a %a %a %a %a\n", sqrt(x), floor(x), ceil(x), fmod(x, y), trunc(x), fabs(x));
        int errors[5];
        errno = 0;
        (void)log(x);
        errors[0] = errno;
        errno = 0;
        (void)exp(y / 64);
        errors[1] = errno;
        errno = 0;
        (void)fmod(x, 0.0);
        errors[2] = errno;
        errno = 0;
        (void)sqrt(x);
        errors[3] = errno;
        errno = 0;
        (void)acos(x);
        errors[4] = errno;
        printf("e %d %d %d %d %d\n", errors[0], errors[1], errors[2], errors[3], errors[4]);
    }
    const char *haystack = "the quick brown fox jumps over the lazy dog";
    printf("x %ld %ld %ld %zu %zu %d %s\n", (long)(strstr(haystack, "fox") - haystack),
           (long)(strrchr(haystack, 'o') - haystack), (long)(strpbrk(haystack, "xyz") - haystack),
           strspn(haystack, "eht "), strcspn(haystack, "z"), strcasecmp("HeLLo", "hello"), strerror(ENOENT));
    wchar_t wide[16];
    mbstowcs(wide, "wide text", 16);
    char narrow[16];
    wcstombs(narrow, wide, 16);
    printf("w %zu %s %d\n", wcslen(wide), narrow, wcscmp(wide, L"wide"));
    return 0;
}
