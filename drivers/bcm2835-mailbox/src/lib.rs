//! The Raspberry Pi firmware's mailbox property channel: asking the VideoCore how much RAM the
//! ARM cores have (and the board revision).
//!
//! The BCM2835 family's mailbox (DTB `brcm,bcm2835-mbox`, bus address 0x7e00_b880) carries
//! 32-bit words between the ARM and the VideoCore; the low 4 bits name a channel, the rest is
//! the bus address of a 16-byte aligned message. On channel 8, the *property* channel, the
//! message is a list of tags the firmware answers in place (Raspberry Pi firmware wiki,
//! "Mailbox property interface"; Linux `drivers/mailbox/bcm2835-mailbox.c` and
//! `include/soc/bcm2835/raspberrypi-firmware.h`). Two tags are asked: GET_ARM_MEMORY
//! (0x0001_0005, base and size of the ARM's share of RAM) and GET_BOARD_REVISION (0x0001_0002).
//!
//! Two halves: [`Message`] and [`Reply::parse`] are plain data, host-tested, and check every
//! length and code of an answer (a malformed one is a [`MailboxError`], never a panic);
//! [`Mailbox::call`] is the MMIO transport.
//!
//! What "visible to the VideoCore" takes: the VideoCore reads the message through its bus
//! addresses, where both the Pi 3's and the Pi 4's DTBs (`/soc/dma-ranges`) put the first GiB
//! of ARM RAM at 0xc000_0000 (the L2-uncached alias); [`bus_address`] does that translation, so
//! the message must lie in the first GiB. QEMU (`hw/misc/bcm2835_property.c`) masks the channel
//! bits and reads the message through its GPU bus, where RAM is aliased at 0, 0x4000_0000,
//! 0x8000_0000 and 0xc000_0000, so either form works there. The ARM side must make the message
//! reach RAM before the doorbell and see the firmware's answer after it: with the MMU off (how
//! the devicetree boot calls this) data accesses are non-cacheable and ordered, so nothing more
//! is needed; with the data cache on, the caller must clean the message to the point of
//! coherency before [`Mailbox::call`] and invalidate it after (the crate has no `asm!`), or
//! keep it in non-cacheable memory.
//!
//! Weak spots: replies for other channels that arrive while waiting are dropped; the waits are
//! bounded spins, not timed.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use core::sync::atomic::{fence, Ordering};
use tock_registers::interfaces::{Readable, Writeable};

/// The register block and its bits, named as in Linux's `bcm2835-mailbox.c`.
// The macros generate helper items that cannot carry docs.
#[allow(missing_docs, non_snake_case, non_camel_case_types)]
pub mod registers {
    use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
    use tock_registers::{register_bitfields, register_structs};

    register_bitfields! {u32,
        /// A mailbox's status (MAIL0_STA, MAIL1_STA).
        pub STATUS [
            /// No word waiting (mailbox 0: nothing for the ARM to read).
            EMPTY OFFSET(30) NUMBITS(1) [],
            /// No room (mailbox 1: the ARM must wait before writing).
            FULL OFFSET(31) NUMBITS(1) []
        ]
    }

    register_structs! {
        /// The ARM's view of the two mailboxes: 0 is VideoCore → ARM, 1 is ARM → VideoCore.
        pub Registers {
            (0x00 => pub MAIL0_RD: ReadOnly<u32>),
            (0x04 => _reserved0),
            (0x10 => pub MAIL0_POL: ReadOnly<u32>),
            (0x14 => pub MAIL0_SND: ReadOnly<u32>),
            (0x18 => pub MAIL0_STA: ReadOnly<u32, STATUS::Register>),
            (0x1c => pub MAIL0_CNF: ReadWrite<u32>),
            (0x20 => pub MAIL1_WRT: WriteOnly<u32>),
            (0x24 => _reserved1),
            (0x38 => pub MAIL1_STA: ReadOnly<u32, STATUS::Register>),
            (0x3c => _reserved2),
            (0x40 => @END),
        }
    }
}

pub use registers::{Registers, STATUS};

/// The property channel (ARM → VideoCore).
pub const CHANNEL_PROPERTY: u32 = 8;
/// Tag: the board revision code (one word).
pub const TAG_GET_BOARD_REVISION: u32 = 0x0001_0002;
/// Tag: the ARM's memory, base and size in bytes (two words).
pub const TAG_GET_ARM_MEMORY: u32 = 0x0001_0005;
/// The end tag.
const TAG_END: u32 = 0;
/// The buffer code of a request.
const REQUEST: u32 = 0;
/// The buffer code the firmware sets when it answered.
pub const RESPONSE_SUCCESS: u32 = 0x8000_0000;
/// The buffer code the firmware sets when it could not parse the request.
pub const RESPONSE_ERROR: u32 = 0x8000_0001;
/// Bit 31 of a tag's request/response word: set by the firmware on the tags it answered.
const TAG_RESPONSE: u32 = 1 << 31;

/// Where the first GiB of ARM RAM appears on the VideoCore's bus (`/soc/dma-ranges` of the Pi 3
/// and Pi 4 DTBs): the L2-uncached alias.
pub const BUS_ALIAS: u32 = 0xc000_0000;
/// How much ARM RAM that alias covers.
pub const BUS_ALIAS_SIZE: u64 = 0x4000_0000;

/// Words in [`Message`].
pub const WORDS: usize = 12;

/// Polls allowed for room in mailbox 1 or for the answer in mailbox 0. The firmware answers
/// these tags within microseconds; the bound only stops a dead mailbox from hanging the boot.
const MAX_POLLS: u32 = 10_000_000;

/// Why the firmware's memory could not be learnt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MailboxError {
    /// The mailbox base is null or not 64-byte aligned.
    BadBase(usize),
    /// The message does not lie in the first GiB of RAM, which the VideoCore's bus alias covers.
    NotBusAddressable(u64),
    /// Mailbox 1 stayed full, or no answer came.
    Timeout,
    /// The buffer's size word is not a multiple of 4, is below 12 or exceeds the buffer.
    BadSize(u32),
    /// The firmware did not process the request (the code is still 0).
    NotProcessed,
    /// The firmware could not parse the request (code 0x8000_0001).
    FirmwareError,
    /// An unknown buffer code.
    BadResponseCode(u32),
    /// A tag's header or value runs past the end of the message.
    Truncated {
        /// The tag whose header or value does not fit.
        tag: u32,
    },
    /// The firmware did not answer a tag that must be answered.
    Unanswered(u32),
    /// A tag's answer is shorter than its value.
    ShortValue {
        /// The tag.
        tag: u32,
        /// The length the firmware reported, in bytes.
        length: u32,
    },
    /// GET_ARM_MEMORY reported no memory.
    NoMemory,
}

impl fmt::Display for MailboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailboxError::BadBase(base) => {
                write!(f, "mailbox: base address {base:#x} is not usable")
            }
            MailboxError::NotBusAddressable(at) => write!(
                f,
                "mailbox: the message at {at:#x} lies outside the first GiB the VideoCore sees"
            ),
            MailboxError::Timeout => f.write_str("mailbox: the VideoCore did not answer"),
            MailboxError::BadSize(size) => {
                write!(f, "mailbox: the answer's size word {size:#x} is not usable")
            }
            MailboxError::NotProcessed => {
                f.write_str("mailbox: the firmware did not process the request")
            }
            MailboxError::FirmwareError => {
                f.write_str("mailbox: the firmware could not parse the request")
            }
            MailboxError::BadResponseCode(code) => {
                write!(f, "mailbox: unknown response code {code:#x}")
            }
            MailboxError::Truncated { tag } => {
                write!(f, "mailbox: tag {tag:#x} runs past the end of the answer")
            }
            MailboxError::Unanswered(tag) => {
                write!(f, "mailbox: the firmware did not answer tag {tag:#x}")
            }
            MailboxError::ShortValue { tag, length } => {
                write!(f, "mailbox: tag {tag:#x} answered with only {length} bytes")
            }
            MailboxError::NoMemory => f.write_str("mailbox: the firmware reports no ARM memory"),
        }
    }
}

impl core::error::Error for MailboxError {}

/// A property message, 16-byte aligned as the mailbox requires (the low 4 bits of its address
/// carry the channel).
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct Message(pub [u32; WORDS]);

impl Message {
    /// The request: GET_ARM_MEMORY, then GET_BOARD_REVISION, then the end tag.
    pub const fn request() -> Self {
        Message([
            (WORDS * 4) as u32,
            REQUEST,
            TAG_GET_ARM_MEMORY,
            8, // value buffer: base, size
            REQUEST,
            0,
            0,
            TAG_GET_BOARD_REVISION,
            4, // value buffer: the revision
            REQUEST,
            0,
            TAG_END,
        ])
    }
}

/// What the firmware answered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reply {
    /// Physical base of the ARM's RAM (0 on every Pi).
    pub base: u32,
    /// Its size in bytes (not 0); the VideoCore's share starts where it ends.
    pub size: u32,
    /// The board revision code (e.g. 0xa02082 for a Pi 3 B), if the firmware answered it.
    pub board_revision: Option<u32>,
}

impl Reply {
    /// Checks an answered message and takes GET_ARM_MEMORY (required) and GET_BOARD_REVISION
    /// (optional) out of it. Tags are found by walking the answer, so their order and any other
    /// tags do not matter; every size is checked against the words there are.
    pub fn parse(words: &[u32]) -> Result<Self, MailboxError> {
        let (&size, &code) = match words {
            [size, code, ..] => (size, code),
            _ => return Err(MailboxError::BadSize(0)),
        };
        let size_ok = size % 4 == 0 && size >= 12 && (size / 4) as usize <= words.len();
        if !size_ok {
            return Err(MailboxError::BadSize(size));
        }
        match code {
            RESPONSE_SUCCESS => {}
            REQUEST => return Err(MailboxError::NotProcessed),
            RESPONSE_ERROR => return Err(MailboxError::FirmwareError),
            other => return Err(MailboxError::BadResponseCode(other)),
        }
        let words = &words[..(size / 4) as usize];
        let mut memory = None;
        let mut board_revision = None;
        let mut at = 2;
        while let Some(&tag) = words.get(at) {
            if tag == TAG_END {
                break;
            }
            let (buffer, indicator) = match words.get(at + 1..at + 3) {
                Some(&[buffer, indicator]) => (buffer, indicator),
                _ => return Err(MailboxError::Truncated { tag }),
            };
            let value_words = (buffer / 4) as usize;
            let value = words
                .get(at + 3..)
                .and_then(|rest| rest.get(..value_words))
                .filter(|_| buffer % 4 == 0)
                .ok_or(MailboxError::Truncated { tag })?;
            let answered = indicator & TAG_RESPONSE != 0;
            let length = indicator & !TAG_RESPONSE;
            // The firmware reports the length it wanted to write; beyond the buffer it was cut.
            let value_of = |needed: usize| -> Result<&[u32], MailboxError> {
                if !answered {
                    return Err(MailboxError::Unanswered(tag));
                }
                if (length as usize) < needed * 4 || value.len() < needed {
                    return Err(MailboxError::ShortValue { tag, length });
                }
                Ok(&value[..needed])
            };
            match tag {
                TAG_GET_ARM_MEMORY => {
                    let value = value_of(2)?;
                    memory = Some((value[0], value[1]));
                }
                // Optional: an unanswered or short revision is left out, not an error.
                TAG_GET_BOARD_REVISION => board_revision = value_of(1).ok().map(|v| v[0]),
                _ => {}
            }
            at += 3 + value_words;
        }
        match memory {
            None => Err(MailboxError::Unanswered(TAG_GET_ARM_MEMORY)),
            Some((_, 0)) => Err(MailboxError::NoMemory),
            Some((base, size)) => Ok(Reply { base, size, board_revision }),
        }
    }

    /// The end of the ARM's RAM (exclusive), as a 64-bit physical address.
    pub fn end(&self) -> u64 {
        u64::from(self.base) + u64::from(self.size)
    }
}

/// The VideoCore bus address of ARM physical address `physical`, through the first-GiB alias
/// ([`BUS_ALIAS`]); `None` beyond it.
pub fn bus_address(physical: u64) -> Option<u32> {
    (physical < BUS_ALIAS_SIZE).then_some(BUS_ALIAS | physical as u32)
}

/// The mailbox's registers.
pub struct Mailbox {
    registers: &'static Registers,
}

// SAFETY: single volatile 32-bit register accesses; a call is a write then reads, which two
// cores could interleave (the platform calls it once, on the boot core).
unsafe impl Sync for Mailbox {}
// SAFETY: as for Sync; the device is not tied to a core.
unsafe impl Send for Mailbox {}

impl Mailbox {
    /// The mailbox whose registers start at `base` (the DTB node's `reg`, translated).
    ///
    /// # Safety
    /// 1. `base` is the address of a BCM2835-family mailbox's 64-byte register block, reachable
    ///    (identity-mapped as Device memory, or the MMU is off) while the value is used.
    /// 2. Nothing else uses the ARM side of the mailbox meanwhile (another driver would take
    ///    this one's answers, or it theirs).
    pub unsafe fn new(base: usize) -> Result<Self, MailboxError> {
        if base == 0 || !base.is_multiple_of(0x40) {
            return Err(MailboxError::BadBase(base));
        }
        // SAFETY: obligation 1 makes `base` a live, aligned (checked) register block for the
        // value's lifetime, which the 'static reference stands for.
        Ok(Self { registers: unsafe { &*(base as *const Registers) } })
    }

    /// Sends `message` on the property channel, waits for the firmware's answer and checks it.
    ///
    /// # Safety
    /// 1. `message`'s address is its physical address (the MMU is off, or it is identity-mapped).
    /// 2. The message reaches RAM before the doorbell and the firmware's answer is seen after it:
    ///    the data cache is off for it (MMU off, or non-cacheable memory), or the caller cleans
    ///    it to the point of coherency before and invalidates it after (see the crate docs).
    pub unsafe fn call(&self, message: &mut Message) -> Result<Reply, MailboxError> {
        let physical = message as *mut Message as u64;
        let bus = bus_address(physical).ok_or(MailboxError::NotBusAddressable(physical))?;
        let words = message.0.as_mut_ptr();
        // The VideoCore reads and writes the message behind the compiler's back: every word
        // goes through volatile accesses, ordered against the doorbell by fences.
        for i in 0..WORDS {
            let word = message.0[i];
            // SAFETY: `i` is in bounds of the message, which `message` lets us write.
            unsafe { words.add(i).write_volatile(word) };
        }
        fence(Ordering::SeqCst);
        let r = self.registers;
        if !poll(|| !r.MAIL1_STA.is_set(STATUS::FULL)) {
            return Err(MailboxError::Timeout);
        }
        let doorbell = bus | CHANNEL_PROPERTY;
        r.MAIL1_WRT.set(doorbell);
        // Answers for other channels (none are in use) are read and dropped.
        let answered = poll(|| !r.MAIL0_STA.is_set(STATUS::EMPTY) && r.MAIL0_RD.get() == doorbell);
        if !answered {
            return Err(MailboxError::Timeout);
        }
        fence(Ordering::SeqCst);
        for i in 0..WORDS {
            // SAFETY: in bounds, as above; the firmware has written its answer (obligation 2
            // makes it visible here).
            message.0[i] = unsafe { words.add(i).read_volatile() };
        }
        Reply::parse(&message.0)
    }
}

/// Spins until `done` holds, at most [`MAX_POLLS`] times; whether it did.
fn poll(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..MAX_POLLS {
        if done() {
            return true;
        }
        core::hint::spin_loop();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What QEMU 10.0's raspi3b answers (bcm2835_property.c): base 0, the RAM below the
    /// VideoCore's 64 MiB, revision 0xa02082; each tag's indicator is bit 31 | length.
    fn answered() -> Message {
        let mut m = Message::request();
        m.0[1] = RESPONSE_SUCCESS;
        (m.0[4], m.0[5], m.0[6]) = (TAG_RESPONSE | 8, 0, 0x3c00_0000);
        (m.0[9], m.0[10]) = (TAG_RESPONSE | 4, 0x00a0_2082);
        m
    }

    #[test]
    fn the_request_is_aligned_and_sized() {
        let m = Message::request();
        assert_eq!(core::mem::align_of::<Message>(), 16);
        assert_eq!(m.0[0] as usize, core::mem::size_of::<Message>());
        assert_eq!((m.0[2], m.0[3]), (TAG_GET_ARM_MEMORY, 8));
        assert_eq!((m.0[7], m.0[8]), (TAG_GET_BOARD_REVISION, 4));
        assert_eq!(m.0[WORDS - 1], TAG_END);
        assert_eq!(Reply::parse(&m.0), Err(MailboxError::NotProcessed));
    }

    #[test]
    fn a_good_answer() {
        let reply = Reply::parse(&answered().0).unwrap();
        assert_eq!(reply, Reply { base: 0, size: 0x3c00_0000, board_revision: Some(0xa02082) });
        assert_eq!(reply.end(), 0x3c00_0000);
    }

    #[test]
    fn the_revision_is_optional() {
        let mut m = answered();
        m.0[9] = 0; // not answered
        assert_eq!(Reply::parse(&m.0).unwrap().board_revision, None);
        m.0[9] = TAG_RESPONSE | 2; // too short
        assert_eq!(Reply::parse(&m.0).unwrap().board_revision, None);
    }

    #[test]
    fn tags_in_another_order_with_others_between() {
        let words = [
            4 * 14,
            RESPONSE_SUCCESS,
            0x0000_0001, // firmware revision, answered
            4,
            TAG_RESPONSE | 4,
            12345,
            TAG_GET_BOARD_REVISION,
            4,
            TAG_RESPONSE | 4,
            0xb03115,
            TAG_GET_ARM_MEMORY,
            8,
            TAG_RESPONSE | 8,
            0,
        ];
        // Size says 14 words but only 14 are there and the memory tag's value is cut: truncated.
        assert_eq!(Reply::parse(&words), Err(MailboxError::Truncated { tag: TAG_GET_ARM_MEMORY }));
        let mut longer = words.to_vec();
        longer.extend([0x4000_0000, TAG_END]);
        longer[0] = 4 * 16;
        let reply = Reply::parse(&longer).unwrap();
        assert_eq!(reply, Reply { base: 0, size: 0x4000_0000, board_revision: Some(0xb03115) });
    }

    #[test]
    fn malformed_answers_are_errors() {
        let parse = |edit: &dyn Fn(&mut Message)| {
            let mut m = answered();
            edit(&mut m);
            Reply::parse(&m.0)
        };
        assert_eq!(Reply::parse(&[]), Err(MailboxError::BadSize(0)));
        assert_eq!(Reply::parse(&[48]), Err(MailboxError::BadSize(0)));
        assert_eq!(parse(&|m| m.0[0] = 47), Err(MailboxError::BadSize(47)));
        assert_eq!(parse(&|m| m.0[0] = 8), Err(MailboxError::BadSize(8)));
        assert_eq!(parse(&|m| m.0[0] = 52), Err(MailboxError::BadSize(52)), "past the buffer");
        assert_eq!(parse(&|m| m.0[1] = RESPONSE_ERROR), Err(MailboxError::FirmwareError));
        assert_eq!(parse(&|m| m.0[1] = 7), Err(MailboxError::BadResponseCode(7)));
        assert_eq!(parse(&|m| m.0[4] = 0), Err(MailboxError::Unanswered(TAG_GET_ARM_MEMORY)));
        assert_eq!(
            parse(&|m| m.0[4] = TAG_RESPONSE | 4),
            Err(MailboxError::ShortValue { tag: TAG_GET_ARM_MEMORY, length: 4 })
        );
        assert_eq!(
            parse(&|m| m.0[3] = 4),
            Err(MailboxError::ShortValue { tag: TAG_GET_ARM_MEMORY, length: 8 }),
            "a value buffer smaller than the answer"
        );
        assert_eq!(
            parse(&|m| m.0[3] = 0x1000),
            Err(MailboxError::Truncated { tag: TAG_GET_ARM_MEMORY })
        );
        assert_eq!(
            parse(&|m| m.0[3] = 7),
            Err(MailboxError::Truncated { tag: TAG_GET_ARM_MEMORY }),
            "not whole words"
        );
        assert_eq!(
            parse(&|m| m.0[3] = u32::MAX - 3),
            Err(MailboxError::Truncated { tag: TAG_GET_ARM_MEMORY })
        );
        assert_eq!(parse(&|m| m.0[6] = 0), Err(MailboxError::NoMemory));
        // The size word cuts the message before the memory tag's header ends.
        assert_eq!(
            parse(&|m| m.0[0] = 16),
            Err(MailboxError::Truncated { tag: TAG_GET_ARM_MEMORY })
        );
        // No memory tag at all.
        assert_eq!(parse(&|m| m.0[2] = TAG_END), Err(MailboxError::Unanswered(TAG_GET_ARM_MEMORY)));
        for error in [MailboxError::Timeout, MailboxError::NoMemory, MailboxError::BadSize(3)] {
            assert!(error.to_string().starts_with("mailbox: "));
        }
    }

    #[test]
    fn bus_addresses() {
        assert_eq!(bus_address(0x8_0000), Some(0xc008_0000));
        assert_eq!(bus_address(0x3fff_fff0), Some(0xffff_fff0));
        assert_eq!(bus_address(0x4000_0000), None);
    }

    #[test]
    fn rejects_bad_bases() {
        for base in [0, 0x3f00_b884] {
            // SAFETY: rejected before anything is dereferenced.
            assert_eq!(unsafe { Mailbox::new(base) }.err(), Some(MailboxError::BadBase(base)));
        }
    }
}
