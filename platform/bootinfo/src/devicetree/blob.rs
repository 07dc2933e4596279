//! The DTB as the loader handed it over: header checked first, tokens checked as they are read.
//!
//! The blob is untrusted (a "claimed, not checked" input): [`claimed_size`] checks the magic and
//! `totalsize` before the caller trusts the latter, [`Blob::parse`] checks the rest of the header
//! (Devicetree Specification v0.4, §5.2), and [`Tokens`] walks the structure block (§5.4) checking
//! every token as it goes — bounds, alignment, nesting, the properties-before-children order — so
//! a truncated or corrupt blob becomes an [`Error`], never an out-of-bounds read or a panic.
//!
//! Words are read with `u32::from_be_bytes` from bounds-checked slices, so the blob may lie at any
//! address and no `unsafe` is needed. Trade-off: the bare-metal targets are built `+strict-align`
//! (with the MMU off every access is Device memory, where an unaligned load faults) and a `&[u8]`
//! promises no alignment, so each word costs four byte loads rather than one — about 6,000 more
//! instructions over QEMU's DTB than the earlier `&[u32]` view. Scanning names a chunk at a time
//! ([`find_nul`]) and the discovery's shortcuts win most of it back: under `-icount shift=0`,
//! first instruction to `main` went from 77.4 to 79.3 µs. On hardware with the MMU off each byte
//! load is an uncached access, so the cost is larger there; the walk is still a single pass.

use super::error::{Error, Result};
use rivet_core::memory::PhysRange;

/// `0xd00dfeed`, big-endian, at offset 0.
const MAGIC: u32 = 0xd00d_feed;
/// Bytes in a version-17 header (ten big-endian 32-bit words).
pub const HEADER_SIZE: usize = 40;
/// The largest DTB accepted, as Linux's arm64 `MAX_FDT_SIZE`. QEMU's are 1 MiB.
pub const MAX_SIZE: usize = 2 << 20;
/// Deepest node nesting accepted (the root is depth 1); real trees are under 10 deep.
pub const MAX_DEPTH: usize = 16;
/// Most /memreserve/ entries read.
const MAX_RESERVATIONS: usize = 64;

// Structure-block tokens (§5.4.1). FDT_END is 9: the `fdt` crate's 5 is no token at all.
const FDT_BEGIN_NODE: u32 = 0x1;
const FDT_END_NODE: u32 = 0x2;
const FDT_PROP: u32 = 0x3;
const FDT_NOP: u32 = 0x4;
const FDT_END: u32 = 0x9;

/// Big-endian word at byte `at`, if the slice holds it.
#[inline(always)]
fn word_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(*bytes.get(at..)?.first_chunk::<4>()?))
}

/// Big-endian double word at byte `at`, if the slice holds it.
fn double_word_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(*bytes.get(at..)?.first_chunk::<8>()?))
}

/// The block `[offset, offset + size)` of `bytes`, if it lies inside.
fn block(bytes: &[u8], offset: u32, size: u32) -> Option<&[u8]> {
    let start = offset as usize;
    bytes.get(start..start.checked_add(size as usize)?)
}

/// The index of the first NUL in `bytes`, if there is one. Every node name and `compatible` list
/// is scanned with this, and the bare-metal targets load bytes one at a time, so it tests a
/// four-byte chunk per loop step rather than paying the loop's overhead per byte (`memchr` does
/// worse on such short strings: its head and tail go byte by byte).
#[inline(always)]
pub(super) fn find_nul(bytes: &[u8]) -> Option<usize> {
    let (chunks, tail) = bytes.as_chunks::<4>();
    for (index, chunk) in chunks.iter().enumerate() {
        let within = match *chunk {
            [0, ..] => 0,
            [_, 0, ..] => 1,
            [_, _, 0, _] => 2,
            [_, _, _, 0] => 3,
            _ => continue,
        };
        return Some(index * 4 + within);
    }
    let within = tail.iter().position(|&b| b == 0)?;
    Some(chunks.len() * 4 + within)
}

/// The bytes from `at` up to (not including) the next NUL, if there is one.
#[inline(always)]
fn until_nul(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let rest = bytes.get(at..)?;
    rest.get(..find_nul(rest)?)
}

/// How many bytes to take at the loader's DTB address, from the blob's first bytes `header`
/// (at least [`HEADER_SIZE`] of them): `totalsize`, once the magic is right and it lies within
/// [`HEADER_SIZE`]`..=`[`MAX_SIZE`]. This is what a platform checks before it trusts `totalsize`
/// enough to make a slice of it.
pub fn claimed_size(header: &[u8]) -> Result<'static, usize> {
    let (Some(magic), Some(total)) = (word_at(header, 0), word_at(header, 4)) else {
        return Err(Error::BadHeader("shorter than the 40-byte header"));
    };
    if magic != MAGIC {
        return Err(Error::BadMagic(magic));
    }
    if header.len() < HEADER_SIZE {
        return Err(Error::BadHeader("shorter than the 40-byte header"));
    }
    let total = total as usize;
    if !(HEADER_SIZE..=MAX_SIZE).contains(&total) {
        return Err(Error::BadHeader("totalsize is below 40 bytes or above 2 MiB"));
    }
    Ok(total)
}

/// A DTB whose header has been checked.
#[derive(Clone, Copy, Debug)]
pub struct Blob<'a> {
    bytes: &'a [u8],
    structure: &'a [u8],
    strings: &'a [u8],
    /// Byte offset of the memory reservation block (a multiple of 8).
    reservations: usize,
}

impl<'a> Blob<'a> {
    /// Checks the header of the blob `bytes`, which must be exactly `totalsize` bytes long: the
    /// magic, the version (17, or compatible with it), and that the structure and strings blocks
    /// lie inside and are aligned. The blocks' contents are checked as they are read.
    pub fn parse(bytes: &'a [u8]) -> Result<'a, Self> {
        let word = |index: usize| word_at(bytes, index * 4);
        let (Some(magic), Some(total)) = (word(0), word(1)) else {
            return Err(Error::BadHeader("shorter than the 40-byte header"));
        };
        if magic != MAGIC {
            return Err(Error::BadMagic(magic));
        }
        if bytes.len() < HEADER_SIZE || total as usize != bytes.len() {
            return Err(Error::BadHeader("totalsize does not match the blob"));
        }
        let word = |index: usize| word(index).unwrap_or(0);
        // Version 17 added size_dt_struct; 16 and older are long gone.
        if word(5) < 17 || word(6) > 17 {
            return Err(Error::BadHeader("version is not compatible with 17"));
        }
        let (structure_offset, strings_offset, reservations) = (word(2), word(3), word(4));
        let (strings_size, structure_size) = (word(8), word(9));
        if !structure_offset.is_multiple_of(4) || !reservations.is_multiple_of(8) {
            return Err(Error::BadHeader("a block is misaligned"));
        }
        let structure = block(bytes, structure_offset, structure_size)
            .ok_or(Error::BadHeader("structure block runs past totalsize"))?;
        let strings = block(bytes, strings_offset, strings_size)
            .ok_or(Error::BadHeader("strings block runs past totalsize"))?;
        Ok(Self { bytes, structure, strings, reservations: reservations as usize })
    }

    /// The whole blob, `totalsize` bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Calls `each` with every /memreserve/ entry (§5.3), stopping at the first error, which
    /// `each` may also return.
    pub fn reservations(&self, mut each: impl FnMut(PhysRange) -> Result<'a>) -> Result<'a> {
        let bad = Error::BadReservations;
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

    /// The strings block from `name`'s offset to its end (empty if the offset lies beyond), for
    /// comparing a name with known ones without measuring it first.
    pub(super) fn strings_from(&self, name: Name) -> &'a [u8] {
        self.strings.get(name.0 as usize..).unwrap_or_default()
    }

    /// The structure block's tokens, checked one by one.
    pub fn tokens(&self) -> Tokens<'a> {
        let whole_words = self.structure.len() & !3;
        Tokens {
            structure: self.structure,
            names: self.structure.get(..whole_words).unwrap_or_default(),
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
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    structure: &'a [u8],
    /// The structure block up to its last whole word: node names end inside it, like tokens.
    names: &'a [u8],
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
    /// How deep the walk is: 1 inside the root node, 0 outside it.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The byte offset (in the structure block) of the last token returned, which identifies a
    /// node by its `FDT_BEGIN_NODE`.
    pub fn offset(&self) -> usize {
        self.last
    }

    #[inline(always)]
    fn next_token(&mut self) -> Result<'a, Option<Token<'a>>> {
        // Skip FDT_NOPs (left by in-place edits such as libfdt's `fdt_nop_node`, which QEMU
        // uses on the memory nodes of a DTB given with `-dtb`).
        let mut token = word_at(self.structure, self.at);
        while token == Some(FDT_NOP) {
            self.at += 4;
            token = word_at(self.structure, self.at);
        }
        let at = self.at;
        self.last = at;
        let bad = |problem| Error::BadStructure { offset: at, problem };
        let Some(token) = token else {
            return Err(bad("ends before FDT_END (truncated?)"));
        };
        match token {
            FDT_BEGIN_NODE => {
                if self.depth == 0 && self.seen_root {
                    return Err(bad("a second root node"));
                }
                let Some(name) = until_nul(self.names, at + 4) else {
                    return Err(bad("unterminated node name"));
                };
                if self.depth == 0 && !name.is_empty() {
                    return Err(bad("the root node has a name"));
                }
                if self.depth == MAX_DEPTH {
                    return Err(bad("nodes nested too deep"));
                }
                self.depth += 1;
                self.seen_root = true;
                self.properties_allowed = true;
                self.at = align4(at + 4 + name.len() + 1);
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
                // Length and name offset in one bounds check.
                let Some(&[a, b, c, d, e, f, g, h]) =
                    self.structure.get(at + 4..).and_then(|rest| rest.first_chunk::<8>())
                else {
                    return Err(bad("truncated property"));
                };
                let (len, name) =
                    (u32::from_be_bytes([a, b, c, d]), u32::from_be_bytes([e, f, g, h]));
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

/// Rounds up to the next 4-byte boundary (token alignment). The offsets here are below 4 GiB
/// plus a few bytes, far from overflowing.
fn align4(value: usize) -> usize {
    (value + 3) & !3
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<'a, Token<'a>>;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_nuls_in_chunks_and_tail() {
        assert_eq!(find_nul(b""), None);
        assert_eq!(find_nul(b"\0"), Some(0));
        assert_eq!(find_nul(b"abc"), None);
        for at in 0..11 {
            let mut bytes = *b"abcdefghijk";
            bytes[at] = 0;
            assert_eq!(find_nul(&bytes), Some(at), "NUL at {at}");
        }
        assert_eq!(find_nul(b"abcdefgh\0\0"), Some(8));
        assert_eq!(until_nul(b"abc\0def\0", 4), Some(&b"def"[..]));
        assert_eq!(until_nul(b"abc\0def", 4), None);
        assert_eq!(until_nul(b"abc\0", 5), None);
    }

    #[test]
    fn words_and_blocks_stay_inside() {
        let bytes = [0xd0, 0x0d, 0xfe, 0xed, 1, 2, 3, 4, 5];
        assert_eq!(word_at(&bytes, 0), Some(MAGIC));
        assert_eq!(word_at(&bytes, 5), Some(0x0203_0405));
        assert_eq!(word_at(&bytes, 6), None);
        assert_eq!(word_at(&bytes, usize::MAX), None);
        assert_eq!(double_word_at(&bytes, 1), Some(0x0dfe_ed01_0203_0405));
        assert_eq!(double_word_at(&bytes, 2), None);
        assert_eq!(block(&bytes, 4, 5), Some(&bytes[4..]));
        assert_eq!(block(&bytes, 4, 6), None);
        assert_eq!(block(&bytes, u32::MAX, u32::MAX), None);
        assert_eq!(align4(0), 0);
        assert_eq!(align4(5), 8);
        assert_eq!(align4(8), 8);
    }
}
