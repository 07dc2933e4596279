//! The cores under `/cpus`: each one's MPIDR (`reg`) and how to start it (`enable-method`, and
//! `cpu-release-addr` for a spin table), for the platform's SMP bring-up.
//!
//! Read in [`read`](super::read)'s one pass into [`Machine::cpus`](super::Machine::cpus): a node
//! directly under `/cpus` counts when its `device_type` is `"cpu"` (so `cpu-map` and `l2-cache`
//! do not), unless its `status` starts with `"fail"`; `"disabled"` is kept, as the spec uses it
//! for a core parked in a spin table. A core's `enable-method` defaults to the one `/cpus` gives.
//!
//! Weak spots: `reg` is taken as the MPIDR's affinity fields as the binding says (one cell:
//! Aff2..Aff0; two: Aff3 in the first); only the first `reg` entry is read (SMT threads listed
//! as more entries of one node are not); nothing checks that MPIDRs are distinct.

use super::error::{Error, Result};

/// Most cores kept; more are counted in [`Cpus::ignored`].
pub const MAX_CPUS: usize = 16;

/// How the firmware starts a core, from its `enable-method`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EnableMethod {
    /// `"psci"`: PSCI CPU_ON (the conduit is `/psci`'s `method`).
    Psci,
    /// `"spin-table"`: the core spins reading the 64-bit word at `release` (its
    /// `cpu-release-addr`) until it is non-zero, then jumps there.
    SpinTable {
        /// The physical address of the release word.
        release: u64,
    },
    /// No `enable-method`, or one Rivet cannot use (a 32-bit one such as
    /// `"brcm,bcm2836-smp"`): the core cannot be started.
    None,
}

/// One core under `/cpus`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Cpu {
    /// Its `reg`: MPIDR_EL1's affinity fields (Aff3 in bits 39:32, Aff2..Aff0 in 23:0).
    pub mpidr: u64,
    /// How it is started.
    pub enable: EnableMethod,
}

/// The cores, in the order the devicetree lists them.
#[derive(Clone, Debug)]
pub struct Cpus {
    items: [Cpu; MAX_CPUS],
    len: usize,
    /// Cores beyond [`MAX_CPUS`], not kept.
    pub ignored: usize,
}

impl Cpus {
    /// None yet.
    pub const fn new() -> Self {
        Self { items: [Cpu { mpidr: 0, enable: EnableMethod::None }; MAX_CPUS], len: 0, ignored: 0 }
    }

    /// The cores kept, in devicetree order.
    pub fn as_slice(&self) -> &[Cpu] {
        &self.items[..self.len]
    }

    /// Appends a core (from another source, such as the ACPI MADT); beyond [`MAX_CPUS`] it is
    /// only counted in [`Cpus::ignored`].
    pub fn push(&mut self, cpu: Cpu) {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = cpu;
                self.len += 1;
            }
            None => self.ignored += 1,
        }
    }
}

impl Default for Cpus {
    fn default() -> Self {
        Self::new()
    }
}

/// The core a `/cpus` child whose `device_type` is `"cpu"` describes: `name` for errors,
/// `address_cells` those of `/cpus`, `method` its own `enable-method` or else `/cpus`' one.
pub(super) fn cpu<'a>(
    node: &'a str,
    address_cells: u32,
    reg: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    release: Option<&'a [u8]>,
) -> Result<'a, Cpu> {
    let bad = |property, problem| Error::BadProperty { node, property, problem };
    let reg = reg.ok_or(bad("reg", "missing"))?;
    let mpidr = match address_cells {
        1 | 2 => reg
            .get(..address_cells as usize * 4)
            .and_then(value)
            .ok_or(bad("reg", "shorter than #address-cells of /cpus"))?,
        _ => return Err(bad("reg", "#address-cells of /cpus is not 1 or 2")),
    };
    let enable = match method.map(text) {
        Some(b"psci") => EnableMethod::Psci,
        Some(b"spin-table") => {
            let release = release.ok_or(bad("cpu-release-addr", "missing"))?;
            EnableMethod::SpinTable {
                release: value(release).ok_or(bad("cpu-release-addr", "not one or two cells"))?,
            }
        }
        _ => EnableMethod::None,
    };
    Ok(Cpu { mpidr, enable })
}

/// A string property without its NUL (the first string of a list).
fn text(value: &[u8]) -> &[u8] {
    value.split(|&b| b == 0).next().unwrap_or(value)
}

/// A one- or two-cell big-endian value.
fn value(bytes: &[u8]) -> Option<u64> {
    match *bytes {
        [a, b, c, d] => Some(u64::from(u32::from_be_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Some(u64::from_be_bytes([a, b, c, d, e, f, g, h])),
        _ => None,
    }
}
