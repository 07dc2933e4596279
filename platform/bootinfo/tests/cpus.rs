//! The cores under `/cpus`, as the SMP bring-up reads them: QEMU's `virt` (PSCI), the Pi trees
//! (spin tables) and hand-written edge cases; see `fixtures/README.md`.

use rivet_bootinfo::devicetree::{self, Blob, Cpu, Cpus, EnableMethod, Error, Machine, MAX_CPUS};

/// The cores `read` finds, or its error's text.
fn read(bytes: &[u8]) -> Result<Cpus, String> {
    let blob = Blob::parse(bytes).map_err(|e| e.to_string())?;
    let mut machine = Machine::new();
    devicetree::read(&blob, &mut machine).map_err(|failure| failure.error.to_string())?;
    Ok(machine.cpus)
}

fn psci(mpidr: u64) -> Cpu {
    Cpu { mpidr, enable: EnableMethod::Psci }
}

#[test]
fn qemu_virt_one_core() {
    let found = read(include_bytes!("fixtures/qemu-virt.dtb")).unwrap();
    // `-smp 1`: QEMU gives the only core no enable-method.
    assert_eq!(found.as_slice(), &[Cpu { mpidr: 0, enable: EnableMethod::None }]);
    assert_eq!(found.ignored, 0);
}

#[test]
fn qemu_virt_four_cores_psci() {
    let found = read(include_bytes!("fixtures/qemu-virt-smp4.dtb")).unwrap();
    assert_eq!(found.as_slice(), &[psci(0), psci(1), psci(2), psci(3)]);
}

#[test]
fn raspberry_pi_spin_tables() {
    for bytes in
        [&include_bytes!("fixtures/rpi4.dtb")[..], &include_bytes!("fixtures/rpi3.dtb")[..]]
    {
        let found = read(bytes).unwrap();
        let expected: Vec<Cpu> = (0..4)
            .map(|n| Cpu { mpidr: n, enable: EnableMethod::SpinTable { release: 0xd8 + 8 * n } })
            .collect();
        assert_eq!(found.as_slice(), &expected[..]);
    }
}

#[test]
fn edge_cases() {
    let found = read(include_bytes!("fixtures/cpus.dtb")).unwrap();
    assert_eq!(
        found.as_slice(),
        &[
            psci(0),
            psci(0x1_0000_0100), // two cells: Aff3 = 1; "disabled" is kept
            Cpu { mpidr: 0x200, enable: EnableMethod::SpinTable { release: 0x8000_fff8 } },
            // cpu@300 failed: skipped
            Cpu { mpidr: 0x400, enable: EnableMethod::None },
        ]
    );
}

#[test]
fn spin_table_without_release_address() {
    let error = read(include_bytes!("fixtures/cpus-no-release.dtb")).unwrap_err();
    assert_eq!(
        error,
        Error::BadProperty { node: "cpu@1", property: "cpu-release-addr", problem: "missing" }
            .to_string()
    );
}

#[test]
fn no_cpus_node() {
    let found = read(include_bytes!("fixtures/two-memory.dtb")).unwrap();
    assert!(found.as_slice().is_empty());
}

#[test]
fn more_cores_than_kept() {
    // A tree with MAX_CPUS + 3 cores, built here: the extra ones are counted, not kept.
    let mut dts = String::from(
        "/dts-v1/;\n/ {\n#address-cells = <2>;\n#size-cells = <1>;\n\
         memory@40000000 { device_type = \"memory\"; reg = <0 0x40000000 0x1000000>; };\n\
         pl011@9000000 { compatible = \"arm,pl011\"; reg = <0 0x9000000 0x1000>; };\n\
         cpus {\n#address-cells = <1>;\n#size-cells = <0>;\n",
    );
    for n in 0..MAX_CPUS + 3 {
        dts += &format!(
            "cpu@{n:x} {{ device_type = \"cpu\"; reg = <{n}>; enable-method = \"psci\"; }};\n"
        );
    }
    dts += "};\n};\n";
    let Some(dtb) = compile(&dts) else { return };
    let found = read(&dtb).unwrap();
    assert_eq!(found.as_slice().len(), MAX_CPUS);
    assert_eq!(found.as_slice()[MAX_CPUS - 1], psci(MAX_CPUS as u64 - 1));
    assert_eq!(found.ignored, 3);
}

/// Compiles `dts` with dtc, or `None` (the test is skipped) where dtc is not installed.
fn compile(dts: &str) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut child = std::process::Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(dts.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    output.status.success().then_some(output.stdout)
}
