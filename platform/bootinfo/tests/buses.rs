//! Hand-built trees for what the Pi and Xen brought in: a UART's address translated through its
//! buses' `ranges`, the SBSA UART, a Pi's mini-UART, the `serial0` fallback and the `/hypervisor`
//! node.

mod common;

use common::{discover, memory, open_root, Fdt};
use rivet_bootinfo::devicetree::{Error, UartKind};

/// A tree with memory and, inside the root, whatever `body` adds (no UART of its own).
fn tree(body: impl FnOnce(&mut Fdt)) -> Vec<u8> {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    memory(&mut fdt);
    body(&mut fdt);
    fdt.end().finish();
    fdt.build()
}

/// A PL011 with one address and one size cell at bus address `address`.
fn uart(fdt: &mut Fdt, name: &str, address: u32) {
    fdt.begin(name)
        .string("compatible", "arm,pl011\0arm,primecell")
        .cells("reg", &[address, 0x200]);
    fdt.end();
}

/// A bus with one address and one size cell for its children, and `ranges` if given.
fn bus<'f>(fdt: &'f mut Fdt, name: &str, ranges: Option<&[u32]>) -> &'f mut Fdt {
    fdt.begin(name).cells("#address-cells", &[1]).cells("#size-cells", &[1]);
    if let Some(ranges) = ranges {
        fdt.cells("ranges", ranges);
    }
    fdt
}

fn console(bytes: &[u8]) -> Result<u64, Error<'_>> {
    discover(bytes).map(|m| m.console).map_err(|f| f.error)
}

#[test]
fn translated_through_two_buses() {
    let bytes = tree(|fdt| {
        // The outer bus maps its 0x0..0x100_0000 to CPU 0x1000_0000 (parent: two cells).
        bus(fdt, "outer@10000000", Some(&[0x0, 0x0, 0x1000_0000, 0x100_0000]));
        // The inner one maps 0x7e00_0000.. to the outer bus's 0x10_0000.. (parent: one cell).
        bus(fdt, "soc", Some(&[0x7e00_0000, 0x10_0000, 0x10_0000]));
        uart(fdt, "serial@7e001000", 0x7e00_1000);
        fdt.end().end();
    });
    assert_eq!(console(&bytes), Ok(0x1010_1000));
}

#[test]
fn the_second_window_and_an_empty_ranges() {
    let bytes = tree(|fdt| {
        bus(
            fdt,
            "soc",
            Some(&[0x7e00_0000, 0, 0x3f00_0000, 0x100_0000, 0x4000_0000, 0, 0x4000_0000, 0x1000]),
        );
        bus(fdt, "identity", Some(&[]));
        uart(fdt, "serial@40000800", 0x4000_0800);
        fdt.end().end();
    });
    assert_eq!(console(&bytes), Ok(0x4000_0800));
}

/// A bus without `ranges` does not map its children, and a UART must lie wholly inside a
/// window: such UARTs are not console candidates.
#[test]
fn unmapped_uarts_are_skipped() {
    let no_ranges = tree(|fdt| {
        bus(fdt, "i2c", None);
        uart(fdt, "serial@1000", 0x1000);
        fdt.end();
    });
    assert_eq!(console(&no_ranges), Err(Error::NoConsole));
    // 0x200 bytes from 0xfff00 cross the end of the 1 MiB window.
    let straddling = tree(|fdt| {
        bus(fdt, "soc", Some(&[0x0, 0x0, 0x1000_0000, 0x10_0000]));
        uart(fdt, "serial@fff00", 0xf_ff00);
        uart(fdt, "serial@2000", 0x2000);
        fdt.end();
    });
    assert_eq!(console(&straddling), Ok(0x1000_2000));
}

#[test]
fn malformed_ranges() {
    let odd = tree(|fdt| {
        bus(fdt, "soc", Some(&[0x0, 0x0, 0x1000_0000]));
        uart(fdt, "serial@2000", 0x2000);
        fdt.end();
    });
    assert_eq!(
        console(&odd),
        Err(Error::BadProperty {
            node: "serial@2000",
            property: "ranges",
            problem: "a bus's ranges is not a whole number of entries"
        })
    );
    let wraps = tree(|fdt| {
        bus(fdt, "soc", Some(&[0x0, 0xffff_ffff, 0xffff_f000, 0x10_0000]));
        uart(fdt, "serial@2000", 0x2000);
        fdt.end();
    });
    assert_eq!(
        console(&wraps),
        Err(Error::BadProperty {
            node: "serial@2000",
            property: "ranges",
            problem: "the translated address wraps around"
        })
    );
    let three_cells = tree(|fdt| {
        fdt.begin("pci").cells("#address-cells", &[3]).cells("#size-cells", &[2]);
        fdt.cells("ranges", &[0; 7]);
        fdt.begin("serial@0").string("compatible", "arm,pl011").cells("reg", &[0; 5]).end();
        fdt.end();
    });
    assert!(matches!(console(&three_cells), Err(Error::BadProperty { property: "reg", .. })));
}

#[test]
fn sbsa_uart() {
    let bytes = tree(|fdt| {
        fdt.begin("sbsa-uart@22000000")
            .string("compatible", "arm,sbsa-uart")
            .cells("reg", &[0, 0x2200_0000, 0, 0x1000])
            .end();
    });
    let machine = discover(&bytes).unwrap();
    assert_eq!((machine.console, machine.console_kind), (0x2200_0000, UartKind::Sbsa));
}

/// A Pi-like tree: two PL011s and a mini-UART under `/soc`, `serial1` the mini-UART.
fn pi_tree(stdout_path: &str, mini_uart_status: &str) -> Vec<u8> {
    tree(|fdt| {
        bus(fdt, "soc", Some(&[0x7e00_0000, 0, 0xfe00_0000, 0x180_0000]));
        uart(fdt, "serial@7e201400", 0x7e20_1400);
        uart(fdt, "serial@7e201000", 0x7e20_1000);
        fdt.begin("serial@7e215040").string("compatible", "brcm,bcm2835-aux-uart");
        fdt.string("status", mini_uart_status);
        fdt.cells("reg", &[0x7e21_5040, 0x40]).end();
        fdt.end();
        fdt.begin("aliases")
            .string("serial0", "/soc/serial@7e201000")
            .string("serial1", "/soc/serial@7e215040")
            .end();
        fdt.begin("chosen").string("stdout-path", stdout_path).end();
    })
}

fn console_and_kind(bytes: &[u8]) -> (u64, UartKind) {
    let machine = discover(bytes).unwrap();
    (machine.console, machine.console_kind)
}

/// `stdout-path` naming the mini-UART through an alias, or by path: it is the console.
#[test]
fn the_mini_uart_stdout_path_names() {
    let expected = (0xfe21_5040, UartKind::MiniUart);
    assert_eq!(console_and_kind(&pi_tree("serial1:115200n8", "okay")), expected);
    assert_eq!(console_and_kind(&pi_tree("/soc/serial@7e215040", "okay")), expected);
    // serial0 (firmware that swapped the aliases, or an overlay) is the PL011.
    let pl011 = (0xfe20_1000, UartKind::Pl011);
    assert_eq!(console_and_kind(&pi_tree("serial0:115200n8", "okay")), pl011);
}

/// `stdout-path` naming a UART that is no candidate (here a disabled mini-UART, as on a Pi
/// without `enable_uart=1` in a firmware that edits the tree): `serial0` decides, not the order
/// of the nodes.
#[test]
fn serial0_when_stdout_path_names_no_candidate() {
    assert_eq!(
        console_and_kind(&pi_tree("serial1:115200n8", "disabled")),
        (0xfe20_1000, UartKind::Pl011)
    );
}

#[test]
fn xen_by_its_hypervisor_node() {
    let xen = tree(|fdt| {
        fdt.begin("sbsa-uart@22000000").string("compatible", "arm,sbsa-uart");
        fdt.cells("reg", &[0, 0x2200_0000, 0, 0x1000]).end();
        fdt.begin("hypervisor").string("compatible", "xen,xen-4.17\0xen,xen").end();
    });
    assert_eq!(discover(&xen).unwrap().platform, "xen");
    // Another hypervisor, or a xen,xen node that is not /hypervisor, is not Xen.
    let other = tree(|fdt| {
        common::pl011(fdt);
        fdt.begin("hypervisor").string("compatible", "acme,hv").end();
        fdt.begin("bus").begin("hypervisor").string("compatible", "xen,xen").end().end();
    });
    assert_eq!(discover(&other).unwrap().platform, "virt");
}

/// A Pi-like tree whose `/memory` is `memory` (written by `body`), with a mailbox under `/soc`
/// if `mailbox`, and a PL011.
fn pi_memory(mailbox: bool, memory: impl FnOnce(&mut Fdt)) -> Vec<u8> {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    memory(&mut fdt);
    bus(&mut fdt, "soc", Some(&[0x7e00_0000, 0, 0x3f00_0000, 0x100_0000]));
    uart(&mut fdt, "serial@7e201000", 0x7e20_1000);
    if mailbox {
        fdt.begin("mailbox@7e00b880").string("compatible", "brcm,bcm2835-mbox");
        fdt.cells("reg", &[0x7e00_b880, 0x40]).end();
    }
    fdt.end();
    fdt.end().finish();
    fdt.build()
}

/// Debian's `bcm2711-rpi-4-b.dtb` ships `/memory` with `reg = <0 0 0>` for the firmware to fill:
/// no RAM, but the mailbox is there to ask.
#[test]
fn empty_memory_leaves_the_mailbox_to_ask() {
    let empty = |fdt: &mut Fdt| {
        fdt.begin("memory@0").string("device_type", "memory").cells("reg", &[0, 0, 0, 0]).end();
    };
    let bytes = pi_memory(true, empty);
    let machine = discover(&bytes).unwrap();
    assert!(machine.ram.is_empty());
    assert_eq!(machine.mailbox, Some(0x3f00_b880));
    assert_eq!(machine.console, 0x3f20_1000);
    // Without a mailbox, nothing can tell the RAM: the old error.
    let bytes = pi_memory(false, empty);
    let failure = discover(&bytes).unwrap_err();
    assert_eq!((failure.error, failure.console), (Error::NoMemory, Some(0x3f20_1000)));
}

/// A disabled `/memory` is not RAM; a missing one neither.
#[test]
fn disabled_or_missing_memory() {
    let disabled = |fdt: &mut Fdt| {
        fdt.begin("memory@0").string("device_type", "memory").string("status", "disabled");
        fdt.cells("reg", &[0, 0, 0, 0x3c00_0000]).end();
    };
    let bytes = pi_memory(true, disabled);
    let machine = discover(&bytes).unwrap();
    assert!(machine.ram.is_empty());
    assert_eq!(machine.mailbox, Some(0x3f00_b880));
    let bytes = pi_memory(false, disabled);
    assert_eq!(discover(&bytes).unwrap_err().error, Error::NoMemory);
    let bytes = pi_memory(true, |_| {});
    let machine = discover(&bytes).unwrap();
    assert!(machine.ram.is_empty());
    let bytes = pi_memory(false, |_| {});
    assert_eq!(discover(&bytes).unwrap_err().error, Error::NoMemory);
}

/// With usable `/memory` the mailbox is still reported, but RAM comes from the tree.
#[test]
fn usable_memory_wins() {
    let bytes = pi_memory(true, |fdt| {
        memory(fdt);
    });
    let machine = discover(&bytes).unwrap();
    assert_eq!(machine.ram.len(), 1);
    assert_eq!(machine.mailbox, Some(0x3f00_b880));
}
