//! The boot environments an image carries, chosen once per architecture.
//!
//! This is the one place in `platform/` that names a CPU architecture: each architecture's image
//! carries every boot environment of that architecture, and the entry code (in `arch/`) jumps to
//! the `rivet_*_entry` function of the environment that started it:
//!
//! - x86_64: [`pvh`] (QEMU/KVM `microvm` and `q35`, Firecracker, cloud-hypervisor, and a Xen
//!   PVH domU) and [`xen_pv`] (a classic Xen PV guest, entered through the Xen ELF notes); what
//!   both Xen guests share (console ring, xenstore, a domU's exit) is [`xen`].
//! - aarch64: [`devicetree`] (an arm64 `Image` handed a DTB: QEMU `virt`, Raspberry Pi 4/3, Xen
//!   dom0less, told apart by the DTB) and [`uefi`] (the same image started by UEFI firmware with
//!   ACPI only, as on AWS Graviton); [`shutdown`] ends the run for both.

#[cfg(target_arch = "x86_64")]
pub(crate) mod pvh;
#[cfg(target_arch = "x86_64")]
pub(crate) mod xen;
#[cfg(target_arch = "x86_64")]
pub(crate) mod xen_pv;

#[cfg(target_arch = "aarch64")]
pub(crate) mod devicetree;
#[cfg(target_arch = "aarch64")]
pub(crate) mod shutdown;
#[cfg(target_arch = "aarch64")]
pub(crate) mod uefi;

#[cfg(all(target_os = "none", not(any(target_arch = "x86_64", target_arch = "aarch64"))))]
compile_error!("Rivet runs on x86_64 and aarch64 only");
