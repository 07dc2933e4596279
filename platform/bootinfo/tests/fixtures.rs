//! Discovery on real device trees (QEMU's `virt`, dumped) and hand-written ones compiled by dtc;
//! see `fixtures/README.md`.

mod common;

use common::{discover, discover_partly, header, triples};
use rivet_bootinfo::devicetree::{
    claimed_size, Blob, Error, Failure, PsciConduit, Token, UartKind, HEADER_SIZE,
};

const QEMU_VIRT: &[u8] = include_bytes!("fixtures/qemu-virt.dtb");
const QEMU_VIRT_GICV3_EL2: &[u8] = include_bytes!("fixtures/qemu-virt-gicv3-el2.dtb");
const QEMU_VIRT_KERNEL_INITRD: &[u8] = include_bytes!("fixtures/qemu-virt-kernel-initrd.dtb");
const TWO_MEMORY: &[u8] = include_bytes!("fixtures/two-memory.dtb");
const RESERVATIONS: &[u8] = include_bytes!("fixtures/reservations.dtb");
const STDOUT_ALIAS: &[u8] = include_bytes!("fixtures/stdout-alias.dtb");
const STDOUT_PATH: &[u8] = include_bytes!("fixtures/stdout-path.dtb");
const UART_FALLBACK: &[u8] = include_bytes!("fixtures/uart-fallback.dtb");
const ADDRESS_CELLS_1: &[u8] = include_bytes!("fixtures/address-cells-1.dtb");
const NO_MEMORY: &[u8] = include_bytes!("fixtures/no-memory.dtb");
const NO_UART: &[u8] = include_bytes!("fixtures/no-uart.dtb");
const BAD_PSCI: &[u8] = include_bytes!("fixtures/bad-psci.dtb");
const ODD_REG: &[u8] = include_bytes!("fixtures/odd-reg.dtb");
const RPI4: &[u8] = include_bytes!("fixtures/rpi4.dtb");
const RPI3: &[u8] = include_bytes!("fixtures/rpi3.dtb");
const XEN_DOMU: &[u8] = include_bytes!("fixtures/xen-domu.dtb");

const ALL: [(&str, &[u8]); 16] = [
    ("qemu-virt", QEMU_VIRT),
    ("qemu-virt-gicv3-el2", QEMU_VIRT_GICV3_EL2),
    ("qemu-virt-kernel-initrd", QEMU_VIRT_KERNEL_INITRD),
    ("two-memory", TWO_MEMORY),
    ("reservations", RESERVATIONS),
    ("stdout-alias", STDOUT_ALIAS),
    ("stdout-path", STDOUT_PATH),
    ("uart-fallback", UART_FALLBACK),
    ("address-cells-1", ADDRESS_CELLS_1),
    ("no-memory", NO_MEMORY),
    ("no-uart", NO_UART),
    ("bad-psci", BAD_PSCI),
    ("odd-reg", ODD_REG),
    ("rpi4", RPI4),
    ("rpi3", RPI3),
    ("xen-domu", XEN_DOMU),
];

#[test]
fn qemu_virt() {
    let machine = discover(QEMU_VIRT).unwrap();
    assert_eq!(machine.platform, "virt");
    assert_eq!(machine.psci, Some(PsciConduit::Hvc));
    assert_eq!(machine.bootargs, "");
    assert_eq!(machine.console, 0x0900_0000);
    assert_eq!(triples(&machine.ram), [(0x4000_0000, 0x4800_0000, false)]);
    assert!(machine.reserved.is_empty());
}

/// The wall clock: QEMU `virt`'s PL031 at 0x0901_0000 (`/pl031@9010000`); the Pis and a Xen
/// domU have no RTC in their trees.
#[test]
fn pl031_real_time_clock() {
    assert_eq!(discover(QEMU_VIRT).unwrap().rtc, Some(0x0901_0000));
    assert_eq!(discover(QEMU_VIRT_GICV3_EL2).unwrap().rtc, Some(0x0901_0000));
    for (name, blob) in [("rpi4", RPI4), ("rpi3", RPI3), ("xen-domu", XEN_DOMU)] {
        assert_eq!(discover(blob).unwrap().rtc, None, "{name}");
    }
}

/// QEMU `virt`'s 32 virtio-mmio transports, 0x200 bytes apart from 0x0a00_0000, on SPIs
/// 16–47 (INTIDs 48–79), in tree order (the DTB lists them from the highest address down);
/// the Pis have none.
#[test]
fn virtio_mmio_windows() {
    let machine = discover(QEMU_VIRT).unwrap();
    let windows = machine.virtio_mmio.as_slice();
    assert_eq!(windows.len(), 32);
    let mut seen: Vec<(u64, u64, Option<u32>)> =
        windows.iter().map(|w| (w.window.start, w.window.len(), w.intid)).collect();
    seen.sort();
    for (n, (base, len, intid)) in seen.into_iter().enumerate() {
        assert_eq!(
            (base, len, intid),
            (0x0a00_0000 + 0x200 * n as u64, 0x200, Some(48 + n as u32))
        );
    }
    for (name, blob) in [("rpi4", RPI4), ("rpi3", RPI3)] {
        assert!(discover(blob).unwrap().virtio_mmio.as_slice().is_empty(), "{name}");
    }
}

#[test]
fn qemu_virt_gicv3_at_el2() {
    let machine = discover(QEMU_VIRT_GICV3_EL2).unwrap();
    assert_eq!(machine.platform, "virt");
    // virtualization=on puts PSCI at EL3 behind smc.
    assert_eq!(machine.psci, Some(PsciConduit::Smc));
    assert_eq!(machine.console, 0x0900_0000);
    assert_eq!(triples(&machine.ram), [(0x4000_0000, 0x8000_0000, false)]);
    assert!(machine.reserved.is_empty());
}

/// What QEMU adds for `-kernel … -initrd … -append …`: bootargs and a two-cell initrd range.
#[test]
fn qemu_virt_with_bootargs_and_initrd() {
    let machine = discover(QEMU_VIRT_KERNEL_INITRD).unwrap();
    assert_eq!(machine.bootargs, "a \"b c\"");
    assert_eq!(triples(&machine.reserved), [(0x4400_0000, 0x4400_0bb8, false)]);
    assert_eq!(machine.psci, Some(PsciConduit::Hvc));
    assert_eq!(machine.console, 0x0900_0000);
}

/// The walk sees exactly the tree an independent decoder sees: 57 nodes, 221 properties, six
/// levels deep (`/cpus/cpu-map/socket0/cluster0/core0`), balanced, ending at `FDT_END`.
#[test]
fn qemu_virt_tokens() {
    let blob = Blob::parse(QEMU_VIRT).unwrap();
    let (mut nodes, mut properties, mut ends, mut deepest) = (0, 0, 0, 0);
    let mut top_level = Vec::new();
    let mut tokens = blob.tokens();
    while let Some(token) = tokens.next() {
        match token.unwrap() {
            Token::Begin { name } => {
                nodes += 1;
                deepest = deepest.max(tokens.depth());
                if tokens.depth() == 2 {
                    top_level.push(String::from_utf8(name.to_vec()).unwrap());
                }
            }
            Token::Property { .. } => properties += 1,
            Token::End => ends += 1,
        }
    }
    assert_eq!((nodes, properties, ends, deepest), (57, 221, 57, 6));
    assert_eq!(tokens.depth(), 0);
    assert_eq!(top_level.len(), 49);
    assert_eq!(top_level[..2], ["psci", "memory@40000000"]);
    assert!(top_level.contains(&"pl011@9000000".to_owned()));
    assert_eq!(top_level.last().unwrap(), "chosen");
    assert!(tokens.next().is_none(), "the walk stays finished");
}

/// Property names resolve through the strings block, and values are the raw bytes.
#[test]
fn qemu_virt_root_properties() {
    let blob = Blob::parse(QEMU_VIRT).unwrap();
    let mut root = Vec::new();
    let mut tokens = blob.tokens();
    while let Some(token) = tokens.next() {
        match token.unwrap() {
            Token::Property { name, value } if tokens.depth() == 1 => {
                root.push((blob.property_name(name).unwrap(), value));
            }
            Token::Begin { .. } if tokens.depth() == 2 => break,
            _ => {}
        }
    }
    let names: Vec<&[u8]> = root.iter().map(|(name, _)| *name).collect();
    let expected: [&[u8]; 6] = [
        b"interrupt-parent",
        b"dma-coherent",
        b"model",
        b"#size-cells",
        b"#address-cells",
        b"compatible",
    ];
    assert_eq!(names, expected);
    assert_eq!(root[1].1, b"");
    assert_eq!(root[2].1, b"linux,dummy-virt\0");
    assert_eq!(root[3].1, [0, 0, 0, 2]);
}

/// The header fields as `claimed_size` and `Blob::parse` see them, on every fixture.
#[test]
fn every_fixture_claims_its_own_size() {
    for (name, bytes) in ALL {
        assert_eq!(claimed_size(&bytes[..HEADER_SIZE]), Ok(bytes.len()), "{name}");
        assert_eq!(claimed_size(bytes), Ok(bytes.len()), "{name}");
        let blob = Blob::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(blob.bytes().len(), header(bytes, 1) as usize, "{name}");
    }
}

/// QEMU's `-dtb` path runs libfdt's `fdt_nop_node` over the memory nodes: a node overwritten
/// with `FDT_NOP`s must vanish and change nothing else.
#[test]
fn qemu_virt_with_psci_noped_out() {
    let blob = Blob::parse(QEMU_VIRT).unwrap();
    let mut tokens = blob.tokens();
    let (mut start, mut end) = (None, None);
    while let Some(token) = tokens.next() {
        match token.unwrap() {
            Token::Begin { name: b"psci" } => start = Some(tokens.offset()),
            Token::End if start.is_some() && end.is_none() && tokens.depth() == 1 => {
                end = Some(tokens.offset() + 4)
            }
            _ => {}
        }
    }
    let (start, end) = (start.unwrap(), end.unwrap());
    let base = header(QEMU_VIRT, 2) as usize;
    let mut bytes = QEMU_VIRT.to_vec();
    for word in bytes[base + start..base + end].chunks_exact_mut(4) {
        word.copy_from_slice(&4u32.to_be_bytes());
    }
    let machine = discover(&bytes).unwrap();
    assert_eq!(machine.psci, None);
    assert_eq!(machine.console, 0x0900_0000);
    assert_eq!(triples(&machine.ram), [(0x4000_0000, 0x4800_0000, false)]);
    assert_eq!(machine.platform, "virt");
}

#[test]
fn two_memory_nodes_and_multiple_reg_entries() {
    let machine = discover(TWO_MEMORY).unwrap();
    assert_eq!(
        triples(&machine.ram),
        [
            (0x4000_0000, 0x5000_0000, false),
            (0x6000_0000, 0x6800_0000, false),
            (0x1_0000_0000, 0x1_4000_0000, false),
        ]
    );
    assert_eq!(machine.psci, Some(PsciConduit::Smc));
    // "linux,dummy-virt" is the second string of the root's compatible list.
    assert_eq!(machine.platform, "virt");
    assert_eq!(machine.bootargs, "rivet.log=debug -- one 'two three'");
    assert_eq!(machine.console, 0x0900_0000);
}

/// /memreserve/ first (in order), then /reserved-memory children as found (flagged when
/// `no-map`; the one without `reg` skipped), then the initrd.
#[test]
fn reservations_of_every_kind() {
    let machine = discover(RESERVATIONS).unwrap();
    assert_eq!(
        triples(&machine.reserved),
        [
            (0x4000_0000, 0x4000_1000, false),
            (0x4800_0000, 0x4820_0000, false),
            (0x4e00_0000, 0x4e10_0000, true),
            (0x4f00_0000, 0x4f01_0000, false),
            (0x4400_0000, 0x4410_0000, false),
        ]
    );
    assert_eq!(triples(&machine.ram), [(0x4000_0000, 0x6000_0000, false)]);
    assert_eq!(machine.platform, "devicetree");
    assert_eq!(machine.psci, None);
    assert_eq!(machine.bootargs, "");
}

#[test]
fn reservation_block_as_read_directly() {
    let blob = Blob::parse(RESERVATIONS).unwrap();
    let mut seen = Vec::new();
    blob.reservations(|range| {
        seen.push((range.start, range.end));
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, [(0x4000_0000, 0x4000_1000), (0x4800_0000, 0x4820_0000)]);
}

#[test]
fn stdout_path_through_an_alias_with_options() {
    let machine = discover(STDOUT_ALIAS).unwrap();
    assert_eq!(machine.console, 0x0904_0000);
}

#[test]
fn stdout_path_in_full_skipping_a_disabled_uart() {
    let machine = discover(STDOUT_PATH).unwrap();
    assert_eq!(machine.console, 0x1c0b_0000);
    assert_eq!(machine.platform, "devicetree");
    assert_eq!(triples(&machine.ram), [(0x8000_0000, 0xc000_0000, false)]);
}

#[test]
fn stdout_path_to_nowhere_falls_back_to_the_first_enabled_uart() {
    let machine = discover(UART_FALLBACK).unwrap();
    assert_eq!(machine.console, 0x0904_0000);
}

#[test]
fn one_address_cell_and_psci_0_1() {
    let machine = discover(ADDRESS_CELLS_1).unwrap();
    assert_eq!(triples(&machine.ram), [(0x6000_0000, 0xa000_0000, false)]);
    assert_eq!(machine.console, 0x1000_9000);
    // PSCI 0.1 has no SYSTEM_OFF function ID, so its method is not even looked at.
    assert_eq!(machine.psci, None);
    assert_eq!(machine.bootargs, "console=ttyAMA0");
    assert_eq!(machine.platform, "devicetree");
}

#[test]
fn missing_memory() {
    let failure = discover(NO_MEMORY).unwrap_err();
    assert_eq!(
        failure,
        Failure {
            error: Error::NoMemory,
            console: Some(0x0900_0000),
            console_kind: UartKind::Pl011
        }
    );
    assert_eq!(failure.error.to_string(), "devicetree: no /memory node with usable RAM");
}

#[test]
fn missing_uart() {
    let failure = discover(NO_UART).unwrap_err();
    assert_eq!(
        failure,
        Failure { error: Error::NoConsole, console: None, console_kind: UartKind::Pl011 }
    );
    assert_eq!(
        failure.error.to_string(),
        "devicetree: no console (no PL011, SBSA or BCM2835 mini-UART in /chosen/stdout-path or elsewhere)"
    );
}

#[test]
fn bad_psci_method() {
    let (machine, result) = discover_partly(BAD_PSCI);
    let failure = result.unwrap_err();
    assert_eq!(
        failure,
        Failure {
            error: Error::BadProperty {
                node: "psci",
                property: "method",
                problem: "neither \"hvc\" nor \"smc\""
            },
            console: Some(0x0900_0000),
            console_kind: UartKind::Pl011,
        }
    );
    assert_eq!(machine.psci, None);
    assert_eq!(
        failure.error.to_string(),
        "devicetree node \"psci\", property \"method\": neither \"hvc\" nor \"smc\""
    );
}

#[test]
fn odd_reg_length() {
    let failure = discover(ODD_REG).unwrap_err();
    assert_eq!(
        failure,
        Failure {
            error: Error::BadProperty {
                node: "memory@40000000",
                property: "reg",
                problem: "length is not a whole number of entries"
            },
            // The memory node comes before the PL011.
            console: None,
            console_kind: UartKind::Pl011,
        }
    );
}

/// A Pi 4 as QEMU's `raspi4b` boots it: the UART's bus address 0x7e20_1000 is translated through
/// `/soc`'s `ranges` to 0xfe20_1000; `stdout-path` names `serial1`, the mini-UART (no driver),
/// so the console is `serial0`, the PL011 QEMU connects to `-serial`. No PSCI: spin tables.
#[test]
fn raspberry_pi_4() {
    let machine = discover(RPI4).unwrap();
    assert_eq!(machine.platform, "rpi4");
    // stdout-path = "serial1:115200n8": the mini-UART (the PL011 drives Bluetooth on a Pi 4).
    assert_eq!(machine.console, 0xfe21_5040);
    assert_eq!(machine.console_kind, UartKind::MiniUart);
    assert_eq!(machine.mailbox, Some(0xfe00_b880));
    assert_eq!(machine.watchdog, Some(0xfe10_0000));
    assert_eq!(triples(&machine.ram), [(0, 0x3c00_0000, false)]);
    assert_eq!(machine.psci, None);
    assert_eq!(machine.bootargs, "hello a b");
}

/// A Pi 3 as QEMU's `raspi3b` boots it: one address cell at the root, `/soc` maps 0x7e00_0000 to
/// 0x3f00_0000, and the firmware's spin table page is a /memreserve/.
#[test]
fn raspberry_pi_3() {
    let machine = discover(RPI3).unwrap();
    assert_eq!(machine.platform, "rpi3");
    assert_eq!(machine.console, 0x3f21_5040);
    assert_eq!(machine.console_kind, UartKind::MiniUart);
    assert_eq!(machine.mailbox, Some(0x3f00_b880));
    assert_eq!(machine.watchdog, Some(0x3f10_0000));
    assert_eq!(triples(&machine.ram), [(0, 0x3c00_0000, false)]);
    assert_eq!(triples(&machine.reserved), [(0, 0x1000, false)]);
    assert_eq!(machine.psci, None);
    assert_eq!(machine.bootargs, "hello a b");
}

/// A Xen 4.17 dom0less domU: found as Xen by `/hypervisor`, its console the vpl011, an SBSA
/// UART, PSCI through `hvc`.
#[test]
fn xen_dom0less_domu() {
    let machine = discover(XEN_DOMU).unwrap();
    assert_eq!(machine.platform, "xen");
    assert_eq!(machine.console, 0x2200_0000);
    assert_eq!(machine.console_kind, UartKind::Sbsa);
    assert_eq!(machine.watchdog, None);
    assert_eq!(triples(&machine.ram), [(0x4000_0000, 0x4800_0000, false)]);
    // Xen writes an empty initrd (start = end = 0): an empty reservation, which takes nothing.
    assert_eq!(triples(&machine.reserved), [(0, 0, false)]);
    assert_eq!(machine.psci, Some(PsciConduit::Hvc));
    assert_eq!(machine.bootargs, "rivet fixture -- a b");
}

#[test]
fn interrupt_controllers_and_the_virtual_timer() {
    use rivet_bootinfo::devicetree::Gic;
    use rivet_core::memory::PhysRange;
    let range = PhysRange::from_start_len;

    let virt = discover(QEMU_VIRT).unwrap();
    assert_eq!(
        virt.gic,
        Some(Gic::V2 {
            distributor: range(0x0800_0000, 0x1_0000),
            cpu_interface: range(0x0801_0000, 0x1_0000)
        })
    );
    assert_eq!(virt.virtual_timer, Some(27));

    let gicv3 = discover(QEMU_VIRT_GICV3_EL2).unwrap();
    assert_eq!(
        gicv3.gic,
        Some(Gic::V3 {
            distributor: range(0x0800_0000, 0x1_0000),
            redistributors: range(0x080a_0000, 0xf6_0000)
        })
    );
    assert_eq!(gicv3.virtual_timer, Some(27));

    // The Pi 4's GIC-400 sits under /soc at bus address 0x4004_1000, which `ranges` maps to the
    // CPU's 0xff84_1000.
    let rpi4 = discover(RPI4).unwrap();
    assert_eq!(
        rpi4.gic,
        Some(Gic::V2 {
            distributor: range(0xff84_1000, 0x1000),
            cpu_interface: range(0xff84_2000, 0x2000)
        })
    );
    assert_eq!(rpi4.virtual_timer, Some(27));

    // The Pi 4 lists a BCM2836 local block too, but its GIC is the root: not reported.
    assert_eq!(rpi4.bcm2836_local, None);

    // The Pi 3 has no GIC but the BCM2836 local controller, under /soc (mapped 1:1 there); its
    // timer's interrupts are two-cell entries of that controller, the third (virtual) bit 3.
    let rpi3 = discover(RPI3).unwrap();
    assert_eq!(rpi3.gic, None);
    assert_eq!(rpi3.bcm2836_local, Some(0x4000_0000));
    assert_eq!(rpi3.virtual_timer, Some(3));

    let xen = discover(XEN_DOMU).unwrap();
    assert_eq!(
        xen.gic,
        Some(Gic::V3 {
            distributor: range(0x0300_1000, 0x1_0000),
            redistributors: range(0x0302_0000, 0x100_0000)
        })
    );
    assert_eq!(xen.virtual_timer, Some(27));
    assert_eq!((virt.bcm2836_local, xen.bcm2836_local), (None, None));
}
