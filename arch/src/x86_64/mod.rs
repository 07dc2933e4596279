//! x86_64: the PVH entry, 4-level paging, the TSC, exception vectors and frame-pointer backtraces.
//!
//! Only modules and re-exports live here; see `arch/src/lib.rs` for the names every architecture
//! exports. x86_64-only extras: [`head`] (the boot entry and the boot page tables' reach) and
//! [`gdt`] (the GDT and TSS that give the exception handlers their own stacks), [`io`] (port
//! I/O ranges), [`xen_pv`] (the Xen PV entry, notes and hypercalls) and [`smp`] (the real-mode
//! trampoline that brings the other cores up). [`context`] switches threads.
//!
//! Threads run with interrupts enabled; kernel locks disable them (core's `IrqMutex`).

pub mod backtrace;
pub mod context;
pub mod cpu;
pub mod gdt;
pub mod head;
pub mod io;
pub mod paging;
pub mod smp;
pub mod time;
pub mod tls_abi;
pub mod trap;
pub mod xen_pv;

mod layout;

pub use cpu::NAME;
