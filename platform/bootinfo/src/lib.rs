//! Parsers for what boot loaders hand over, treated as untrusted input.
//!
//! A boot loader hands the kernel a description of the machine: a device tree blob on arm64 (QEMU
//! `virt`, U-Boot, a Pi's firmware, Xen), a PVH or Xen start info on x86_64. Whatever it says is
//! *claimed, not checked*: this crate is where it gets checked. Each parser takes plain bytes
//! (`&[u8]`), bounds-checks every read, and turns anything malformed into an error that names the
//! evidence — it never panics and never reads outside the slice, whatever the input.
//!
//! Today: [`devicetree`], the DTB reader and the one-pass discovery of what the boot needs
//! (console, RAM, reservations, board, PSCI, bootargs). [`acpi`], the ACPI tables a UEFI
//! machine describes itself with (SPCR, MADT, GTDT, FADT, MCFG), and [`uefi`], the firmware's
//! load options and memory map. PVH and Xen start info may follow.
//!
//! Non-goals: turning a loader's address into a slice (that is the one `unsafe` step, and it
//! stays with the platform, which knows the boot protocol), and acting on what was found (mapping
//! memory, driving the UART — the platform's wiring). Everything here is safe, allocation-free
//! `no_std` Rust that runs on the host: `cargo test -p rivet-bootinfo` exercises it against real
//! and hand-written blobs, malformed ones and 20,000 mutations of QEMU's.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod acpi;
pub mod devicetree;
pub mod uefi;
