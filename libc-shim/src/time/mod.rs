//! time.h's pure half: calendar arithmetic (UTC only), strftime and asctime.
//!
//! Rivet keeps time in UTC and has no time-zone database, so `localtime` is `gmtime`, `mktime`
//! is `timegm`, and `%Z` prints the `tm_zone` the structure carries ("GMT" from these
//! functions). Days ↔ civil dates use the proleptic Gregorian calendar over 64-bit days. Clocks
//! (`time`, `clock_gettime`) read the kernel and live in the os layer.

mod asctime;
mod calendar;
mod strftime;
mod strptime;

pub use asctime::*;
pub use calendar::*;
pub use strftime::*;
pub use strptime::*;
