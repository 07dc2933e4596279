//! A devicetree boot under Xen on arm64 (recognised by `/hypervisor`): what `rivet::xen` can
//! offer there.
//!
//! Hypercalls (`rivet_arch::xen`, `hvc #0xEA1`) work in any Xen guest, so the version is asked
//! of Xen itself. A dom0less domU of Xen 4.17 has no xenstore and no backends, and this port does
//! not map the shared info page yet (no pvclock: the generic timer is the clock), so the rest of
//! the services stay "unavailable".

use rivet_xen_abi::hypercall as hc;

/// The arm64 Xen guest's services.
struct Services;

static SERVICES: Services = Services;

impl crate::xen::Services for Services {
    fn version(&self) -> u32 {
        // SAFETY: the devicetree's `/hypervisor` node says this is a Xen guest (obligation 1);
        // `xen_version(XENVER_version, NULL)` touches no memory (obligation 2).
        unsafe {
            rivet_arch::xen::hypercall(hc::XEN_VERSION, hc::XENVER_VERSION, 0, 0, 0, 0) as u32
        }
    }
}

/// Registers the services with `rivet::xen`.
pub(super) fn register() {
    crate::xen::register(&SERVICES);
}
