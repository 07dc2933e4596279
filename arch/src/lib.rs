//! Rivet's CPU layer: boot assembly, exception vectors, page-table formats, counters, barriers.
//!
//! One module per architecture, selected here and nowhere else (the Hubris `arch.rs` pattern).
//! Every architecture exports the same names from same-named files, so `platform/` and the API
//! can use `rivet_arch::paging::Format` or `rivet_arch::backtrace::walk` without naming a CPU:
//!
//! | item | what it is |
//! |---|---|
//! | `NAME` | `"x86_64"` or `"aarch64"` |
//! | `paging::{Format, DirectMap, kernel_image, activate}` | core's `PageTableFormat` / `TableMemory` for this CPU, the image's sections from the linker script, switching to a new tree |
//! | `time::COUNTER` | core's `Clock` over the CPU's counter (TSC, generic timer) |
//! | `trap::init` | installs the exception vectors: a fault prints its report and exits with code 102 |
//! | `backtrace::walk` | follows the frame-pointer chain of the current stack |
//! | `cpu::halt_forever` | stops this core for good |
//! | `cpu::{disable_interrupts, restore_interrupts, enable_interrupts}` | masking this core's interrupts |
//! | `context::{switch, prepare}` | a thread switch (callee-saved and FP state on the stack) and a new thread's first frame |
//! | `percpu` (shared) | this core's index, the platform's per-core word, the running thread's stack |
//! | `tls::{area_layout, init_area, set_thread_pointer}` (shared, with each arch's `tls_abi`) | a thread's ELF TLS area laid out per the arch's TLS variant, and loading its thread pointer |
//! | `cpu::wait_for_interrupt` | idles until an interrupt with interrupts briefly enabled (`wfi`, `sti; hlt`): what `sleep` calls between alarms |
//!
//! The boot entry code jumps *up* to a `rivet_*_entry` function the platform layer defines (a
//! link-time contract, as Linux's `head.S` calls `start_kernel`); this crate never imports
//! `platform/`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(target_arch = "x86_64")]
#[path = "x86_64/mod.rs"]
mod imp;

#[cfg(target_arch = "aarch64")]
#[path = "aarch64/mod.rs"]
mod imp;

#[cfg(all(target_os = "none", not(any(target_arch = "x86_64", target_arch = "aarch64"))))]
compile_error!("Rivet runs on x86_64 and aarch64 only");

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub use imp::*;

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub mod percpu;

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub mod tls;
