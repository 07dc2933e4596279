//! Discovery over blobs that parse but describe a machine the boot cannot use, or use only in
//! part: bad cell counts, `reg`s, bootargs, initrd bounds, UART and PSCI nodes, and what is
//! known before a failure.

mod common;

use common::*;
use rivet_bootinfo::devicetree::{read, Blob, Error, Failure, Machine, PsciConduit, UartKind};

/// The error discovery gives for `bytes`, whatever console it found.
fn discover_error(bytes: &[u8]) -> Error<'_> {
    discover(bytes).unwrap_err().error
}

/// A property error.
fn property(node: &'static str, property: &'static str, problem: &'static str) -> Error<'static> {
    Error::BadProperty { node, property, problem }
}

#[test]
fn cell_counts_that_are_not_one_cell() {
    let mut fdt = Fdt::new();
    fdt.begin("").prop("#address-cells", &[0, 0, 2]).end().finish();
    assert_eq!(discover_error(&fdt.build()), property("", "#address-cells", "not one cell"));
    let mut fdt = Fdt::new();
    fdt.begin("").cells("#size-cells", &[1, 1]).end().finish();
    assert_eq!(discover_error(&fdt.build()), property("", "#size-cells", "not one cell"));
}

#[test]
fn unsupported_cell_counts() {
    for (address, size) in [(3, 2), (2, 0), (0, 1), (2, 3)] {
        let mut fdt = Fdt::new();
        fdt.begin("").cells("#address-cells", &[address]).cells("#size-cells", &[size]);
        fdt.begin("memory@0").cells("reg", &vec![0; (address + size) as usize]).end();
        fdt.end().finish();
        assert_eq!(
            discover_error(&fdt.build()),
            property(
                "memory@0",
                "reg",
                "#address-cells or #size-cells of the parent is not 1 or 2"
            ),
            "{address}/{size}"
        );
    }
}

/// The cells a node declares apply to its children's `reg`, not its own.
#[test]
fn cells_come_from_the_parent() {
    let bytes = with_body(|fdt| {
        fdt.begin("reserved-memory").cells("#address-cells", &[1]).cells("#size-cells", &[1]);
        fdt.begin("fw@48000000").cells("reg", &[0x4800_0000, 0x1000]).end();
        fdt.end();
    });
    assert_eq!(triples(&discover(&bytes).unwrap().reserved), [(0x4800_0000, 0x4800_1000, false)]);
}

#[test]
fn reg_wrapping_around() {
    let bytes = with_body(|fdt| {
        fdt.begin("memory@ffffffffffff0000")
            .cells("reg", &[0xffff_ffff, 0xffff_0000, 0, 0x10000])
            .end();
    });
    assert_eq!(
        discover_error(&bytes),
        property("memory@ffffffffffff0000", "reg", "range wraps around the address space")
    );
}

#[test]
fn memory_without_reg() {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    fdt.begin("memory").string("device_type", "memory").end();
    fdt.end().finish();
    assert_eq!(discover_error(&fdt.build()), property("memory", "reg", "missing"));
}

#[test]
fn pl011_without_a_usable_reg() {
    let empty = with_body(|fdt| {
        fdt.begin("serial@1").string("compatible", "arm,pl011").prop("reg", &[]).end();
    });
    assert_eq!(discover_error(&empty), property("serial@1", "reg", "empty"));
    let missing = with_body(|fdt| {
        fdt.begin("serial@2").string("compatible", "arm,pl011").end();
    });
    assert_eq!(discover_error(&missing), property("serial@2", "reg", "missing"));
    // A disabled one is not looked at.
    let disabled = with_body(|fdt| {
        fdt.begin("serial@3").string("compatible", "arm,pl011").string("status", "disabled").end();
    });
    assert_eq!(discover(&disabled).unwrap().console, 0x0900_0000);
}

#[test]
fn more_than_32_memory_ranges() {
    let reg = |count: u32| -> Vec<u32> {
        (0..count).flat_map(|i| [0, 0x4000_0000 + i * 0x10_0000, 0, 0x1000]).collect()
    };
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    fdt.begin("memory@40000000").cells("reg", &reg(33)).end();
    pl011(&mut fdt);
    fdt.end().finish();
    assert_eq!(
        discover_error(&fdt.build()),
        property("memory@40000000", "reg", "more than 32 ranges of this kind")
    );
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    fdt.begin("memory@40000000").cells("reg", &reg(32)).end();
    pl011(&mut fdt);
    fdt.end().finish();
    assert_eq!(discover(&fdt.build()).unwrap().ram.len(), 32);
}

#[test]
fn bootargs_not_utf8() {
    let bytes = with_body(|fdt| {
        fdt.begin("chosen").prop("bootargs", b"caf\xe9\0").end();
    });
    assert_eq!(
        discover(&bytes).unwrap_err(),
        Failure {
            error: property("chosen", "bootargs", "not UTF-8"),
            console: Some(0x0900_0000),
            console_kind: UartKind::Pl011
        }
    );
    // Without its NUL, bootargs are taken as they are.
    let bytes = with_body(|fdt| {
        fdt.begin("chosen").prop("bootargs", b"quiet").end();
    });
    assert_eq!(discover(&bytes).unwrap().bootargs, "quiet");
}

#[test]
fn non_utf8_node_names_print_as_question_mark() {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    fdt.begin_raw(b"memory@\xff").end();
    fdt.end().finish();
    assert_eq!(discover_error(&fdt.build()), property("?", "reg", "missing"));
}

#[test]
fn initrd_bounds() {
    let chosen = |start: Option<&[u8]>, end: Option<&[u8]>| {
        with_body(|fdt| {
            fdt.begin("chosen");
            if let Some(start) = start {
                fdt.prop("linux,initrd-start", start);
            }
            if let Some(end) = end {
                fdt.prop("linux,initrd-end", end);
            }
            fdt.end();
        })
    };
    let one_sided = property(
        "chosen",
        "linux,initrd-start",
        "only one of linux,initrd-start and linux,initrd-end",
    );
    let bad =
        property("chosen", "linux,initrd-start", "initrd bounds are not 1 or 2 cells, or inverted");
    let (one, two) = (cells(&[0x4400_0000]), cells(&[0, 0x4500_0000]));
    assert_eq!(discover_error(&chosen(Some(&one), None)), one_sided);
    assert_eq!(discover_error(&chosen(None, Some(&one))), one_sided);
    assert_eq!(discover_error(&chosen(Some(&two), Some(&one))), bad, "inverted");
    assert_eq!(discover_error(&chosen(Some(&[0, 0, 1]), Some(&one))), bad, "3 bytes");
    assert_eq!(discover_error(&chosen(Some(&cells(&[0, 0, 1])), Some(&one))), bad, "3 cells");
    // Mixed widths are fine; an empty initrd (start == end) too.
    let machine = discover(&chosen(Some(&one), Some(&two))).unwrap().reserved;
    assert_eq!(triples(&machine), [(0x4400_0000, 0x4500_0000, false)]);
    let machine = discover(&chosen(Some(&one), Some(&one))).unwrap().reserved;
    assert_eq!(triples(&machine), [(0x4400_0000, 0x4400_0000, false)]);
}

#[test]
fn which_nodes_count_as_memory() {
    let bytes = with_body(|fdt| {
        // Not /memory: a different base name, and a memory node below the root's children.
        fdt.begin("memoryx@0").cells("reg", &[0, 0x1000, 0, 0x1000]).end();
        fdt.begin("bus").begin("memory@0").cells("reg", &[0, 0x2000, 0, 0x1000]).end().end();
        // /memory without a unit address does count.
        fdt.begin("memory").cells("reg", &[0, 0x8000_0000, 0, 0x1000]).end();
    });
    assert_eq!(
        triples(&discover(&bytes).unwrap().ram),
        [(0x4000_0000, 0x4800_0000, false), (0x8000_0000, 0x8000_1000, false)]
    );
}

#[test]
fn status_values() {
    for (status, used) in [("okay", true), ("ok", true), ("disabled", false), ("fail", false)] {
        let mut fdt = Fdt::new();
        open_root(&mut fdt);
        memory(&mut fdt);
        fdt.begin("pl011@9040000")
            .string("compatible", "arm,pl011")
            .string("status", status)
            .cells("reg", &[0, 0x0904_0000, 0, 0x1000])
            .end();
        fdt.end().finish();
        let bytes = fdt.build();
        let result = discover(&bytes).map(|m| m.console).map_err(|f| f.error);
        assert_eq!(result, if used { Ok(0x0904_0000) } else { Err(Error::NoConsole) }, "{status}");
    }
}

/// PSCI is recorded as soon as its node is read, so a later failure can still power off; and
/// the console found before a failure comes with it.
#[test]
fn what_is_known_before_a_failure() {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    fdt.begin("psci").string("compatible", "arm,psci-0.2").string("method", "hvc").end();
    pl011(&mut fdt);
    fdt.begin("chosen").prop("bootargs", b"\xff\0").end();
    fdt.end().finish();
    let bytes = fdt.build();
    let blob = Blob::parse(&bytes).unwrap();
    let mut machine = Machine::new();
    let failure = read(&blob, &mut machine).unwrap_err();
    assert_eq!(machine.psci, Some(PsciConduit::Hvc));
    assert_eq!(failure.console, Some(0x0900_0000));
    assert_eq!(failure.error, property("chosen", "bootargs", "not UTF-8"));
}

#[test]
fn unknown_board() {
    let mut fdt = Fdt::new();
    fdt.begin("").cells("#address-cells", &[2]).cells("#size-cells", &[2]);
    fdt.string("compatible", "acme,board\0linux,dummy-virt-2");
    memory(&mut fdt);
    pl011(&mut fdt);
    fdt.end().finish();
    assert_eq!(discover(&fdt.build()).unwrap().platform, "devicetree");
}
