//! Rivet's platform-independent kernel core.
//!
//! This crate is the bottom of Rivet's layer cake (see `docs/architecture.md`): it knows no CPU, no
//! board and no hypervisor. It owns
//!
//! - the *traits* the layers above implement ([`console::Console`], [`time::Clock`],
//!   [`memory::paging::PageTableFormat`] …), in the spirit of Tock's HIL: small, split by use;
//! - the *logic* that needs no hardware: memory-map arithmetic, the physical frame allocator, the
//!   page-table builder, shell-like command-line splitting, time conversions, the logger;
//! - the [`boot::BootInfo`] a platform fills in before `main`.
//!
//! Everything here is safe Rust and runs on the host, where `cargo test -p rivet-core` exercises it.
//! Non-goals: anything that touches raw memory or registers (that is `arch/` and `drivers/`), and
//! deciding which device plays which role (that is `platform/`).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod boot;
pub mod cmdline;
pub mod console;
pub mod exit;
pub mod interrupt;
pub mod logger;
pub mod memory;
pub mod net;
pub mod sched;
pub mod sync;
pub mod time;
