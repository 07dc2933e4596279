//! Time: monotonic instants, `sleep`, and `Duration`.

pub use core::time::Duration;
pub use rivet_core::time::{sleep, Instant};
