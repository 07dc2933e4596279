/* math.h and the strtod family: C wrappers passing IEEE bits to the Rust half.
 *
 * x86_64-unknown-none is a soft-float Rust target, so a Rust function cannot take or return a
 * `double` where GCC-compiled C passes it (SSE registers): these wrappers convert to bits and
 * call `__rivet_m_*` (src/math.rs, the `libm` crate) and `__rivet_strto*_bits`
 * (src/stdlib/float_parse.rs). `long double` functions work in double precision (x86_64's
 * 80-bit and aarch64's 128-bit formats are narrowed): a known weak spot. */
#include <stdint.h>
#include <string.h>

#ifdef RIVET_LIBC_EXPORT
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

static uint64_t to64(double x) { uint64_t b; memcpy(&b, &x, 8); return b; }
static double from64(uint64_t b) { double x; memcpy(&x, &b, 8); return x; }
static uint32_t to32(float x) { uint32_t b; memcpy(&b, &x, 4); return b; }
static float from32(uint32_t b) { float x; memcpy(&x, &b, 4); return x; }

uint64_t __rivet_strtod_bits(const char *text, char **end);
uint32_t __rivet_strtof_bits(const char *text, char **end);

double strtod(const char *text, char **end) { return from64(__rivet_strtod_bits(text, end)); }
float strtof(const char *text, char **end) { return from32(__rivet_strtof_bits(text, end)); }
/* long double: parsed exactly by the Rust half into the format's bytes (x87 extended or
 * binary128, chosen by LDBL_MANT_DIG); a double-sized long double is a double. */
void __rivet_strtold_bytes(const char *text, char **end, int quad, unsigned char *result);
long double strtold(const char *text, char **end)
{
#if LDBL_MANT_DIG == 64 || LDBL_MANT_DIG == 113
    unsigned char bytes[16];
    __rivet_strtold_bytes(text, end, LDBL_MANT_DIG == 113, bytes);
    long double value;
    memcpy(&value, bytes, sizeof value);
    return value;
#else
    return strtod(text, end);
#endif
}
double __strtod_l(const char *text, char **end, locale_t l) { (void)l; return strtod(text, end); }
float __strtof_l(const char *text, char **end, locale_t l) { (void)l; return strtof(text, end); }
long double __strtold_l(const char *text, char **end, locale_t l) { (void)l; return strtold(text, end); }
double strtod_l(const char *text, char **end, locale_t l) { (void)l; return strtod(text, end); }
float strtof_l(const char *text, char **end, locale_t l) { (void)l; return strtof(text, end); }
long double strtold_l(const char *text, char **end, locale_t l) { (void)l; return strtold(text, end); }
double atof(const char *text) { return strtod(text, NULL); }

uint64_t __rivet_drand48_bits(void);
uint64_t __rivet_erand48_bits(unsigned short xsubi[3]);
double drand48(void) { return from64(__rivet_drand48_bits()); }
double erand48(unsigned short xsubi[3]) { return from64(__rivet_erand48_bits(xsubi)); }

/* Results pass through fix_nan. NaN results: Rust's soft-float arithmetic
 * (x86_64-unknown-none) makes positive NaNs, while glibc's come from the FPU: a NaN argument
 * propagates (x + x) and an invalid operation gives the CPU's default NaN (negative on x86_64).
 * errno as glibc sets it for the common cases: a NaN from non-NaN arguments is a domain error
 * (EDOM), an infinity from finite arguments a pole or overflow (ERANGE). Underflow is not
 * reported (glibc sets ERANGE for some underflows). */
static double default_nan(void) { volatile double zero = 0.0; return zero / zero; }
static float default_nanf(void) { volatile float zero = 0.0f; return zero / zero; }
static double fix_nan(double r, double x, double y)
{
    if (r != r) {
        if (x != x)
            return x + x;
        if (y != y)
            return y + y;
        errno = EDOM;
        return default_nan();
    }
    if (__builtin_isinf(r) && !__builtin_isinf(x) && !__builtin_isinf(y))
        errno = ERANGE;
    return r;
}
static float fix_nanf(float r, float x, float y)
{
    if (r != r) {
        if (x != x)
            return x + x;
        if (y != y)
            return y + y;
        errno = EDOM;
        return default_nanf();
    }
    if (__builtin_isinf(r) && !__builtin_isinf(x) && !__builtin_isinf(y))
        errno = ERANGE;
    return r;
}

#define UNARY(name) \
    uint64_t __rivet_m_##name(uint64_t); \
    uint32_t __rivet_m_##name##f(uint32_t); \
    double name(double x) { return fix_nan(from64(__rivet_m_##name(to64(x))), x, 0.0); } \
    float name##f(float x) { return fix_nanf(from32(__rivet_m_##name##f(to32(x))), x, 0.0f); } \
    long double name##l(long double x) { return name((double)x); }
#define BINARY(name) \
    uint64_t __rivet_m_##name(uint64_t, uint64_t); \
    uint32_t __rivet_m_##name##f(uint32_t, uint32_t); \
    double name(double x, double y) { return fix_nan(from64(__rivet_m_##name(to64(x), to64(y))), x, y); } \
    float name##f(float x, float y) { return fix_nanf(from32(__rivet_m_##name##f(to32(x), to32(y))), x, y); } \
    long double name##l(long double x, long double y) { return name((double)x, (double)y); }

UNARY(acos)
UNARY(acosh)
UNARY(asin)
UNARY(asinh)
UNARY(atan)
UNARY(atanh)
UNARY(cbrt)
UNARY(ceil)
UNARY(cos)
UNARY(cosh)
UNARY(erf)
UNARY(erfc)
UNARY(exp)
UNARY(exp10)
UNARY(exp2)
UNARY(expm1)
UNARY(fabs)
UNARY(floor)
UNARY(log)
UNARY(log10)
UNARY(log1p)
UNARY(log2)
UNARY(rint)
UNARY(round)
UNARY(sin)
UNARY(sinh)
UNARY(tan)
UNARY(tanh)
UNARY(tgamma)
UNARY(trunc)
UNARY(j0)
UNARY(j1)
UNARY(y0)
UNARY(y1)
UNARY(lgamma)
UNARY(roundeven)
BINARY(atan2)
BINARY(copysign)
BINARY(fdim)
BINARY(fmax)
BINARY(fmin)
BINARY(fmod)
BINARY(hypot)
BINARY(nextafter)
BINARY(pow)
BINARY(remainder)

/* sqrt is the CPU's instruction (SSE2 sqrtsd, A64 fsqrt), as in glibc: correctly rounded, and
 * a negative argument gives the CPU's default NaN (negative on x86_64), which is what glibc
 * prints. build.rs compiles the C half with -fno-math-errno, so GCC does not fall back to
 * calling sqrt (this very function) for a NaN result. */
double sqrt(double x)
{
    if (x < 0)
        errno = EDOM;
    return __builtin_sqrt(x);
}
float sqrtf(float x)
{
    if (x < 0)
        errno = EDOM;
    return __builtin_sqrtf(x);
}
long double sqrtl(long double x) { return sqrt((double)x); }

/* nearbyint: rint without the inexact exception, which the shim does not raise anyway. */
double nearbyint(double x) { return rint(x); }
float nearbyintf(float x) { return rintf(x); }
long double nearbyintl(long double x) { return rint((double)x); }

uint64_t __rivet_m_fma(uint64_t, uint64_t, uint64_t);
uint32_t __rivet_m_fmaf(uint32_t, uint32_t, uint32_t);
double fma(double x, double y, double z) { return from64(__rivet_m_fma(to64(x), to64(y), to64(z))); }
float fmaf(float x, float y, float z) { return from32(__rivet_m_fmaf(to32(x), to32(y), to32(z))); }
long double fmal(long double x, long double y, long double z) { return fma(x, y, z); }

uint64_t __rivet_m_scalbn(uint64_t, int);
uint32_t __rivet_m_scalbnf(uint32_t, int);
double scalbn(double x, int n) { return from64(__rivet_m_scalbn(to64(x), n)); }
float scalbnf(float x, int n) { return from32(__rivet_m_scalbnf(to32(x), n)); }
long double scalbnl(long double x, int n) { return scalbn(x, n); }
double ldexp(double x, int n) { return scalbn(x, n); }
float ldexpf(float x, int n) { return scalbnf(x, n); }
long double ldexpl(long double x, int n) { return scalbn(x, n); }
double scalbln(double x, long n) { return scalbn(x, n > 100000 ? 100000 : n < -100000 ? -100000 : (int)n); }
float scalblnf(float x, long n) { return scalbnf(x, n > 100000 ? 100000 : n < -100000 ? -100000 : (int)n); }

uint64_t __rivet_m_jn(int, uint64_t);
uint32_t __rivet_m_jnf(int, uint32_t);
uint64_t __rivet_m_yn(int, uint64_t);
uint32_t __rivet_m_ynf(int, uint32_t);
double jn(int n, double x) { return from64(__rivet_m_jn(n, to64(x))); }
float jnf(int n, float x) { return from32(__rivet_m_jnf(n, to32(x))); }
double yn(int n, double x) { return from64(__rivet_m_yn(n, to64(x))); }
float ynf(int n, float x) { return from32(__rivet_m_ynf(n, to32(x))); }

int __rivet_m_ilogb(uint64_t);
int __rivet_m_ilogbf(uint32_t);
int ilogb(double x) { return __rivet_m_ilogb(to64(x)); }
int ilogbf(float x) { return __rivet_m_ilogbf(to32(x)); }
double logb(double x) { return x == 0 ? -1.0 / 0.0 : isinf(x) ? fabs(x) : isnan(x) ? x : (double)ilogb(x); }
float logbf(float x) { return (float)logb(x); }

uint64_t __rivet_m_frexp(uint64_t, int *);
uint32_t __rivet_m_frexpf(uint32_t, int *);
double frexp(double x, int *e) { return from64(__rivet_m_frexp(to64(x), e)); }
float frexpf(float x, int *e) { return from32(__rivet_m_frexpf(to32(x), e)); }
long double frexpl(long double x, int *e) { return frexp(x, e); }

uint64_t __rivet_m_modf(uint64_t, uint64_t *);
uint32_t __rivet_m_modff(uint32_t, uint32_t *);
double modf(double x, double *i) { uint64_t b; double r = from64(__rivet_m_modf(to64(x), &b)); *i = from64(b); return r; }
float modff(float x, float *i) { uint32_t b; float r = from32(__rivet_m_modff(to32(x), &b)); *i = from32(b); return r; }
long double modfl(long double x, long double *i) { double d; double r = modf(x, &d); *i = d; return r; }

uint64_t __rivet_m_remquo(uint64_t, uint64_t, int *);
uint32_t __rivet_m_remquof(uint32_t, uint32_t, int *);
double remquo(double x, double y, int *q) { return from64(__rivet_m_remquo(to64(x), to64(y), q)); }
float remquof(float x, float y, int *q) { return from32(__rivet_m_remquof(to32(x), to32(y), q)); }

int signgam;
uint64_t __rivet_m_lgamma_r(uint64_t, int *);
uint32_t __rivet_m_lgammaf_r(uint32_t, int *);
double lgamma_r(double x, int *s) { return from64(__rivet_m_lgamma_r(to64(x), s)); }
float lgammaf_r(float x, int *s) { return from32(__rivet_m_lgammaf_r(to32(x), s)); }

void sincos(double x, double *s, double *c) { *s = sin(x); *c = cos(x); }
void sincosf(float x, float *s, float *c) { *s = sinf(x); *c = cosf(x); }

/* Rounding to integers: round half away from zero (l/llround) or to nearest even (l/llrint,
 * the default rounding mode). Out-of-range values are undefined in C; they saturate here. */
static long long to_integer(double x)
{
    if (isnan(x))
        return (long long)1 << 63;
    if (x >= 9223372036854775807.0)
        return 9223372036854775807LL;
    if (x <= -9223372036854775808.0)
        return (long long)1 << 63;
    return (long long)x;
}
long lround(double x) { return (long)to_integer(round(x)); }
long lroundf(float x) { return (long)to_integer(roundf(x)); }
long long llround(double x) { return to_integer(round(x)); }
long long llroundf(float x) { return to_integer(roundf(x)); }
long lrint(double x) { return (long)to_integer(rint(x)); }
long lrintf(float x) { return (long)to_integer(rintf(x)); }
long long llrint(double x) { return to_integer(rint(x)); }
long long llrintf(float x) { return to_integer(rintf(x)); }
long lroundl(long double x) { return lround(x); }
long long llroundl(long double x) { return llround(x); }
long lrintl(long double x) { return lrint(x); }
long long llrintl(long double x) { return llrint(x); }

double nan(const char *tag) { (void)tag; return __builtin_nan(""); }
float nanf(const char *tag) { (void)tag; return __builtin_nanf(""); }
long double nanl(const char *tag) { (void)tag; return __builtin_nanl(""); }

/* The classification functions glibc exports beside its macros. */
int __isnan(double x) { return (to64(x) & ~(UINT64_C(1) << 63)) > UINT64_C(0x7ff0000000000000); }
int __isnanf(float x) { return (to32(x) & 0x7fffffffu) > 0x7f800000u; }
int __isinf(double x) { uint64_t b = to64(x); return (b & ~(UINT64_C(1) << 63)) == UINT64_C(0x7ff0000000000000) ? ((b >> 63) ? -1 : 1) : 0; }
int __isinff(float x) { uint32_t b = to32(x); return (b & 0x7fffffffu) == 0x7f800000u ? ((b >> 31) ? -1 : 1) : 0; }
int __finite(double x) { return (to64(x) & UINT64_C(0x7ff0000000000000)) != UINT64_C(0x7ff0000000000000); }
int __finitef(float x) { return (to32(x) & 0x7f800000u) != 0x7f800000u; }
int __signbit(double x) { return (int)(to64(x) >> 63); }
int __signbitf(float x) { return (int)(to32(x) >> 31); }
int __fpclassify(double x)
{
    uint64_t b = to64(x) & ~(UINT64_C(1) << 63);
    if (b == 0) return FP_ZERO;
    if (b < UINT64_C(0x0010000000000000)) return FP_SUBNORMAL;
    if (b < UINT64_C(0x7ff0000000000000)) return FP_NORMAL;
    return b == UINT64_C(0x7ff0000000000000) ? FP_INFINITE : FP_NAN;
}
int __fpclassifyf(float x) { return __fpclassify(x); }
int isnan(double x) { return __isnan(x); }
int isinf(double x) { return __isinf(x); }
int finite(double x) { return __finite(x); }
int isnanf(float x) { return __isnanf(x); }
int isinff(float x) { return __isinff(x); }
int finitef(float x) { return __finitef(x); }
#endif
