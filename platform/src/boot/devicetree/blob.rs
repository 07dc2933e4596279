//! The DTB as the loader handed it over: claimed, then checked as it is read.
//!
//! The blob is untrusted (a "claimed, not checked" input): [`Blob::claim`] checks the header
//! (Devicetree Specification v0.4, §5.2) before trusting `totalsize`, and [`Tokens`] walks the
//! structure block (§5.4) checking every token as it goes — bounds, alignment, nesting, the
//! properties-before-children order — so a truncated or corrupt blob becomes a [`BootError`],
//! never an out-of-bounds read. Nothing here panics on any input.
//!
//! Why not the `fdt` crate: it trusts its input (a truncated property, a bad string offset or
//! deep nesting make it panic; `FDT_NOP` tokens make it skip nodes) and walks the whole tree on
//! every lookup, which cost ~0.7 ms of guest time on QEMU's DTB, against one pass here.

use super::error::BootError;
use rivet_core::memory::PhysRange;

/// `0xd00dfeed`, big-endian, at offset 0.
const MAGIC: u32 = 0xd00d_feed;
/// Bytes in a version-17 header (ten big-endian 32-bit words).
const HEADER_SIZE: usize = 40;
/// The largest DTB accepted, as Linux's arm64 `MAX_FDT_SIZE`. QEMU's are 1 MiB.
pub const MAX_SIZE: usize = 2 << 20;
/// Deepest node nesting accepted; real trees are under 10 deep.
pub const MAX_DEPTH: usize = 16;
/// Most /memreserve/ entries read.
const MAX_RESERVATIONS: usize = 64;

const FDT_BEGIN_NODE: u32 = 0x1;
const FDT_END_NODE: u32 = 0x2;
const FDT_PROP: u32 = 0x3;
const FDT_NOP: u32 = 0x4;
const FDT_END: u32 = 0x9;

/// A DTB whose header has been checked.
#[derive(Clone, Copy)]
pub struct Blob<'a> {
    bytes: &'a [u8],
    structure: &'a [u8],
    /// The structure block as (big-endian) words: tokens are word-aligned, and word loads are
    /// far cheaper than assembling each word from bytes.
    words: &'a [u32],
    strings: &'a [u8],
    reservations: usize,
}

/// Big-endian word at byte `at`, if the slice holds it.
fn word_at(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

/// Big-endian double word at byte `at`, if the slice holds it.
fn double_word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let high = word_at(bytes, at)?;
    let low = word_at(bytes, at.checked_add(4)?)?;
    Some((u64::from(high) << 32) | u64::from(low))
}

/// The block `[offset, offset + size)` of `bytes`, if it lies inside.
fn block(bytes: &[u8], offset: u32, size: u32) -> Option<&[u8]> {
    let start = offset as usize;
    bytes.get(start..start.checked_add(size as usize)?)
}

/// The bytes from `at` up to (not including) the next NUL, if there is one.
fn until_nul(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let rest = bytes.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..len])
}

impl Blob<'static> {
    /// Checks the header of the DTB the loader put at `address` and takes the blob.
    ///
    /// # Safety
    /// 1. If `address` is not 0, the loader's claim holds at least this far: from `address`,
    ///    the 40-byte header and then `totalsize` bytes (at most [`MAX_SIZE`]) are readable
    ///    memory that the kernel never writes — the caller reserves the blob's range and keeps
    ///    it mapped.
    pub unsafe fn claim(address: u64) -> Result<Self, BootError> {
        if address == 0 {
            return Err(BootError::NoDtb);
        }
        if !address.is_multiple_of(8) {
            return Err(BootError::MisalignedDtb(address));
        }
        // SAFETY: the header is readable (obligation 1).
        let header = unsafe { core::slice::from_raw_parts(address as *const u8, HEADER_SIZE) };
        let magic = word_at(header, 0).unwrap_or(0);
        if magic != MAGIC {
            return Err(BootError::BadMagic(magic));
        }
        let total = word_at(header, 4).unwrap_or(0) as usize;
        if !(HEADER_SIZE..=MAX_SIZE).contains(&total) {
            return Err(BootError::BadHeader("totalsize is below 40 bytes or above 2 MiB"));
        }
        // SAFETY: `total` bytes are readable and never written (obligation 1), for the whole run.
        let bytes: &'static [u8] =
            unsafe { core::slice::from_raw_parts(address as *const u8, total) };
        Blob::parse(bytes)
    }
}

impl<'a> Blob<'a> {
    /// Checks the header of the blob `bytes` (exactly `totalsize` bytes).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BootError> {
        let word = |index: usize| word_at(bytes, index * 4);
        let (Some(magic), Some(total)) = (word(0), word(1)) else {
            return Err(BootError::BadHeader("shorter than the 40-byte header"));
        };
        if magic != MAGIC {
            return Err(BootError::BadMagic(magic));
        }
        if bytes.len() < HEADER_SIZE || total as usize != bytes.len() {
            return Err(BootError::BadHeader("totalsize does not match the blob"));
        }
        let word = |index: usize| word(index).unwrap_or(0);
        // Version 17 added size_dt_struct; 16 and older are long gone.
        if word(5) < 17 || word(6) > 17 {
            return Err(BootError::BadHeader("version is not compatible with 17"));
        }
        let (structure_offset, strings_offset, reservations) = (word(2), word(3), word(4));
        let (strings_size, structure_size) = (word(8), word(9));
        if !structure_offset.is_multiple_of(4) || !reservations.is_multiple_of(8) {
            return Err(BootError::BadHeader("a block is misaligned"));
        }
        let structure = block(bytes, structure_offset, structure_size)
            .ok_or(BootError::BadHeader("structure block runs past totalsize"))?;
        let strings = block(bytes, strings_offset, strings_size)
            .ok_or(BootError::BadHeader("strings block runs past totalsize"))?;
        // SAFETY: every bit pattern is a valid u32, so viewing bytes as words is sound; align_to
        // puts any unaligned head in `head`, which is checked empty below.
        let (head, words, _) = unsafe { structure.align_to::<u32>() };
        if !head.is_empty() {
            return Err(BootError::MisalignedDtb(structure.as_ptr() as u64));
        }
        Ok(Self { bytes, structure, words, strings, reservations: reservations as usize })
    }

    /// Where the blob lies, if it was claimed from memory.
    pub fn range(&self) -> PhysRange {
        PhysRange::from_start_len(self.bytes.as_ptr() as u64, self.bytes.len() as u64)
    }

    /// Calls `each` with every /memreserve/ entry (§5.3).
    pub fn reservations(
        &self,
        mut each: impl FnMut(PhysRange) -> Result<(), BootError>,
    ) -> Result<(), BootError> {
        let bad = BootError::BadReservations;
        let mut at = self.reservations;
        for _ in 0..=MAX_RESERVATIONS {
            let address = double_word_at(self.bytes, at).ok_or(bad("runs past totalsize"))?;
            let size = double_word_at(self.bytes, at + 8).ok_or(bad("runs past totalsize"))?;
            if address == 0 && size == 0 {
                return Ok(());
            }
            if address.checked_add(size).is_none() {
                return Err(bad("an entry wraps around the address space"));
            }
            each(PhysRange::from_start_len(address, size))?;
            at += 16;
        }
        Err(bad("more than 64 entries"))
    }

    /// The name of a property, from the strings block; `None` if it is not NUL-terminated there.
    pub fn property_name(&self, name: Name) -> Option<&'a [u8]> {
        until_nul(self.strings, name.0 as usize)
    }

    /// The structure block's tokens, checked one by one.
    pub fn tokens(&self) -> Tokens<'a> {
        Tokens {
            structure: self.structure,
            words: self.words,
            strings_len: self.strings.len(),
            at: 0,
            last: 0,
            depth: 0,
            seen_root: false,
            properties_allowed: false,
            done: false,
        }
    }
}

/// One structure-block token (`FDT_NOP`s are skipped).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Token<'a> {
    /// `FDT_BEGIN_NODE`: a node starts (the root's name is empty).
    Begin {
        /// The node's name, `name@unit-address`.
        name: &'a [u8],
    },
    /// `FDT_END_NODE`: the innermost open node ends.
    End,
    /// `FDT_PROP`: a property of the innermost open node.
    Property {
        /// The property's name, for [`Blob::property_name`].
        name: Name,
        /// Its raw value.
        value: &'a [u8],
    },
}

/// A property name: its offset in the strings block (checked to lie inside). Most names are
/// never looked at, and the same offset always names the same property, so readers resolve and
/// cache names by offset rather than scanning every one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Name(pub u32);

/// The checked walk over the structure block. Ends (`None`) after `FDT_END`, or after the first
/// error, which it yields once.
pub struct Tokens<'a> {
    structure: &'a [u8],
    words: &'a [u32],
    strings_len: usize,
    /// Byte offset of the next token (a multiple of 4).
    at: usize,
    /// Byte offset of the last token returned.
    last: usize,
    depth: usize,
    seen_root: bool,
    /// Properties must precede a node's children (§5.4.2), which the reader relies on.
    properties_allowed: bool,
    done: bool,
}

impl<'a> Tokens<'a> {
    /// How deep the walk is: 1 inside the root node.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The byte offset of the last token returned, which identifies a node by its
    /// `FDT_BEGIN_NODE`.
    pub fn offset(&self) -> usize {
        self.last
    }

    /// The big-endian word at byte offset `at` (a multiple of 4).
    fn word(&self, at: usize) -> Option<u32> {
        self.words.get(at / 4).map(|&w| u32::from_be(w))
    }

    /// The length of the NUL-terminated node name starting at byte `at` (a multiple of 4),
    /// scanning a word at a time.
    fn name_len(&self, at: usize) -> Option<usize> {
        let first = at / 4;
        for (index, &word) in self.words.get(first..)?.iter().enumerate() {
            // Bytes in memory order are the word's little-end first on a little-endian load.
            let word = u32::from_le(word);
            // The classic "has a zero byte" test; its lowest set bit marks the first zero byte
            // (borrows only run towards higher bytes).
            let zeros = word.wrapping_sub(0x0101_0101) & !word & 0x8080_8080;
            if zeros != 0 {
                return Some(index * 4 + zeros.trailing_zeros() as usize / 8);
            }
        }
        None
    }

    #[inline(always)]
    fn next_token(&mut self) -> Result<Option<Token<'a>>, BootError> {
        // Skip FDT_NOPs (left by in-place edits such as libfdt's `fdt_nop_node`).
        while self.word(self.at) == Some(FDT_NOP) {
            self.at += 4;
        }
        let at = self.at;
        self.last = at;
        let bad = |problem| BootError::BadStructure { offset: at, problem };
        let Some(token) = self.word(at) else {
            return Err(bad("ends before FDT_END (truncated?)"));
        };
        match token {
            FDT_BEGIN_NODE => {
                if self.depth == 0 && self.seen_root {
                    return Err(bad("a second root node"));
                }
                let Some(len) = self.name_len(at + 4) else {
                    return Err(bad("unterminated node name"));
                };
                if self.depth == 0 && len != 0 {
                    return Err(bad("the root node has a name"));
                }
                if self.depth == MAX_DEPTH {
                    return Err(bad("nodes nested too deep"));
                }
                self.depth += 1;
                self.seen_root = true;
                self.properties_allowed = true;
                self.at = align4(at + 4 + len + 1);
                let name = self.structure.get(at + 4..at + 4 + len).unwrap_or_default();
                Ok(Some(Token::Begin { name }))
            }
            FDT_END_NODE => {
                if self.depth == 0 {
                    return Err(bad("FDT_END_NODE outside any node"));
                }
                self.depth -= 1;
                self.properties_allowed = false;
                self.at = at + 4;
                Ok(Some(Token::End))
            }
            FDT_PROP => {
                if self.depth == 0 {
                    return Err(bad("property outside any node"));
                }
                if !self.properties_allowed {
                    return Err(bad("property after a child node"));
                }
                let (Some(len), Some(name)) = (self.word(at + 4), self.word(at + 8)) else {
                    return Err(bad("truncated property"));
                };
                let Some(value) =
                    self.structure.get(at + 12..(at + 12).saturating_add(len as usize))
                else {
                    return Err(bad("property value runs past the structure block"));
                };
                if name as usize >= self.strings_len {
                    return Err(bad("property name outside the strings block"));
                }
                self.at = align4(at + 12 + value.len());
                Ok(Some(Token::Property { name: Name(name), value }))
            }
            FDT_END => {
                if self.depth != 0 || !self.seen_root {
                    return Err(bad("FDT_END inside a node or before the root node"));
                }
                Ok(None)
            }
            _ => Err(bad("unknown token")),
        }
    }
}

/// Rounds up to the next 4-byte boundary (token alignment). The offsets here are below 2 MiB.
fn align4(value: usize) -> usize {
    (value + 3) & !3
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, BootError>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let token = self.next_token();
        self.done = !matches!(token, Ok(Some(_)));
        token.transpose()
    }
}
