//! Reading the Xen ELF notes of a guest image, as Xen's domain builders do: the checks the
//! host tests run on every built x86_64 image (one image carries the PV notes and the PVH
//! note). ELF64 little-endian only; every offset and length read from the file is checked.

/// Why a file's notes cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteError {
    /// Not a little-endian ELF64 file.
    NotElf64,
    /// A header, program header or note runs past the end of the file.
    Truncated,
}

/// One `Xen` note: its type (`XEN_ELFNOTE_*`, see [`crate::elfnote`]) and descriptor bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XenNote<'a> {
    /// `n_type`.
    pub kind: u32,
    /// The descriptor (unpadded).
    pub desc: &'a [u8],
}

impl<'a> XenNote<'a> {
    /// The descriptor as a little-endian number (4 or 8 bytes), if it is one.
    pub fn number(&self) -> Option<u64> {
        match self.desc.len() {
            4 => Some(u64::from(u32::from_le_bytes(self.desc.try_into().ok()?))),
            8 => Some(u64::from_le_bytes(self.desc.try_into().ok()?)),
            _ => None,
        }
    }

    /// The descriptor as a NUL-terminated string (one NUL, at the end), without the NUL.
    pub fn text(&self) -> Option<&'a str> {
        let text = self.desc.strip_suffix(b"\0")?;
        if text.contains(&0) {
            return None;
        }
        core::str::from_utf8(text).ok()
    }
}

const PT_NOTE: u32 = 4;

fn read<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], NoteError> {
    let end = at.checked_add(N).ok_or(NoteError::Truncated)?;
    bytes.get(at..end).and_then(|b| b.try_into().ok()).ok_or(NoteError::Truncated)
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, NoteError> {
    read::<4>(bytes, at).map(u32::from_le_bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, NoteError> {
    read::<8>(bytes, at).map(u64::from_le_bytes)
}

/// Calls `found` with every note named `Xen` in the file's `PT_NOTE` segments, in order.
pub fn for_each_xen_note<'a>(
    elf: &'a [u8],
    mut found: impl FnMut(XenNote<'a>),
) -> Result<(), NoteError> {
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
        return Err(NoteError::NotElf64);
    }
    let phoff = u64_at(elf, 0x20)? as usize;
    let phentsize = usize::from(u16::from_le_bytes(read(elf, 0x36)?));
    let phnum = usize::from(u16::from_le_bytes(read(elf, 0x38)?));
    for index in 0..phnum {
        let header = index
            .checked_mul(phentsize)
            .and_then(|o| o.checked_add(phoff))
            .ok_or(NoteError::Truncated)?;
        if u32_at(elf, header)? != PT_NOTE {
            continue;
        }
        let offset = u64_at(elf, header + 8)? as usize;
        let size = u64_at(elf, header + 32)? as usize;
        let end = offset.checked_add(size).ok_or(NoteError::Truncated)?;
        let mut notes = elf.get(offset..end).ok_or(NoteError::Truncated)?;
        while notes.len() >= 12 {
            let name_size = u32_at(notes, 0)? as usize;
            let desc_size = u32_at(notes, 4)? as usize;
            let kind = u32_at(notes, 8)?;
            let name_end = 12usize.checked_add(name_size).ok_or(NoteError::Truncated)?;
            let desc_start = name_end.checked_next_multiple_of(4).ok_or(NoteError::Truncated)?;
            let desc_end = desc_start.checked_add(desc_size).ok_or(NoteError::Truncated)?;
            let next = desc_end.checked_next_multiple_of(4).ok_or(NoteError::Truncated)?;
            let name = notes.get(12..name_end).ok_or(NoteError::Truncated)?;
            let desc = notes.get(desc_start..desc_end).ok_or(NoteError::Truncated)?;
            if name == b"Xen\0" {
                found(XenNote { kind, desc });
            }
            notes = notes.get(next..).unwrap_or_default();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 with one PT_NOTE segment holding `notes`.
    fn elf_with(notes: &[u8]) -> Vec<u8> {
        let mut elf = vec![0u8; 64 + 56];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&PT_NOTE.to_le_bytes());
        elf[64 + 8..64 + 16].copy_from_slice(&120u64.to_le_bytes());
        elf[64 + 32..64 + 40].copy_from_slice(&(notes.len() as u64).to_le_bytes());
        elf.extend_from_slice(notes);
        elf
    }

    fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(name);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(desc);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    #[test]
    fn xen_notes_are_found_and_others_skipped() {
        let mut notes = note(b"Xen\0", 5, b"xen-3.0\0");
        notes.extend(note(b"GNU\0", 3, &[1, 2, 3, 4]));
        notes.extend(note(b"Xen\0", 18, &0x10_0000u64.to_le_bytes()));
        let elf = elf_with(&notes);
        let mut seen = Vec::new();
        for_each_xen_note(&elf, |n| seen.push((n.kind, n.text(), n.number()))).unwrap();
        assert_eq!(
            seen,
            [(5, Some("xen-3.0"), Some(0x0030_2e33_2d6e_6578)), (18, None, Some(0x10_0000))]
        );
    }

    #[test]
    fn broken_files_are_errors() {
        assert_eq!(for_each_xen_note(b"MZ", |_| {}), Err(NoteError::NotElf64));
        let mut notes = note(b"Xen\0", 5, b"xen-3.0\0");
        notes[4..8].copy_from_slice(&1000u32.to_le_bytes()); // a descriptor past the segment
        assert_eq!(for_each_xen_note(&elf_with(&notes), |_| {}), Err(NoteError::Truncated));
        let mut elf = elf_with(&note(b"Xen\0", 1, &[0; 8]));
        elf[64 + 32..64 + 40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(for_each_xen_note(&elf, |_| {}), Err(NoteError::Truncated));
    }
}
