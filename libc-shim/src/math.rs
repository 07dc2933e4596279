//! math.h: the `libm` crate's functions behind C wrappers that pass IEEE bits.
//!
//! The C names (`sin`, `powf` …) are defined in `csrc/floats.c`, which converts `double`/`float`
//! to and from their bits and calls the `__rivet_m_*` functions here: x86_64-unknown-none is a
//! soft-float Rust target, so a Rust `f64` parameter would not be where GCC's C puts a `double`
//! (see README). Everything here is `libm` (issue #5: no math written in the shim).

use core::ffi::c_int;

macro_rules! unary {
    ($($name:ident = $f:path, $name_f:ident = $g:path;)*) => {$(
        /// The math.h function (binary64) of the same name after `__rivet_m_`, on IEEE bits.
        #[no_mangle]
        pub extern "C" fn $name(x: u64) -> u64 {
            $f(f64::from_bits(x)).to_bits()
        }

        /// The math.h function (binary32) of the same name after `__rivet_m_`, on IEEE bits.
        #[no_mangle]
        pub extern "C" fn $name_f(x: u32) -> u32 {
            $g(f32::from_bits(x)).to_bits()
        }
    )*};
}

macro_rules! binary {
    ($($name:ident = $f:path, $name_f:ident = $g:path;)*) => {$(
        /// The math.h function (binary64) of the same name after `__rivet_m_`, on IEEE bits.
        #[no_mangle]
        pub extern "C" fn $name(x: u64, y: u64) -> u64 {
            $f(f64::from_bits(x), f64::from_bits(y)).to_bits()
        }

        /// The math.h function (binary32) of the same name after `__rivet_m_`, on IEEE bits.
        #[no_mangle]
        pub extern "C" fn $name_f(x: u32, y: u32) -> u32 {
            $g(f32::from_bits(x), f32::from_bits(y)).to_bits()
        }
    )*};
}

unary! {
    __rivet_m_acos = libm::acos, __rivet_m_acosf = libm::acosf;
    __rivet_m_acosh = libm::acosh, __rivet_m_acoshf = libm::acoshf;
    __rivet_m_asin = libm::asin, __rivet_m_asinf = libm::asinf;
    __rivet_m_asinh = libm::asinh, __rivet_m_asinhf = libm::asinhf;
    __rivet_m_atan = libm::atan, __rivet_m_atanf = libm::atanf;
    __rivet_m_atanh = libm::atanh, __rivet_m_atanhf = libm::atanhf;
    __rivet_m_cbrt = libm::cbrt, __rivet_m_cbrtf = libm::cbrtf;
    __rivet_m_ceil = libm::ceil, __rivet_m_ceilf = libm::ceilf;
    __rivet_m_cos = libm::cos, __rivet_m_cosf = libm::cosf;
    __rivet_m_cosh = libm::cosh, __rivet_m_coshf = libm::coshf;
    __rivet_m_erf = libm::erf, __rivet_m_erff = libm::erff;
    __rivet_m_erfc = libm::erfc, __rivet_m_erfcf = libm::erfcf;
    __rivet_m_exp = libm::exp, __rivet_m_expf = libm::expf;
    __rivet_m_exp10 = libm::exp10, __rivet_m_exp10f = libm::exp10f;
    __rivet_m_exp2 = libm::exp2, __rivet_m_exp2f = libm::exp2f;
    __rivet_m_expm1 = libm::expm1, __rivet_m_expm1f = libm::expm1f;
    __rivet_m_fabs = libm::fabs, __rivet_m_fabsf = libm::fabsf;
    __rivet_m_floor = libm::floor, __rivet_m_floorf = libm::floorf;
    __rivet_m_log = libm::log, __rivet_m_logf = libm::logf;
    __rivet_m_log10 = libm::log10, __rivet_m_log10f = libm::log10f;
    __rivet_m_log1p = libm::log1p, __rivet_m_log1pf = libm::log1pf;
    __rivet_m_log2 = libm::log2, __rivet_m_log2f = libm::log2f;
    __rivet_m_rint = libm::rint, __rivet_m_rintf = libm::rintf;
    __rivet_m_round = libm::round, __rivet_m_roundf = libm::roundf;
    __rivet_m_sin = libm::sin, __rivet_m_sinf = libm::sinf;
    __rivet_m_sinh = libm::sinh, __rivet_m_sinhf = libm::sinhf;
    __rivet_m_sqrt = libm::sqrt, __rivet_m_sqrtf = libm::sqrtf;
    __rivet_m_tan = libm::tan, __rivet_m_tanf = libm::tanf;
    __rivet_m_tanh = libm::tanh, __rivet_m_tanhf = libm::tanhf;
    __rivet_m_tgamma = libm::tgamma, __rivet_m_tgammaf = libm::tgammaf;
    __rivet_m_trunc = libm::trunc, __rivet_m_truncf = libm::truncf;
    __rivet_m_j0 = libm::j0, __rivet_m_j0f = libm::j0f;
    __rivet_m_j1 = libm::j1, __rivet_m_j1f = libm::j1f;
    __rivet_m_y0 = libm::y0, __rivet_m_y0f = libm::y0f;
    __rivet_m_y1 = libm::y1, __rivet_m_y1f = libm::y1f;
    __rivet_m_lgamma = libm::lgamma, __rivet_m_lgammaf = libm::lgammaf;
    __rivet_m_roundeven = libm::roundeven, __rivet_m_roundevenf = libm::roundevenf;
}

binary! {
    __rivet_m_atan2 = libm::atan2, __rivet_m_atan2f = libm::atan2f;
    __rivet_m_copysign = libm::copysign, __rivet_m_copysignf = libm::copysignf;
    __rivet_m_fdim = libm::fdim, __rivet_m_fdimf = libm::fdimf;
    __rivet_m_fmax = libm::fmax, __rivet_m_fmaxf = libm::fmaxf;
    __rivet_m_fmin = libm::fmin, __rivet_m_fminf = libm::fminf;
    __rivet_m_fmod = libm::fmod, __rivet_m_fmodf = libm::fmodf;
    __rivet_m_hypot = libm::hypot, __rivet_m_hypotf = libm::hypotf;
    __rivet_m_nextafter = libm::nextafter, __rivet_m_nextafterf = libm::nextafterf;
    __rivet_m_pow = libm::pow, __rivet_m_powf = libm::powf;
    __rivet_m_remainder = libm::remainder, __rivet_m_remainderf = libm::remainderf;
}

/// `fma` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_fma(x: u64, y: u64, z: u64) -> u64 {
    libm::fma(f64::from_bits(x), f64::from_bits(y), f64::from_bits(z)).to_bits()
}

/// `fmaf` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_fmaf(x: u32, y: u32, z: u32) -> u32 {
    libm::fmaf(f32::from_bits(x), f32::from_bits(y), f32::from_bits(z)).to_bits()
}

/// `ldexp`/`scalbn` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_scalbn(x: u64, n: c_int) -> u64 {
    libm::scalbn(f64::from_bits(x), n).to_bits()
}

/// `ldexpf`/`scalbnf` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_scalbnf(x: u32, n: c_int) -> u32 {
    libm::scalbnf(f32::from_bits(x), n).to_bits()
}

/// `jn` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_jn(n: c_int, x: u64) -> u64 {
    libm::jn(n, f64::from_bits(x)).to_bits()
}

/// `jnf` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_jnf(n: c_int, x: u32) -> u32 {
    libm::jnf(n, f32::from_bits(x)).to_bits()
}

/// `yn` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_yn(n: c_int, x: u64) -> u64 {
    libm::yn(n, f64::from_bits(x)).to_bits()
}

/// `ynf` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_ynf(n: c_int, x: u32) -> u32 {
    libm::ynf(n, f32::from_bits(x)).to_bits()
}

/// `ilogb` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_ilogb(x: u64) -> c_int {
    libm::ilogb(f64::from_bits(x))
}

/// `ilogbf` on bits.
#[no_mangle]
pub extern "C" fn __rivet_m_ilogbf(x: u32) -> c_int {
    libm::ilogbf(f32::from_bits(x))
}

/// `frexp` on bits: returns the fraction, stores the exponent.
///
/// # Safety
/// 1. `exponent` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_frexp(x: u64, exponent: *mut c_int) -> u64 {
    let (fraction, power) = libm::frexp(f64::from_bits(x));
    // SAFETY: obligation 1.
    unsafe { *exponent = power };
    fraction.to_bits()
}

/// `frexpf` on bits.
///
/// # Safety
/// 1. `exponent` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_frexpf(x: u32, exponent: *mut c_int) -> u32 {
    let (fraction, power) = libm::frexpf(f32::from_bits(x));
    // SAFETY: obligation 1.
    unsafe { *exponent = power };
    fraction.to_bits()
}

/// `modf` on bits: returns the fraction, stores the integral part's bits.
///
/// # Safety
/// 1. `integral` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_modf(x: u64, integral: *mut u64) -> u64 {
    let (fraction, whole) = libm::modf(f64::from_bits(x));
    // SAFETY: obligation 1.
    unsafe { *integral = whole.to_bits() };
    fraction.to_bits()
}

/// `modff` on bits.
///
/// # Safety
/// 1. `integral` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_modff(x: u32, integral: *mut u32) -> u32 {
    let (fraction, whole) = libm::modff(f32::from_bits(x));
    // SAFETY: obligation 1.
    unsafe { *integral = whole.to_bits() };
    fraction.to_bits()
}

/// `remquo` on bits.
///
/// # Safety
/// 1. `quotient` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_remquo(x: u64, y: u64, quotient: *mut c_int) -> u64 {
    let (remainder, bits) = libm::remquo(f64::from_bits(x), f64::from_bits(y));
    // SAFETY: obligation 1.
    unsafe { *quotient = bits };
    remainder.to_bits()
}

/// `remquof` on bits.
///
/// # Safety
/// 1. `quotient` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_remquof(x: u32, y: u32, quotient: *mut c_int) -> u32 {
    let (remainder, bits) = libm::remquof(f32::from_bits(x), f32::from_bits(y));
    // SAFETY: obligation 1.
    unsafe { *quotient = bits };
    remainder.to_bits()
}

/// `lgamma_r` on bits.
///
/// # Safety
/// 1. `sign` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_lgamma_r(x: u64, sign: *mut c_int) -> u64 {
    let (value, s) = libm::lgamma_r(f64::from_bits(x));
    // SAFETY: obligation 1.
    unsafe { *sign = s };
    value.to_bits()
}

/// `lgammaf_r` on bits.
///
/// # Safety
/// 1. `sign` is writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_m_lgammaf_r(x: u32, sign: *mut c_int) -> u32 {
    let (value, s) = libm::lgammaf_r(f32::from_bits(x));
    // SAFETY: obligation 1.
    unsafe { *sign = s };
    value.to_bits()
}
