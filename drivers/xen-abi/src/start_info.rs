//! Checking a PV `start_info` before trusting it, and what the initial mapping is known to cover.
//!
//! Xen builds a PV guest's first address space itself (`xen.h`, "start of day" layout): one
//! contiguous virtual region from `VIRT_BASE`, mapping pseudo-physical page `n` at
//! `VIRT_BASE + n * 4096`, holding in order the kernel, the module, the p2m list (`mfn_list`), the
//! start info page, the bootstrap page tables (`pt_base`) and the bootstrap stack, each page
//! aligned. The region ends on a 4 MiB boundary with at least 512 KiB after the last element.
//! [`validate`] checks that every address the start info claims lies inside the domain's
//! pseudo-physical space, that the command line is terminated UTF-8, and derives the part of the
//! region that is certainly mapped ([`Bootstrap::mapped`]) and the parts of it that are in use
//! ([`Bootstrap::reserved`]); the rest is free memory the kernel may use at once.
//!
//! Weak spots: [`Bootstrap::mapped`] is the *smallest* region the header's guarantee allows (Xen
//! may map more); memory beyond it (up to `nr_pages`) needs page tables built through hypercalls.
//! Only a start info "xen-3.0-x86_64" is accepted.

use crate::{StartInfo, MAX_GUEST_CMDLINE, SIF_MOD_START_PFN};
use core::ops::Range;

const PAGE: u64 = 4096;
/// The header's promise: at least this much mapped after the last bootstrap element…
const PADDING: u64 = 512 << 10;
/// … and the mapped region ends on a multiple of this.
const REGION_ALIGN: u64 = 4 << 20;

/// What a validated start info says, in virtual addresses.
#[derive(Debug, PartialEq, Eq)]
pub struct Bootstrap<'a> {
    /// The command line (`cmd_line` up to its NUL).
    pub command_line: &'a str,
    /// Pages of the domain (pseudo-physical frames `0..nr_pages`).
    pub nr_pages: u64,
    /// Virtual addresses certainly mapped read-write by the initial page tables, from `VIRT_BASE`.
    pub mapped: Range<u64>,
    /// Elements inside `mapped` in use, page aligned: start info, p2m list, module, bootstrap page
    /// tables (mapped read-only), bootstrap stack. Empty ranges for absent ones.
    pub reserved: [Range<u64>; 5],
    /// Machine frame number of the shared info page.
    pub shared_info_mfn: u64,
}

/// Why a start info was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartInfoError {
    /// `magic` is not `"xen-3.0-x86_64"`.
    BadMagic,
    /// `nr_pages` is zero.
    NoPages,
    /// A claimed element lies outside the domain's pseudo-physical space (or wraps).
    Outside(&'static str),
    /// The shared info machine address is not page aligned.
    SharedInfoUnaligned(u64),
    /// `cmd_line` has no NUL in its 1024 bytes.
    CommandLineUnterminated,
    /// `cmd_line` is not UTF-8.
    CommandLineNotUtf8,
}

impl core::fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadMagic => f.write_str("magic is not \"xen-3.0-x86_64\""),
            Self::NoPages => f.write_str("nr_pages is 0"),
            Self::Outside(what) => write!(f, "{what} lies outside the domain's memory"),
            Self::SharedInfoUnaligned(a) => write!(f, "shared_info {a:#x} is not page aligned"),
            Self::CommandLineUnterminated => {
                write!(f, "cmd_line has no terminating NUL in {MAX_GUEST_CMDLINE} bytes")
            }
            Self::CommandLineNotUtf8 => f.write_str("cmd_line is not UTF-8"),
        }
    }
}

/// The magic a 64-bit PV guest of Xen 3.0+ ABI sees.
pub const MAGIC: &[u8] = b"xen-3.0-x86_64";

/// Checks `info`, which Xen placed at virtual address `at`, for a kernel whose image spans
/// `kernel` (virtual) and which was entered with stack pointer `entry_rsp`, where pseudo-physical
/// 0 is mapped at `virt_base`.
pub fn validate<'a>(
    info: &'a StartInfo,
    at: u64,
    entry_rsp: u64,
    virt_base: u64,
    kernel: Range<u64>,
) -> Result<Bootstrap<'a>, StartInfoError> {
    let magic_len = info.magic.iter().position(|&b| b == 0).unwrap_or(info.magic.len());
    if &info.magic[..magic_len] != MAGIC {
        return Err(StartInfoError::BadMagic);
    }
    if info.nr_pages == 0 {
        return Err(StartInfoError::NoPages);
    }
    let space_end = info.nr_pages.checked_mul(PAGE).and_then(|len| virt_base.checked_add(len));
    let space = virt_base..space_end.unwrap_or(u64::MAX);
    let inside = |what: &'static str, start: u64, len: u64| -> Result<Range<u64>, StartInfoError> {
        let end = start.checked_add(len).ok_or(StartInfoError::Outside(what))?;
        if start < space.start || end > space.end {
            return Err(StartInfoError::Outside(what));
        }
        Ok(start & !(PAGE - 1)..end.checked_next_multiple_of(PAGE).unwrap_or(end))
    };

    let start_info = inside("the start info", at, core::mem::size_of::<StartInfo>() as u64)?;
    let mfn_list_len = info.nr_pages.checked_mul(8).ok_or(StartInfoError::Outside("mfn_list"))?;
    let mfn_list = inside("mfn_list", info.mfn_list, mfn_list_len)?;
    let tables_len =
        info.nr_pt_frames.checked_mul(PAGE).ok_or(StartInfoError::Outside("pt_base"))?;
    let tables = inside("the bootstrap page tables (pt_base)", info.pt_base, tables_len)?;
    let module = if info.mod_len == 0 {
        0..0
    } else {
        let start = if info.flags & SIF_MOD_START_PFN != 0 {
            info.mod_start.checked_mul(PAGE).and_then(|o| virt_base.checked_add(o))
        } else {
            Some(info.mod_start)
        };
        inside("the module", start.ok_or(StartInfoError::Outside("the module"))?, info.mod_len)?
    };
    let stack_top =
        entry_rsp.checked_next_multiple_of(PAGE).ok_or(StartInfoError::Outside("rsp"))?;
    let stack = inside("the bootstrap stack (rsp)", stack_top.saturating_sub(PAGE), PAGE)?;
    let image = inside("the kernel image", kernel.start, kernel.end.saturating_sub(kernel.start))?;

    if !info.shared_info.is_multiple_of(PAGE) {
        return Err(StartInfoError::SharedInfoUnaligned(info.shared_info));
    }

    let last = [&start_info, &mfn_list, &tables, &module, &stack, &image]
        .iter()
        .map(|r| r.end)
        .max()
        .unwrap_or(virt_base);
    let mapped_end = last
        .checked_add(PADDING)
        .and_then(|e| e.checked_next_multiple_of(REGION_ALIGN))
        .map_or(space.end, |e| e.min(space.end));

    let text = &info.cmd_line;
    let len = text.iter().position(|&b| b == 0).ok_or(StartInfoError::CommandLineUnterminated)?;
    let command_line =
        core::str::from_utf8(&text[..len]).map_err(|_| StartInfoError::CommandLineNotUtf8)?;

    Ok(Bootstrap {
        command_line,
        nr_pages: info.nr_pages,
        mapped: virt_base..mapped_end,
        reserved: [start_info, mfn_list, module, tables, stack],
        shared_info_mfn: info.shared_info / PAGE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0xffff_ffff_8000_0000;
    const KERNEL: Range<u64> = BASE + 0x10_0000..BASE + 0x18_0000;

    /// Shaped like what Xen 4.17 builds for a 32 MiB dom0 in QEMU (p2m list, start info, page
    /// tables, stack after the image; rsp at the stack page's end).
    fn typical() -> (StartInfo, u64, u64) {
        let mut info = StartInfo::zeroed();
        info.magic[..MAGIC.len()].copy_from_slice(MAGIC);
        info.nr_pages = 8192;
        info.shared_info = 0x7fff_f000;
        info.mfn_list = BASE + 0x18_0000;
        info.pt_base = BASE + 0x19_2000;
        info.nr_pt_frames = 6;
        info.cmd_line[..3].copy_from_slice(b"a b");
        (info, BASE + 0x19_1000, BASE + 0x19_9000)
    }

    #[test]
    fn a_typical_dom0_start_info() {
        let (info, at, rsp) = typical();
        let boot = validate(&info, at, rsp, BASE, KERNEL).unwrap();
        assert_eq!(boot.command_line, "a b");
        assert_eq!(boot.mapped, BASE..BASE + 0x40_0000);
        assert_eq!(boot.reserved[0], at..at + PAGE);
        assert_eq!(boot.reserved[1], BASE + 0x18_0000..BASE + 0x19_0000);
        assert_eq!(boot.reserved[2], 0..0);
        assert_eq!(boot.reserved[3], BASE + 0x19_2000..BASE + 0x19_8000);
        assert_eq!(boot.reserved[4], BASE + 0x19_8000..BASE + 0x19_9000);
        assert_eq!(boot.shared_info_mfn, 0x7_ffff);
    }

    #[test]
    fn padding_under_512k_adds_4mib() {
        let (mut info, at, _) = typical();
        info.pt_base = BASE + 0x3c_0000;
        let boot = validate(&info, at, BASE + 0x3c_7000, BASE, KERNEL).unwrap();
        assert_eq!(boot.mapped.end, BASE + 0x80_0000);
    }

    #[test]
    fn mapped_never_exceeds_the_domain() {
        let (mut info, at, rsp) = typical();
        info.nr_pages = 0x200; // 2 MiB
        let boot = validate(&info, at, rsp, BASE, KERNEL).unwrap();
        assert_eq!(boot.mapped.end, BASE + 0x20_0000);
    }

    #[test]
    fn bad_inputs_are_named() {
        let (info, at, rsp) = typical();
        let check = |f: &dyn Fn(&mut StartInfo), rsp: u64| {
            let mut bad = info;
            f(&mut bad);
            validate(&bad, at, rsp, BASE, KERNEL).map(|_| ()).unwrap_err()
        };
        assert_eq!(check(&|i| i.magic[4] = b'4', rsp), StartInfoError::BadMagic);
        assert_eq!(check(&|i| i.nr_pages = 0, rsp), StartInfoError::NoPages);
        assert!(matches!(check(&|i| i.mfn_list = 0x1000, rsp), StartInfoError::Outside(_)));
        assert!(matches!(check(&|i| i.pt_base = u64::MAX - 10, rsp), StartInfoError::Outside(_)));
        assert!(matches!(check(&|i| i.nr_pt_frames = u64::MAX, rsp), StartInfoError::Outside(_)));
        assert!(matches!(check(&|i| i.nr_pages = u64::MAX, rsp), StartInfoError::Outside(_)));
        assert!(matches!(check(&|_| (), 0x1000), StartInfoError::Outside(_)));
        assert!(matches!(
            check(
                &|i| {
                    i.mod_len = 1 << 40;
                    i.mod_start = BASE
                },
                rsp
            ),
            StartInfoError::Outside(_)
        ));
        assert!(matches!(
            check(
                &|i| {
                    i.flags = SIF_MOD_START_PFN;
                    i.mod_len = 1;
                    i.mod_start = u64::MAX
                },
                rsp
            ),
            StartInfoError::Outside(_)
        ));
        assert_eq!(
            check(&|i| i.shared_info = 0x123, rsp),
            StartInfoError::SharedInfoUnaligned(0x123)
        );
        assert_eq!(
            check(&|i| i.cmd_line = [b'x'; 1024], rsp),
            StartInfoError::CommandLineUnterminated
        );
        assert_eq!(check(&|i| i.cmd_line[0] = 0xff, rsp), StartInfoError::CommandLineNotUtf8);
    }

    #[test]
    fn a_module_by_pfn() {
        let (mut info, at, rsp) = typical();
        info.flags = SIF_MOD_START_PFN;
        info.mod_start = 0x200;
        info.mod_len = 0x1800;
        let boot = validate(&info, at, rsp, BASE, KERNEL).unwrap();
        assert_eq!(boot.reserved[2], BASE + 0x20_0000..BASE + 0x20_2000);
    }
}
