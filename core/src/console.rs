//! The console: where `println!`, log lines and panic messages go.
//!
//! A platform picks one device for the role (a 16550, a PL011, the Xen console) and installs it
//! with [`set_console`]; everything else writes through [`print`]. Writers are serialised by a
//! lock (interrupts masked while it is held, see [`crate::sync`]) so lines from different cores
//! and threads do not interleave mid-line. `\n` becomes `\r\n` here, once,
//! so every driver sees terminal-ready bytes.
//!
//! Before a console is installed, output is dropped: there is nowhere to put it.

use crate::sync::IrqMutex;
use core::fmt::{self, Write};
use spin::Once;

/// A device that can show bytes to a human. Implemented by UART and hypervisor-console drivers.
pub trait Console: Sync {
    /// Writes all of `bytes`, blocking until the device has taken them.
    fn write_bytes(&self, bytes: &[u8]);
}

static CONSOLE: Once<&'static dyn Console> = Once::new();
static LOCK: IrqMutex<()> = IrqMutex::new(());

/// Installs the console. Only the first call takes effect; later calls return `false`.
pub fn set_console(console: &'static dyn Console) -> bool {
    let mut installed = false;
    CONSOLE.call_once(|| {
        installed = true;
        console
    });
    installed
}

/// Whether a console is installed.
pub fn has_console() -> bool {
    CONSOLE.get().is_some()
}

/// Translates `\n` to `\r\n` on the way to a console.
pub struct LineWriter<'a>(pub &'a dyn Console);

impl Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for (i, line) in s.split('\n').enumerate() {
            if i > 0 {
                self.0.write_bytes(b"\r\n");
            }
            self.0.write_bytes(line.as_bytes());
        }
        Ok(())
    }
}

/// Writes formatted text to the console.
pub fn print(args: fmt::Arguments<'_>) {
    if let Some(console) = CONSOLE.get() {
        let _guard = LOCK.lock();
        let _ = LineWriter(*console).write_fmt(args);
    }
}

/// Writes formatted text even if another writer holds the console lock (which a panic or fault
/// inside `print` would leave held forever). Output may interleave; it is for last words only.
pub fn print_emergency(args: fmt::Arguments<'_>) {
    if let Some(console) = CONSOLE.get() {
        let _guard = (0..1_000_000).find_map(|_| LOCK.try_lock());
        let _ = LineWriter(*console).write_fmt(args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    struct Recorder(StdMutex<Vec<u8>>);
    impl Console for Recorder {
        fn write_bytes(&self, bytes: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(bytes);
        }
    }

    #[test]
    fn newlines_become_crlf() {
        let rec = Recorder(StdMutex::new(Vec::new()));
        write!(LineWriter(&rec), "a\nb\n\nc{}", 1).unwrap();
        assert_eq!(rec.0.lock().unwrap().as_slice(), b"a\r\nb\r\n\r\nc1");
    }
}
