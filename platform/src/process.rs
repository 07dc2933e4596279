//! Ending the run.

/// Ends the run with `code`, which the host sees as the exit status of QEMU or of the domain.
///
/// Codes 0 to 127 reach the host on every platform; others become 127. 101, 102 and 103 are what
/// the kernel itself uses for a panic, a CPU exception and bad boot input.
pub fn exit(code: i32) -> ! {
    let portable = rivet_core::exit::portable(code);
    if i32::from(portable) != code {
        log::warn!("exit code {code} is outside 0..=127; reporting {portable}");
    }
    rivet_core::exit::exit(i32::from(portable))
}

/// What `main` may return, like `std::process::Termination`.
pub trait Termination {
    /// The exit code this value stands for.
    fn report(self) -> i32;
}

impl Termination for () {
    fn report(self) -> i32 {
        0
    }
}

impl Termination for i32 {
    fn report(self) -> i32 {
        self
    }
}

impl<E: core::fmt::Debug> Termination for Result<(), E> {
    fn report(self) -> i32 {
        match self {
            Ok(()) => 0,
            Err(e) => {
                crate::eprintln!("Error: {e:?}");
                1
            }
        }
    }
}

/// Names the application's entry point: `rivet::main!(main);` with `fn main()` returning `()`,
/// an `i32` exit code or a `Result<(), E: Debug>`.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        #[doc(hidden)]
        #[no_mangle]
        pub extern "Rust" fn __rivet_main() -> i32 {
            $crate::env::set_program_name(env!("CARGO_CRATE_NAME"));
            $crate::process::Termination::report($main())
        }
    };
}
