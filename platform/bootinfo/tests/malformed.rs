//! Broken blobs built byte by byte: every check of the header, the reservation block and the
//! structure block, with the exact error (offsets included).

mod common;

use common::*;
use rivet_bootinfo::devicetree::{
    claimed_size, Blob, Error, Failure, Token, UartKind, MAX_DEPTH, MAX_SIZE,
};

/// The error `Blob::parse` gives.
fn parse_error(bytes: &[u8]) -> Error<'_> {
    Blob::parse(bytes).unwrap_err()
}

/// The first error of the token walk over `bytes` (whose header is fine).
fn walk_error(bytes: &[u8]) -> Error<'_> {
    let blob = Blob::parse(bytes).unwrap();
    blob.tokens().find_map(Result::err).expect("the walk should fail")
}

/// The structure error at `offset` with `problem`.
fn structure(offset: usize, problem: &'static str) -> Error<'static> {
    Error::BadStructure { offset, problem }
}

/// The error discovery gives for `bytes`, whatever console it found.
fn discover_error(bytes: &[u8]) -> Error<'_> {
    discover(bytes).unwrap_err().error
}

/// A property error.
fn property(node: &'static str, property: &'static str, problem: &'static str) -> Error<'static> {
    Error::BadProperty { node, property, problem }
}

// --- The header --------------------------------------------------------------------------------

#[test]
fn the_valid_tree_is_valid() {
    let bytes = valid().build();
    let machine = discover(&bytes).unwrap();
    assert_eq!(machine.bootargs, "x");
    assert_eq!(machine.console, 0x0900_0000);
    assert_eq!(triples(&machine.ram), [(0x4000_0000, 0x4800_0000, false)]);
}

#[test]
fn bad_magic() {
    let mut bytes = valid().build();
    set_header(&mut bytes, 0, 0xdead_beef);
    assert_eq!(parse_error(&bytes), Error::BadMagic(0xdead_beef));
    assert_eq!(claimed_size(&bytes), Err(Error::BadMagic(0xdead_beef)));
    assert_eq!(
        Error::BadMagic(0xdead_beef).to_string(),
        "devicetree: bad magic 0xdeadbeef (expected 0xd00dfeed)"
    );
    // Little-endian magic, as a confused tool would write it.
    set_header(&mut bytes, 0, 0xedfe_0dd0);
    assert_eq!(parse_error(&bytes), Error::BadMagic(0xedfe_0dd0));
}

#[test]
fn truncated_header() {
    let bytes = valid().build();
    let short = Error::BadHeader("shorter than the 40-byte header");
    for len in [0, 3, 7] {
        assert_eq!(parse_error(&bytes[..len]), short, "{len} bytes");
        assert_eq!(claimed_size(&bytes[..len]), Err(short), "{len} bytes");
    }
    // Magic and totalsize present, the rest of the header missing.
    for len in [8, 20, 39] {
        assert_eq!(
            parse_error(&bytes[..len]),
            Error::BadHeader("totalsize does not match the blob"),
            "{len} bytes"
        );
        assert_eq!(claimed_size(&bytes[..len]), Err(short), "{len} bytes");
    }
}

#[test]
fn totalsize_beyond_the_slice() {
    let bytes = valid().build();
    let mismatch = Error::BadHeader("totalsize does not match the blob");
    // The loader's claim is the whole blob, but fewer bytes are there…
    assert_eq!(parse_error(&bytes[..bytes.len() - 1]), mismatch);
    // …or more: the slice must be exactly totalsize.
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(parse_error(&longer), mismatch);
    let mut patched = bytes.clone();
    set_header(&mut patched, TOTALSIZE, bytes.len() as u32 + 4);
    assert_eq!(parse_error(&patched), mismatch);
    // claimed_size only bounds totalsize: taking that many bytes is the caller's claim.
    assert_eq!(claimed_size(&patched), Ok(bytes.len() + 4));
}

#[test]
fn totalsize_out_of_bounds() {
    let mut bytes = valid().build();
    let bad = Err(Error::BadHeader("totalsize is below 40 bytes or above 2 MiB"));
    for (total, expected) in [
        (0, bad),
        (39, bad),
        (40, Ok(40)),
        (MAX_SIZE as u32, Ok(MAX_SIZE)),
        (MAX_SIZE as u32 + 1, bad),
        (u32::MAX, bad),
    ] {
        set_header(&mut bytes, TOTALSIZE, total);
        assert_eq!(claimed_size(&bytes), expected, "totalsize {total}");
    }
}

#[test]
fn incompatible_versions() {
    let incompatible = Error::BadHeader("version is not compatible with 17");
    for (version, last_compatible, ok) in
        [(16, 16, false), (17, 18, false), (17, 16, true), (17, 17, true), (20, 16, true)]
    {
        let mut bytes = valid().build();
        set_header(&mut bytes, VERSION, version);
        set_header(&mut bytes, LAST_COMP_VERSION, last_compatible);
        let result = Blob::parse(&bytes).map(|_| ());
        assert_eq!(
            result,
            if ok { Ok(()) } else { Err(incompatible) },
            "{version}/{last_compatible}"
        );
    }
}

#[test]
fn misaligned_blocks() {
    let misaligned = Error::BadHeader("a block is misaligned");
    let mut bytes = valid().build();
    let structure = header(&bytes, OFF_DT_STRUCT);
    set_header(&mut bytes, OFF_DT_STRUCT, structure + 2);
    assert_eq!(parse_error(&bytes), misaligned);

    let mut bytes = valid().build();
    set_header(&mut bytes, OFF_MEM_RSVMAP, 44);
    assert_eq!(parse_error(&bytes), misaligned);
}

#[test]
fn blocks_beyond_totalsize() {
    let past_structure = Error::BadHeader("structure block runs past totalsize");
    let past_strings = Error::BadHeader("strings block runs past totalsize");
    let valid = valid().build();
    let total = valid.len() as u32;

    let mut bytes = valid.clone();
    let size = header(&bytes, SIZE_DT_STRUCT);
    set_header(&mut bytes, SIZE_DT_STRUCT, size + total);
    assert_eq!(parse_error(&bytes), past_structure);
    // An offset and size whose sum overflows 32 bits.
    let mut bytes = valid.clone();
    set_header(&mut bytes, OFF_DT_STRUCT, 0xffff_fff0);
    set_header(&mut bytes, SIZE_DT_STRUCT, 0x20);
    assert_eq!(parse_error(&bytes), past_structure);

    let mut bytes = valid.clone();
    set_header(&mut bytes, OFF_DT_STRINGS, total);
    set_header(&mut bytes, SIZE_DT_STRINGS, 1);
    assert_eq!(parse_error(&bytes), past_strings);
    // Exactly at the end with size 0 is fine (no property then names anything).
    set_header(&mut bytes, SIZE_DT_STRINGS, 0);
    assert!(Blob::parse(&bytes).is_ok());
}

// --- The reservation block ---------------------------------------------------------------------

#[test]
fn reservations_without_terminator_run_past_totalsize() {
    // A reservation block moved to the end of the blob, holding half an entry.
    let mut bytes = valid().build();
    while !bytes.len().is_multiple_of(8) {
        bytes.push(0);
    }
    let at = bytes.len() as u32;
    bytes.extend_from_slice(&0x4000_0000u64.to_be_bytes());
    let total = bytes.len() as u32;
    set_header(&mut bytes, TOTALSIZE, total);
    set_header(&mut bytes, OFF_MEM_RSVMAP, at);
    let blob = Blob::parse(&bytes).unwrap();
    assert_eq!(blob.reservations(|_| Ok(())), Err(Error::BadReservations("runs past totalsize")));
    assert_eq!(discover_error(&bytes), Error::BadReservations("runs past totalsize"));
}

#[test]
fn reservation_wrapping_around() {
    let mut fdt = valid();
    fdt.reservations = vec![(0x4000_0000, 0x1000), (u64::MAX - 0xfff, 0x1000)];
    let bytes = fdt.build();
    let mut seen = Vec::new();
    let blob = Blob::parse(&bytes).unwrap();
    let result = blob.reservations(|range| {
        seen.push(range.start);
        Ok(())
    });
    assert_eq!(result, Err(Error::BadReservations("an entry wraps around the address space")));
    assert_eq!(seen, [0x4000_0000], "entries before the bad one are delivered");
    // Ending exactly at the top is allowed.
    fdt.reservations = vec![(u64::MAX - 0xfff, 0xfff)];
    let bytes = fdt.build();
    assert!(Blob::parse(&bytes).unwrap().reservations(|_| Ok(())).is_ok());
}

#[test]
fn at_most_64_reservations() {
    let mut fdt = valid();
    fdt.reservations = (0..64).map(|i| (0x1000 * (i + 1), 0x1000)).collect();
    let bytes = fdt.build();
    let mut count = 0;
    Blob::parse(&bytes)
        .unwrap()
        .reservations(|_| {
            count += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(count, 64);

    fdt.reservations.push((0x10_0000, 0x1000));
    let bytes = fdt.build();
    let blob = Blob::parse(&bytes).unwrap();
    assert_eq!(blob.reservations(|_| Ok(())), Err(Error::BadReservations("more than 64 entries")));
}

/// Discovery keeps 32 reservations; the 33rd is refused as too many, naming /memreserve/.
#[test]
fn at_most_32_reservations_kept() {
    let mut fdt = valid();
    fdt.reservations = (0..33).map(|i| (0x1000 * (i + 1), 0x1000)).collect();
    let bytes = fdt.build();
    assert_eq!(
        discover_error(&bytes),
        property("/memreserve/", "reg", "more than 32 ranges of this kind")
    );
    fdt.reservations.pop();
    let bytes = fdt.build();
    assert_eq!(discover(&bytes).unwrap().reserved.len(), 32);
}

// --- The structure block -----------------------------------------------------------------------

#[test]
fn empty_structure_block() {
    let bytes = Fdt::new().build();
    assert_eq!(walk_error(&bytes), structure(0, "ends before FDT_END (truncated?)"));
}

#[test]
fn missing_fdt_end() {
    let mut fdt = valid();
    fdt.structure.truncate(fdt.structure.len() - 4);
    let end = fdt.offset();
    let bytes = fdt.build();
    assert_eq!(walk_error(&bytes), structure(end, "ends before FDT_END (truncated?)"));
    assert_eq!(discover_error(&bytes), structure(end, "ends before FDT_END (truncated?)"));
}

/// A structure block cut short anywhere fails cleanly, with the offset where reading stopped.
#[test]
fn truncated_structure_block_at_every_length() {
    let full = valid();
    for len in 0..full.structure.len() {
        let mut fdt = full.clone();
        fdt.structure.truncate(len);
        let bytes = fdt.build();
        let error = walk_error(&bytes);
        let Error::BadStructure { offset, problem } = error else {
            panic!("length {len}: {error:?}");
        };
        // At most the next token boundary after the cut.
        assert!(offset <= (len + 3) & !3, "length {len}: offset {offset:#x}");
        assert!(
            [
                "ends before FDT_END (truncated?)",
                "unterminated node name",
                "truncated property",
                "property value runs past the structure block",
            ]
            .contains(&problem),
            "length {len}: {problem}"
        );
    }
}

#[test]
fn truncated_property() {
    let mut fdt = Fdt::new();
    fdt.begin("");
    let at = fdt.offset();
    fdt.word(PROP).word(4);
    let bytes = fdt.build();
    assert_eq!(walk_error(&bytes), structure(at, "truncated property"));
}

#[test]
fn property_value_past_the_structure_block() {
    let mut fdt = Fdt::new();
    fdt.begin("");
    let at = fdt.offset();
    let name = fdt.name("model");
    fdt.prop_raw(0xffff_fff0, name, b"abc\0").end().finish();
    let bytes = fdt.build();
    assert_eq!(walk_error(&bytes), structure(at, "property value runs past the structure block"));
}

#[test]
fn string_offset_out_of_range() {
    let mut fdt = Fdt::new();
    fdt.begin("").string("model", "m");
    let at = fdt.offset();
    let beyond = fdt.strings.len() as u32;
    fdt.prop_raw(4, beyond, &[0; 4]).end().finish();
    let bytes = fdt.build();
    assert_eq!(walk_error(&bytes), structure(at, "property name outside the strings block"));
    let mut fdt = Fdt::new();
    fdt.begin("").prop_raw(0, u32::MAX, &[]).end().finish();
    assert_eq!(walk_error(&fdt.build()), structure(8, "property name outside the strings block"));
}

/// A name offset inside the strings block whose string runs off its end: the token is fine,
/// the name unreadable, and discovery treats it as a property it does not know.
#[test]
fn property_name_without_nul() {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    fdt.begin("chosen").string("bootargs", "x");
    // Every other name first, so the unterminated one stays last in the strings block.
    for name in ["device_type", "reg"] {
        fdt.name(name);
    }
    let dangling = fdt.strings.len() as u32;
    fdt.strings.extend_from_slice(b"bootargs"); // no NUL
    fdt.prop_raw(4, dangling, b"abc\0").end();
    memory(&mut fdt);
    pl011(&mut fdt);
    fdt.end().finish();
    let bytes = fdt.build();
    let blob = Blob::parse(&bytes).unwrap();
    let names: Vec<_> = blob
        .tokens()
        .filter_map(|t| match t.unwrap() {
            Token::Property { name, .. } => Some(blob.property_name(name)),
            _ => None,
        })
        .collect();
    // Root: three; chosen: bootargs, then the dangling one.
    assert_eq!(names[3], Some(&b"bootargs"[..]));
    assert_eq!(names[4], None);
    assert_eq!(names.iter().filter(|n| n.is_none()).count(), 1);
    assert_eq!(discover(&bytes).unwrap().bootargs, "x");
}

#[test]
fn unterminated_node_name() {
    let mut fdt = Fdt::new();
    fdt.begin("");
    let at = fdt.offset();
    fdt.word(BEGIN_NODE);
    fdt.structure.extend_from_slice(b"memory@4"); // no NUL before the block ends
    let bytes = fdt.build();
    assert_eq!(walk_error(&bytes), structure(at, "unterminated node name"));
}

/// Node names, like tokens, must end within the block's whole words: a NUL in a trailing partial
/// word does not count.
#[test]
fn node_name_ending_in_a_partial_word() {
    let mut fdt = Fdt::new();
    fdt.begin("");
    let at = fdt.offset();
    fdt.word(BEGIN_NODE);
    // Structure block of 17 bytes: "abcd" fills a word, its NUL is the 17th byte.
    fdt.structure.extend_from_slice(b"abcd\0");
    let bytes = fdt.build();
    assert_eq!(walk_error(&bytes), structure(at, "unterminated node name"));
}

#[test]
fn too_deep_nesting() {
    let build = |depth: usize| {
        let mut fdt = Fdt::new();
        open_root(&mut fdt);
        memory(&mut fdt);
        pl011(&mut fdt);
        let mut last = 0;
        for level in 2..=depth {
            last = fdt.offset();
            fdt.begin(&format!("n{level}"));
        }
        for _ in 2..=depth {
            fdt.end();
        }
        fdt.end().finish();
        (fdt.build(), last)
    };
    let (bytes, _) = build(MAX_DEPTH);
    let blob = Blob::parse(&bytes).unwrap();
    let mut tokens = blob.tokens();
    let mut deepest = 0;
    while let Some(token) = tokens.next() {
        token.unwrap();
        deepest = deepest.max(tokens.depth());
    }
    assert_eq!(deepest, MAX_DEPTH);
    assert!(discover(&bytes).is_ok());

    let (bytes, last) = build(MAX_DEPTH + 1);
    assert_eq!(walk_error(&bytes), structure(last, "nodes nested too deep"));
    assert_eq!(
        discover(&bytes).unwrap_err(),
        Failure {
            error: structure(last, "nodes nested too deep"),
            console: Some(0x0900_0000),
            console_kind: UartKind::Pl011
        }
    );
}

/// `FDT_NOP` anywhere between tokens is skipped: the same machine, and no token for it.
#[test]
fn nop_tokens_are_skipped() {
    let mut fdt = Fdt::new();
    fdt.nop().nop();
    fdt.begin("").nop();
    fdt.cells("#address-cells", &[2]).nop().cells("#size-cells", &[2]).nop();
    fdt.string("compatible", "linux,dummy-virt");
    memory(&mut fdt).nop();
    fdt.nop();
    pl011(&mut fdt);
    fdt.begin("chosen").nop().string("bootargs", "x").nop().end().nop();
    fdt.end().nop().nop().finish();
    let with_nops = fdt.build();
    let plain = valid().build();

    let count = |bytes: &[u8]| Blob::parse(bytes).unwrap().tokens().map(Result::unwrap).count();
    assert_eq!(count(&with_nops), count(&plain));
    let (a, b) = (discover(&with_nops).unwrap(), discover(&plain).unwrap());
    assert_eq!(
        (a.bootargs, a.console, triples(&a.ram), a.platform),
        (b.bootargs, b.console, triples(&b.ram), b.platform)
    );
}

/// Only NOPs and no FDT_END: the walk reports the end of the block, past the NOPs.
#[test]
fn only_nops() {
    let mut fdt = Fdt::new();
    fdt.nop().nop().nop();
    assert_eq!(walk_error(&fdt.build()), structure(12, "ends before FDT_END (truncated?)"));
}

#[test]
fn token_order_violations() {
    let cases: Vec<(Vec<u8>, usize, &str)> = vec![
        ({ Fdt::new().end().build() }, 0, "FDT_END_NODE outside any node"),
        ({ Fdt::new().prop("x", &[]).build() }, 0, "property outside any node"),
        ({ Fdt::new().finish().build() }, 0, "FDT_END inside a node or before the root node"),
        (
            { Fdt::new().begin("").finish().build() },
            8,
            "FDT_END inside a node or before the root node",
        ),
        ({ Fdt::new().begin("oops").build() }, 0, "the root node has a name"),
        ({ Fdt::new().begin("").end().begin("").build() }, 12, "a second root node"),
        ({ Fdt::new().begin("").end().end().build() }, 12, "FDT_END_NODE outside any node"),
        (
            { Fdt::new().begin("").begin("a").end().prop("x", &[]).build() },
            20,
            "property after a child node",
        ),
        // 5 is FDT_END in the `fdt` crate, not in the spec.
        ({ Fdt::new().begin("").word(5).build() }, 8, "unknown token"),
        ({ Fdt::new().begin("").word(0).build() }, 8, "unknown token"),
        ({ Fdt::new().begin("").word(0x0100_0000).build() }, 8, "unknown token"),
    ];
    for (bytes, offset, problem) in cases {
        assert_eq!(walk_error(&bytes), structure(offset, problem), "{problem}");
    }
}

/// The walk yields the first error once, then ends.
#[test]
fn an_error_ends_the_walk() {
    let bytes = Fdt::new().begin("").word(7).end().finish().build();
    let blob = Blob::parse(&bytes).unwrap();
    let mut tokens = blob.tokens();
    assert_eq!(tokens.next(), Some(Ok(Token::Begin { name: b"" })));
    assert_eq!(tokens.next(), Some(Err(structure(8, "unknown token"))));
    assert_eq!(tokens.next(), None);
    assert_eq!(tokens.next(), None);
}

#[test]
fn offsets_and_depths_of_tokens() {
    let bytes = valid().build();
    let blob = Blob::parse(&bytes).unwrap();
    let mut tokens = blob.tokens();
    let mut seen = Vec::new();
    while let Some(token) = tokens.next() {
        if let Token::Begin { name } = token.unwrap() {
            seen.push((
                String::from_utf8_lossy(name).into_owned(),
                tokens.offset(),
                tokens.depth(),
            ));
        }
    }
    // Root: 8 bytes; three props of 16 + 16 + (12 + 20) bytes; then memory@40000000.
    let memory = 8 + 16 + 16 + 32;
    // memory: 4 + 16 name + 12 + 8 + 12 + 16 + 4 end.
    let pl011 = memory + 4 + 16 + 20 + 28 + 4;
    assert_eq!(
        seen,
        [
            ("".to_owned(), 0, 1),
            ("memory@40000000".to_owned(), memory, 2),
            ("pl011@9000000".to_owned(), pl011, 2),
            ("chosen".to_owned(), pl011 + 4 + 16 + 36 + 28 + 4, 2),
        ]
    );
}

// --- The GIC and the timer ------------------------------------------------------------------------

/// A GICv2 node with `reg`, and a timer with `interrupts`.
fn gic_and_timer(reg: &[u32], interrupts: &[u32]) -> Vec<u8> {
    let (reg, interrupts) = (reg.to_vec(), interrupts.to_vec());
    with_body(move |fdt| {
        fdt.begin("intc@8000000")
            .string("compatible", "arm,cortex-a15-gic")
            .cells("reg", &reg)
            .end();
        fdt.begin("timer")
            .string("compatible", "arm,armv8-timer")
            .cells("interrupts", &interrupts)
            .end();
    })
}

const GIC_REG: [u32; 8] = [0, 0x0800_0000, 0, 0x1_0000, 0, 0x0801_0000, 0, 0x1_0000];
const TIMER: [u32; 12] = [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4];

#[test]
fn gic_and_timer_are_read() {
    let bytes = gic_and_timer(&GIC_REG, &TIMER);
    let machine = discover(&bytes).unwrap();
    assert!(machine.gic.is_some());
    assert_eq!(machine.virtual_timer, Some(27));
}

#[test]
fn gic_with_one_region() {
    let bytes = gic_and_timer(&GIC_REG[..4], &TIMER);
    assert_eq!(
        discover_error(&bytes),
        property(
            "intc@8000000",
            "reg",
            "fewer than two regions (distributor and CPU interface or redistributors)"
        )
    );
}

#[test]
fn timer_interrupts_that_are_not_gic_specifiers() {
    let bytes = gic_and_timer(&GIC_REG, &TIMER[..8]);
    assert_eq!(
        discover_error(&bytes),
        property(
            "timer",
            "interrupts",
            "not a whole number of three-cell GIC interrupt specifiers"
        )
    );
    let bytes = gic_and_timer(&GIC_REG, &TIMER[..6]);
    assert_eq!(
        discover_error(&bytes),
        property("timer", "interrupts", "no third (virtual timer) entry")
    );
    let mut spi = TIMER;
    spi[6] = 0; // an SPI
    let bytes = gic_and_timer(&GIC_REG, &spi);
    assert_eq!(
        discover_error(&bytes),
        property("timer", "interrupts", "the virtual timer is not a PPI below 16")
    );
    let mut big = TIMER;
    big[7] = 16;
    let bytes = gic_and_timer(&GIC_REG, &big);
    assert_eq!(
        discover_error(&bytes),
        property("timer", "interrupts", "the virtual timer is not a PPI below 16")
    );
}

#[test]
fn a_timer_without_a_gic_is_not_read() {
    let interrupts = TIMER[..8].to_vec();
    let bytes = with_body(move |fdt| {
        fdt.begin("timer")
            .string("compatible", "arm,armv7-timer")
            .cells("interrupts", &interrupts)
            .end();
    });
    let machine = discover(&bytes).unwrap();
    assert_eq!((machine.gic, machine.virtual_timer), (None, None));
}
