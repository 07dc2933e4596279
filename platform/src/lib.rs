//! Rivet's API crate and platform layer.
//!
//! Applications depend on this crate (as `rivet`) and get a `std`-shaped API: [`println!`],
//! [`env::args`], [`process::exit`], [`time`], [`thread`] (preemptive threads on every core),
//! [`sync`] (mutexes, condition variables, channels …), [`net`] (sockets), [`xen`] (xenstore and
//! Xen's clock, on Xen), `alloc` collections on a heap sized from the memory map. Underneath, the same crate is the *platform* layer of `docs/architecture.md`: one module
//! per boot environment that turns what the boot hands over (a PVH start info, a device tree …)
//! into a memory map, page tables, a console and a clock, then starts the application through
//! [`runtime`]. It is the only crate that knows a board or a hypervisor.
//!
//! The API and the platform wiring share one crate because the API's job is to pick the platform
//! (by target and, later, by feature); split, the API crate would be a page of re-exports.
//!
//! An application is a `#![no_std]`, `#![no_main]` binary that names its entry point with
//! [`main!`]:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! rivet::main!(main);
//! fn main() {
//!     rivet::println!("Hello from {}", rivet::env::platform());
//! }
//! ```
#![no_std]
#![deny(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod env;
pub mod interrupt;
pub mod io;
pub mod net;
pub mod process;
pub mod sync;
pub mod thread;
pub mod time;
pub mod xen;

mod heap;
mod panic;
pub mod runtime;

mod boot;
mod smp;

pub use rivet_core::exit::{BAD_BOOT_INPUT, CPU_EXCEPTION, PANIC};
