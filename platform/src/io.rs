//! Console output: `print!`, `println!`, `eprint!`, `eprintln!`.
//!
//! Standard output and standard error both go to the platform's console. [`Error`] is the
//! error type of calls that can fail for want of a resource (spawning a thread).

#[doc(hidden)]
pub fn _print(args: core::fmt::Arguments<'_>) {
    rivet_core::console::print(args);
}

/// Writes raw bytes to the console (standard output and error, e.g. C's `write(1, …)`), with
/// `\n` becoming `\r\n` as for [`print!`]. Known weak spot: the console takes text, so bytes
/// that are not UTF-8 are written as U+FFFD.
pub fn write_bytes(bytes: &[u8]) {
    struct Chunks<'a>(&'a [u8]);
    impl core::fmt::Display for Chunks<'_> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            for chunk in self.0.utf8_chunks() {
                f.write_str(chunk.valid())?;
                if !chunk.invalid().is_empty() {
                    f.write_str("\u{fffd}")?;
                }
            }
            Ok(())
        }
    }
    rivet_core::console::print(format_args!("{}", Chunks(bytes)));
}

/// Prints to the console, like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::io::_print(format_args!($($arg)*)));
}

/// Prints a line to the console, like `std::println!`.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::io::_print(format_args!("{}\n", format_args!($($arg)*))));
}

/// Prints to standard error (the console), like `std::eprint!`.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => ($crate::io::_print(format_args!($($arg)*)));
}

/// Prints a line to standard error (the console), like `std::eprintln!`.
#[macro_export]
macro_rules! eprintln {
    () => ($crate::eprint!("\n"));
    ($($arg:tt)*) => ($crate::io::_print(format_args!("{}\n", format_args!($($arg)*))));
}

/// What kind of failure an [`Error`] is, like `std::io::ErrorKind` (the subset Rivet reports).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Memory ran out (a thread stack, a buffer).
    OutOfMemory,
    /// The operation did not finish in time.
    TimedOut,
    /// The operation is not supported here.
    Unsupported,
    /// The operation would block and the socket is non-blocking (or has no data yet).
    WouldBlock,
    /// The peer refused the connection (a TCP reset to a SYN).
    ConnectionRefused,
    /// The peer reset an established connection.
    ConnectionReset,
    /// The connection is not (or no longer) established.
    NotConnected,
    /// The local address or port is taken.
    AddrInUse,
    /// No route or address: the interface has no address yet, or no interface exists.
    AddrNotAvailable,
    /// Writing to a connection the peer (or `shutdown`) has closed for writing.
    BrokenPipe,
    /// An argument is invalid (a malformed address, a zero timeout).
    InvalidInput,
    /// A name did not resolve.
    NotFound,
    /// Anything else; the message says what.
    Other,
}

/// An I/O or resource error, like `std::io::Error`: a kind and a message.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: alloc::string::String,
}

impl Error {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl core::fmt::Display) -> Self {
        Self { kind, message: alloc::format!("{message}") }
    }

    /// Its kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn out_of_memory(message: impl core::fmt::Display) -> Self {
        Self::new(ErrorKind::OutOfMemory, message)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for Error {}

/// `Result` with [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
