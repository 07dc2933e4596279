//! The tool's error type.

use std::fmt;

use crate::machine::MachineError;

/// Why a command failed before it could report a guest's exit code.
#[derive(Debug)]
pub enum Error {
    /// The machine descriptions are missing or wrong.
    Machine(MachineError),
    /// A host tool (rustc, llvm-objcopy, apt-get …) is missing or failed.
    Tool(String),
    /// Building an example or image failed; carries cargo's messages when they were captured.
    Build(String),
    /// QEMU could not be started.
    Qemu(String),
    /// The command line asked for something impossible.
    Usage(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Machine(e) => write!(f, "machine descriptions: {e}"),
            Error::Tool(e) | Error::Build(e) | Error::Qemu(e) | Error::Usage(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {}

impl From<MachineError> for Error {
    fn from(e: MachineError) -> Error {
        Error::Machine(e)
    }
}
