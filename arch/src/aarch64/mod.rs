//! aarch64 (ARMv8-A, EL1): Image entry, exception vectors, stage-1 page tables, generic timer.
//!
//! The kernel runs at EL1 on SP_EL0, identity-mapped, from a position-independent `Image` that
//! relocates itself (see `boot.rs` and `targets/aarch64-unknown-none/kernel.ld`). Exceptions run
//! on their own stack (SP_EL1), so a boot-stack overflow is still reported.
//!
//! Beside the names every architecture exports (see `arch/src/lib.rs`), aarch64 has
//! [`semihosting`] (exit codes and a last-resort console for a debugger or QEMU) and [`psci`]
//! (power off through firmware or a hypervisor).
//!
//! [`gic`] holds the GICv3 CPU-interface accessors the platform hands to the GIC driver;
//! [`time::ALARM`] is the virtual timer as core's `Alarm`; `cpu::wait_for_interrupt` idles.
//!
//! Secondary cores start through [`smp`] (PSCI CPU_ON, or a spin-table holding pen) and share
//! the boot core's page tables; [`context`] switches threads. Threads run with IRQs unmasked;
//! kernel locks mask them (core's `IrqMutex`).

pub mod backtrace;
pub mod boot;
pub mod context;
pub mod cpu;
pub mod esr;
pub mod gic;
pub mod layout;
pub mod paging;
pub mod psci;
pub mod semihosting;
pub mod smp;
pub mod time;
pub mod tls_abi;
pub mod trap;
pub mod uefi;
pub mod xen;

pub use cpu::NAME;
