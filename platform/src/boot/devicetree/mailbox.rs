//! RAM from the Raspberry Pi firmware, for a devicetree without a usable `/memory`.
//!
//! The Pi firmware normally writes `/memory` into the DTB it hands over (Debian's
//! `bcm2711-rpi-4-b.dtb` ships `reg = <0 0 0>` there for it to fill; QEMU's `raspi*` machines
//! fill it the same way when they load a `-dtb`). Where it did not — the node missing, empty or
//! disabled — the reader reports no RAM but the VideoCore mailbox, and [`arm_memory`] asks the
//! firmware over the property channel (GET_ARM_MEMORY). Only then, or when the kernel parameter
//! `rivet.memory=firmware` asks for it ([`requested`]): a normal boot never touches the mailbox.
//!
//! The parameter exists because a tree's `/memory` can be wrong as well as missing: Debian's
//! `bcm2837-rpi-3-b.dtb` says 1 GiB, the VideoCore's share included, which only the firmware
//! corrects; and because QEMU cannot be made to omit `/memory` (it replaces every `/memory*`
//! node of a `-dtb` with its own), it is how the boot test `raspi4b-firmware` takes this path.
//!
//! It runs with the MMU off, so the message's address is its physical address and the data
//! cache is not in the way (what the driver's `call` requires); the message lives on the boot
//! stack, inside the image, which the firmware loads well inside the first GiB the VideoCore's
//! bus alias covers.

use super::error::BootError;
use rivet_bcm2835_mailbox::{Mailbox, Message, Reply};
use rivet_core::memory::PhysRange;

/// Asks the firmware behind the mailbox at `base` for the ARM's RAM.
///
/// # Safety
/// 1. The MMU is off (the message's address is physical and uncached), and `base` is the DTB's
///    `brcm,bcm2835-mbox`, translated; nothing else uses the mailbox during the call.
pub unsafe fn arm_memory(base: u64) -> Result<(PhysRange, Reply), BootError> {
    // SAFETY: the DTB's mailbox, reachable with the MMU off and ours (obligation 1).
    let mailbox = unsafe { Mailbox::new(base as usize) }.map_err(BootError::Mailbox)?;
    let mut message = Message::request();
    // SAFETY: the MMU is off, so `message`'s address is physical and the cache is not in use
    // (obligation 1).
    let reply = unsafe { mailbox.call(&mut message) }.map_err(BootError::Mailbox)?;
    Ok((PhysRange::new(u64::from(reply.base), reply.end()), reply))
}

/// Whether the kernel parameters (the words of `bootargs` before a standalone `--`; without one
/// there are none) include `rivet.memory=firmware`, the last `rivet.memory=` winning. A plain
/// whitespace split, not the runtime's shell-like one: enough for this unquoted word, and it runs
/// before the MMU is on, on the DTB's bytes.
pub fn requested(bootargs: &str) -> bool {
    let words = || bootargs.split_ascii_whitespace();
    let params = words().take_while(|&word| word != "--");
    let value = params.filter_map(|word| word.strip_prefix("rivet.memory=")).last();
    value == Some("firmware") && words().any(|word| word == "--")
}
