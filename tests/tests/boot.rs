//! Boot tests: every scenario of `rivet_tests::SCENARIOS` on every machine in targets/machines/.
//!
//! Tests are named `MACHINE::SCENARIO` (filter with e.g. `cargo test -p rivet-tests --test boot --
//! microvm::`). `RIVET_TEST_MACHINES=microvm,virt` restricts the machines; `RIVET_TEST_TIMEOUT`
//! sets the per-boot timeout in seconds (else the machine's `[test] timeout`, else 60). A machine
//! whose QEMU is missing fails its tests: it is never skipped silently. Scenarios a machine skips
//! (`[test] skip`, or not in its `[test] only` list) are reported as ignored. Run with at most two
//! test threads: each QEMU takes a core.

use libtest_mimic::{Arguments, Failed, Trial};
use rivet_tests::{run, SCENARIOS};
use xtask::Workspace;

fn main() {
    let args = Arguments::from_args();
    let ws = Workspace::locate();
    let only: Option<Vec<String>> = std::env::var("RIVET_TEST_MACHINES")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.split(',').map(|m| m.trim().to_owned()).collect());
    let trials = match ws.machines() {
        Err(e) => vec![Trial::test("machines", move || {
            Err(Failed::from(format!("cannot read targets/machines: {e}")))
        })],
        Ok(machines) => {
            let mut trials = Vec::new();
            if let Some(only) = &only {
                for name in only {
                    let known = machines.all().iter().any(|m| &m.id == name || &m.name == name);
                    if !known {
                        let message = format!("RIVET_TEST_MACHINES: no machine named `{name}`");
                        trials.push(Trial::test(format!("{name}::exists"), move || {
                            Err(Failed::from(message))
                        }));
                    }
                }
            }
            for machine in machines.all() {
                if only.as_ref().is_some_and(|only| {
                    !only.contains(&machine.name) && !only.contains(&machine.id)
                }) {
                    continue;
                }
                for scenario in SCENARIOS {
                    let skip = machine.test.skip_reason(scenario.name).is_some();
                    // The file name is unique even where two triples share a machine name.
                    let name = format!("{}::{}", machine.id, scenario.name);
                    let (ws, machine) = (ws.clone(), machine.clone());
                    let trial = Trial::test(name, move || {
                        run(&ws, &machine, scenario).map_err(Failed::from)
                    })
                    .with_ignored_flag(skip);
                    trials.push(trial);
                }
            }
            trials
        }
    };
    libtest_mimic::run(&args, trials).exit();
}
