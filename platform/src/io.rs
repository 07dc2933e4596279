//! Console output: `print!`, `println!`, `eprint!`, `eprintln!`.
//!
//! Standard output and standard error both go to the platform's console.

#[doc(hidden)]
pub fn _print(args: core::fmt::Arguments<'_>) {
    rivet_core::console::print(args);
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
