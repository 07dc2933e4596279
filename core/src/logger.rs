//! The `log` crate's backend: every `log::info!` and friends ends on the console.
//!
//! Lines look like `[ INFO] message`. The level comes from the `rivet.log=` kernel parameter
//! (`error`, `warn`, `info`, `debug`, `trace`, `off`); the default is `info`. Libraries
//! outside Rivet (virtio-drivers, smoltcp) speak one level quieter than they say: their `info`
//! is chatter about the protocol, shown from `rivet.log=debug` on; their warnings stay
//! warnings.

use core::str::FromStr;
use log::{LevelFilter, Log, Metadata, Record};

struct ConsoleLogger;

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let level = metadata.level();
        let foreign = !metadata.target().starts_with("rivet");
        if foreign && level == log::Level::Info {
            return log::Level::Debug <= log::max_level();
        }
        level <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            crate::console::print(format_args!("[{:>5}] {}\n", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: ConsoleLogger = ConsoleLogger;

/// Why a log level could not be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BadLevel;

impl core::fmt::Display for BadLevel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("log level must be one of off, error, warn, info, debug, trace")
    }
}

impl core::error::Error for BadLevel {}

/// Parses a `rivet.log=` value.
pub fn parse_level(value: &str) -> Result<LevelFilter, BadLevel> {
    LevelFilter::from_str(value).map_err(|_| BadLevel)
}

/// Makes the console the `log` backend at `level`. Calling it again only changes the level.
pub fn init(level: LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels() {
        assert_eq!(parse_level("debug"), Ok(LevelFilter::Debug));
        assert_eq!(parse_level("OFF"), Ok(LevelFilter::Off));
        assert_eq!(parse_level("loud"), Err(BadLevel));
    }
}
