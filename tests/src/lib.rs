//! Rivet's boot tests: the scenario table and the checks, shared by `tests/boot.rs`.
//!
//! A scenario is one example booted with some arguments, passing only on the agreed exit code plus
//! the expected console lines. Every scenario runs on every machine of `targets/machines/` (the
//! machine's `[test] skip` table names scenarios that cannot pass there, and why; `*` names them
//! all, for a machine whose kernel support has not landed). Adding a scenario is adding an entry
//! to [`SCENARIOS`]; adding a machine is adding its TOML file.
//!
//! Expected lines are patterns matched against whole console lines (trailing whitespace ignored;
//! terminal escape sequences and the machine's `[test] line_prefix` removed first): `*` matches
//! any run of characters, `{platform}` is the machine's `[test] platform`, `{cores}` the number of
//! cores the machine boots with for the scenario.
//! Images are built once per (triple, example, format), serially, before any boot uses them: two
//! cargo builds at once would only wait on each other's lock.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use xtask::image::{self, Output, Profile};
use xtask::machine::{ExitConvention, ImageFormat, LaunchSettings, Machine};
use xtask::qemu::{self, Boot, Outcome};
use xtask::{cmdline, Workspace};

pub mod net;
pub use net::{NetCheck, NetTest};

/// One boot test.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The test's name (also the key in a machine's `[test] skip` table).
    pub name: &'static str,
    /// The example to boot.
    pub example: &'static str,
    /// Kernel parameters (before `--`).
    pub params: &'static [&'static str],
    /// Application arguments.
    pub args: &'static [&'static str],
    /// Cores to give the machine (`-smp`), where its file lets the count change; `None`: its
    /// default.
    pub smp: Option<u32>,
    /// A command line passed verbatim instead of `params -- args` (for malformed lines).
    pub raw_cmdline: Option<&'static str>,
    /// The exit code the boot must end with (ignored when `reset` is set).
    pub exit_code: u8,
    /// The boot must end in a machine reset (`rivet::process::reboot`), not an exit code. A reset
    /// ends a `-no-reboot` QEMU with status 0: where exit codes come through isa-debug-exit that
    /// is [`Outcome::GuestReset`], unlike every exit code; where they come directly
    /// (semihosting) it reads as exit code 0, so there the console must also show one of the
    /// kernel's [`RESET_ANNOUNCEMENTS`] (the application never exits, so no `exit(0)` follows).
    pub reset: bool,
    /// Patterns that must match console lines in this order (other lines may come between).
    pub in_order: &'static [&'static str],
    /// Patterns that must each match some console line, anywhere.
    pub anywhere: &'static [&'static str],
    /// A network server scenario: the machine gets a card on QEMU user networking, and once
    /// the console says the server is ready the host runs the check against it; QEMU is then
    /// stopped (`exit_code` is not looked at).
    pub net: Option<NetTest>,
}

/// Every scenario, run on every machine.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "hello",
        example: "hello",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["Hello from Rivet on {platform}"],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "hello-args",
        example: "hello",
        params: &[],
        args: &["one", "two words", "it's \"quoted\"", "--flag"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "Hello from Rivet on {platform}",
            "one",
            "two words",
            "it's \"quoted\"",
            "--flag",
        ],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "hello-kernel-params",
        example: "hello",
        params: &["rivet.log=debug"],
        args: &["after dashes"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "*boot: first instruction to main took *us*",
            "Hello from Rivet on {platform}",
            "after dashes",
        ],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "exit-code-42",
        example: "exit-code",
        params: &[],
        args: &["42"],
        smp: None,
        raw_cmdline: None,
        exit_code: 42,
        reset: false,
        in_order: &["exiting with 42"],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "exit-code-0",
        example: "exit-code",
        params: &[],
        args: &["0"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["exiting with 0"],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "panic",
        example: "panic",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 101,
        reset: false,
        in_order: &["*panicked at examples/panic.rs:*", "*backtrace:*", "*#0 0x*"],
        anywhere: &["*deliberate panic: the answer is 42*"],
        net: None,
    },
    Scenario {
        name: "null-deref",
        example: "null-deref",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 102,
        reset: false,
        in_order: &[],
        anywhere: &["*CPU exception: *", "*fault address: 0x0000000000000000*"],
        net: None,
    },
    Scenario {
        name: "stack-overflow",
        example: "stack-overflow",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 102,
        reset: false,
        in_order: &[],
        anywhere: &["*stack overflow*"],
        net: None,
    },
    Scenario {
        name: "threads",
        example: "threads",
        params: &[],
        args: &["mutex", "condvar", "channel", "rwlock", "barrier", "once", "local", "sleep"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "threads: {cores} cores",
            "mutex: total 40000",
            "mutex: ok",
            "condvar: 2000 items, sum 2001000",
            "channel: ok",
            "rwlock: ok",
            "barrier: ok",
            "once: ok",
            "local: ok",
            "sleep: 4 x 100 ms, shortest * us, latest wake-up * us late, * ms in all",
            "sleep: ok",
            "threads: all ok",
        ],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "threads-preempt",
        example: "threads",
        params: &["rivet.timeslice=5"],
        args: &["preempt", "parallel"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "preempt: 3 threads finished beside a spinning one in * ms",
            "preempt: ok",
            "parallel: 6057 primes below 60000; *",
            "parallel: ok",
            "threads: all ok",
        ],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "threads-smp2",
        example: "threads",
        params: &[],
        args: &["mutex", "condvar", "channel", "barrier", "once", "sleep", "preempt", "parallel"],
        smp: Some(2),
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "threads: {cores} cores",
            "mutex: total 40000",
            "condvar: 2000 items, sum 2001000",
            "sleep: ok",
            "preempt: ok",
            "parallel: 6057 primes below 60000; 1 thread * ms, {cores} threads * ms, speed-up *x",
            "threads: all ok",
        ],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "threads-smp4",
        example: "threads",
        params: &[],
        args: &[
            "mutex", "condvar", "channel", "rwlock", "barrier", "once", "local", "preempt",
            "parallel",
        ],
        smp: Some(4),
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "threads: {cores} cores",
            "mutex: total 40000",
            "condvar: 2000 items, sum 2001000",
            "channel: ok",
            "rwlock: ok",
            "local: ok",
            "preempt: ok",
            "parallel: 6057 primes below 60000; 1 thread * ms, {cores} threads * ms, speed-up *x",
            "threads: all ok",
        ],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "thread-stack-overflow",
        example: "threads",
        params: &[],
        args: &["overflow"],
        smp: None,
        raw_cmdline: None,
        exit_code: 102,
        reset: false,
        in_order: &[
            "*stack overflow: the thread's stack ran into its guard page*",
            "in thread 'deep-recursion' (id *) on core *",
        ],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "sleep",
        example: "sleep",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["slept * us for 100000 us asked", "timer interrupts: *", "sleep ok"],
        anywhere: &[],
        net: None,
    },
    // The wall clock: read from the machine's RTC at boot (CMOS, PL031, UEFI GetTime, Xen's
    // shared info), so the year is this century; machines without an RTC print 1970 and skip.
    Scenario {
        name: "wall-clock",
        example: "wall-clock",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "wall clock: 20*-*-* *:*:* UTC (source: *)",
            "wall clock advanced * us over a 100000 us sleep",
            "wall clock ok",
        ],
        anywhere: &[],
        net: None,
    },
    // Device interrupts through the I/O APIC (x86 PC-style machines: the others skip it): the
    // PIT's IRQ 0, routed by the firmware's tables (GSI 2 on QEMU), counted while main sleeps.
    Scenario {
        name: "ioapic",
        example: "ioapic",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["ioapic: * PIT interrupts through GSI 2 (vector 0x32)"],
        anywhere: &[],
        net: None,
    },
    // The same with a second core running: device interrupts still reach the boot core.
    Scenario {
        name: "ioapic-smp2",
        example: "ioapic",
        params: &[],
        args: &[],
        smp: Some(2),
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["ioapic: * PIT interrupts through GSI 2 (vector 0x32)"],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "bad-command-line",
        example: "hello",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: Some("a 'never closed"),
        exit_code: 103,
        reset: false,
        in_order: &["*quote at byte * is never closed*"],
        anywhere: &[],
        net: None,
    },
    Scenario {
        name: "heap",
        example: "heap",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "heap: *verified",
            "*allocation beyond memory failed cleanly*",
            "heap workout passed",
        ],
        anywhere: &[],
        net: None,
    },
    // `rivet::process::reboot()`: a reset, told apart from `exit(0)` (see `Scenario::reset`).
    Scenario {
        name: "reboot",
        example: "reboot",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: true,
        in_order: &["rebooting"],
        anywhere: &[],
        net: None,
    },
    // Networking (the machine's `net` card on QEMU user networking: DHCP gives 10.0.2.15).
    Scenario {
        name: "net-http",
        example: "http-hello",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "*net: virtio-net at *, MAC 52:54:00:12:34:56 (interrupt-driven*)",
            "*net: address 10.0.2.15/24, gateway 10.0.2.2, dns 10.0.2.3",
            "http-hello: listening on 10.0.2.15:80",
        ],
        anywhere: &[],
        net: Some(NetTest {
            ready: "http-hello: listening on",
            tcp: Some(80),
            udp: None,
            check: NetCheck::Host(net::http_hello),
        }),
    },
    Scenario {
        name: "net-http-smp2",
        example: "http-hello",
        params: &[],
        args: &[],
        smp: Some(2),
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["http-hello: listening on 10.0.2.15:80"],
        anywhere: &[],
        net: Some(NetTest {
            ready: "http-hello: listening on",
            tcp: Some(80),
            udp: None,
            check: NetCheck::Host(net::http_hello),
        }),
    },
    Scenario {
        name: "net-static-address",
        example: "http-hello",
        // QEMU's user network forwards to 10.0.2.15, the address its DHCP server hands out.
        params: &["ip=10.0.2.15/24", "gw=10.0.2.2", "dns=10.0.2.3"],
        args: &["8000"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "*net: address 10.0.2.15/24, gateway 10.0.2.2, dns 10.0.2.3",
            "http-hello: listening on 10.0.2.15:8000",
        ],
        anywhere: &[],
        net: Some(NetTest {
            ready: "http-hello: listening on",
            tcp: Some(8000),
            udp: None,
            check: NetCheck::Host(net::http_get),
        }),
    },
    Scenario {
        name: "net-tcp-echo",
        example: "tcp-echo",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["tcp-echo: listening on 10.0.2.15:7"],
        anywhere: &[],
        net: Some(NetTest {
            ready: "tcp-echo: listening on",
            tcp: Some(7),
            udp: None,
            check: NetCheck::Host(net::tcp_echo),
        }),
    },
    Scenario {
        name: "net-udp-echo",
        example: "udp-echo",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["udp-echo: listening on 10.0.2.15:7"],
        anywhere: &[],
        net: Some(NetTest {
            ready: "udp-echo: listening on",
            tcp: None,
            udp: Some(7),
            check: NetCheck::Host(net::udp_echo),
        }),
    },
    Scenario {
        name: "net-c-http",
        example: "c/http-server",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["http-server: listening on port 80"],
        anywhere: &[],
        net: Some(NetTest {
            ready: "http-server: listening on",
            tcp: Some(80),
            udp: None,
            check: NetCheck::Host(net::http_hello),
        }),
    },
    Scenario {
        name: "net-bad-address",
        example: "hello",
        params: &["ip=10.0.2.300/24"],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 103,
        reset: false,
        in_order: &["rivet: ip=: not a dotted-quad IPv4 address"],
        anywhere: &[],
        net: None,
    },
    // C and C++ applications through libc-shim (issue #5), built by rivet-cc / rivet-c++
    // (`c/NAME` and `cpp/NAME` examples: xtask/src/cc.rs).
    Scenario {
        name: "c-libc-test",
        example: "c/libc-test",
        params: &[],
        args: &["one", "two"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["libc-test: 2 argument(s) after app", "libc-test: * checks, 0 failed"],
        anywhere: &["stdio: stderr works", "stdio: perror: No such file or directory"],
        net: None,
    },
    // getenv reads KEY=VALUE words before `--`.
    Scenario {
        name: "c-getenv",
        example: "c/libc-test",
        params: &["LIBC_TEST_GREETING=hi"],
        args: &["env"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &["libc-test: 1 argument(s) after app", "libc-test: * checks, 0 failed"],
        anywhere: &[],
        net: None,
    },
    // The C++17 program: its console must be exactly what the host build prints (the host test
    // `cxx_demo_matches_the_host_build` checks CXX_DEMO_LINES against the host's g++).
    Scenario {
        name: "cxx-demo",
        example: "cpp/cxx-demo",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: CXX_DEMO_LINES,
        anywhere: &[],
        net: None,
    },
    // The same on two cores: std::thread workers and the condition-variable ping-pong run in
    // parallel, each thread with its own TLS block.
    Scenario {
        name: "cxx-demo-smp2",
        example: "cpp/cxx-demo",
        params: &[],
        args: &[],
        smp: Some(2),
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: CXX_DEMO_LINES,
        anywhere: &[],
        net: None,
    },
    // An uncaught exception: terminate's message, then abort's exit code.
    Scenario {
        name: "cxx-uncaught",
        example: "cpp/uncaught",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 105,
        reset: false,
        in_order: &[
            "uncaught: throwing",
            "terminate called after throwing an instance of 'std::logic_error'",
            "  what():  nobody catches this",
            "Aborted",
        ],
        anywhere: &[],
        net: None,
    },
    // C and Rust in one image, each calling the other.
    Scenario {
        name: "c-mixed",
        example: "c/mixed",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "mixed: Rust starts the C program",
            "mixed: C got 30 from Rust (1+4+9+16 squared in C)",
            "mixed: Rust reversed: hello to the world",
        ],
        anywhere: &[],
        net: None,
    }, // Xen's services (issue #3): the domain's name from xenstore (the harness names it `rivet`),
    // a transaction, a directory, a missing key, a watch, and a 200 ms sleep measured against
    // Xen's clock. Only a domU started by a toolstack has xenstore.
    Scenario {
        name: "xen-store",
        example: "xen-store",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "xen: Xen 4.17",
            "xen: domain name rivet, id *",
            "xen: data/greeting = \"hello from rivet\"; data holds *greeting*",
            "xen: watch fired for *data/watched",
            "xen: slept 200 ms: * us by the Xen clock, * us by the kernel's",
            "xen-store ok",
        ],
        anywhere: &[],
        net: None,
    },
    // Xen netfront (issue #7): the domU's HTTP server reached from the Linux dom0 over the vif
    // (busybox wget): 200 requests, each answer's length checked, then the page's title.
    Scenario {
        name: "xen-net-http",
        example: "http-hello",
        params: &["ip=192.168.100.2/24"],
        args: &["8080"],
        smp: None,
        raw_cmdline: None,
        exit_code: 0,
        reset: false,
        in_order: &[
            "*net: Xen netfront device/vif/0 (back end in domain 0), MAC *",
            "*net: address 192.168.100.2/24",
            "http-hello: listening on 192.168.100.2:8080",
            "RIVET-DOM0-CHECK: ok 200 pages of 612 bytes; <title>Hello from Rivet</title>",
        ],
        anywhere: &[],
        net: Some(NetTest {
            ready: "http-hello: listening on",
            tcp: None,
            udp: None,
            check: NetCheck::Dom0(XEN_NET_CHECK),
        }),
    },
    // The same program where Xen runs the image without a toolstack (x86_64 dom0, arm64
    // dom0less): the version comes through a hypercall (the page's stub on x86_64, `hvc #0xEA1`
    // on arm64), and the missing xenstore is a clean error.
    Scenario {
        name: "xen-no-store",
        example: "xen-store",
        params: &[],
        args: &[],
        smp: None,
        raw_cmdline: None,
        exit_code: 1,
        reset: false,
        in_order: &[
            "xen: Xen 4.17",
            "xen-store FAILED: read name: xenstore: not available on this platform",
        ],
        anywhere: &[],
        net: None,
    },
];

/// dom0's check of `xen-net-http` (busybox sh): 200 GETs, every body exactly the 612-byte
/// page, then the page's title.
const XEN_NET_CHECK: &str = "url=http://192.168.100.2:8080/; n=0; \
    while [ $n -lt 200 ]; do \
        size=$(wget -q -O - $url | wc -c) || exit 1; \
        [ \"$size\" -eq 612 ] || { echo \"page $n: $size bytes\"; exit 1; }; \
        n=$((n + 1)); \
    done; \
    echo \"$n pages of 612 bytes;\"; wget -q -O - $url | grep -o '<title>.*</title>'";

/// What `examples/cpp/cxx-demo.cpp` prints, line by line (stdout and stderr together), on the
/// host and in an image alike.
pub const CXX_DEMO_LINES: &[&str] = &[
    "construct global one",
    "construct global two",
    "cxx-demo: main starts",
    "square(1)  area 1.000",
    "circle(1)  area 3.142",
    "square(3)  area 9.000",
    "circle(2)  area 12.566",
    "map: brown=1 dog=1 end=1 fox=1 jumps=1 lazy=1 over=1 quick=1 the=3",
    "unordered_map: 9 words, 'quick' has 5 letters, first key brown",
    "sum 1..10 = 55",
    "shared_ptr use_count 2 -> shared text",
    "shared_ptr use_count 1",
    "double 2.5 int 42 hex ff bool true",
    "construct frame 0",
    "construct frame 1",
    "construct frame 2",
    "construct frame 3",
    "destroy frame 3",
    "destroy frame 2",
    "destroy frame 1",
    "destroy frame 0",
    "caught DemoError: thrown at depth 3 (depth 3)",
    "caught std::out_of_range from vector::at",
    "threads: sum 1..4000 = 8002000",
    "condition_variable: ping 0 pong 0 ping 1 pong 1 ping 2 pong 2",
    "wait_for timed out: true",
    "sleep_for(20ms) slept at least 20 ms: true",
    "system_clock is after 1970: true",
    "cxx-demo: a line on std::cerr",
    "cxx-demo: main returns",
    "destroy global two",
    "destroy global one",
];

/// The lines the aarch64 kernel prints just before it resets the machine (`platform/src/boot/
/// shutdown.rs`): on machines whose exit status cannot tell a reset from `exit(0)`, the evidence
/// of a [`Scenario::reset`] boot.
pub const RESET_ANNOUNCEMENTS: &[&str] =
    &["*rivet: reboot: PSCI SYSTEM_RESET", "*rivet: reboot: BCM2835 watchdog, boot partition 0"];

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
pub fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Checks a console transcript against a scenario; the error names the first unmet expectation.
pub fn check_console(
    scenario: &Scenario,
    platform: &str,
    cores: u32,
    console: &str,
) -> Result<(), String> {
    let lines: Vec<&str> = console.lines().map(str::trim_end).collect();
    let expand = |p: &str| p.replace("{platform}", platform).replace("{cores}", &cores.to_string());
    let mut from = 0;
    for pattern in scenario.in_order.iter().map(|p| expand(p)) {
        match lines[from..].iter().position(|l| glob(&pattern, l)) {
            Some(at) => from += at + 1,
            None if lines.iter().any(|l| glob(&pattern, l)) => {
                return Err(format!(
                    "console line `{pattern}` appears, but not after the lines expected before it"
                ));
            }
            None => return Err(format!("no console line matches `{pattern}`")),
        }
    }
    for pattern in scenario.anywhere.iter().map(|p| expand(p)) {
        if !lines.iter().any(|l| glob(&pattern, l)) {
            return Err(format!("no console line matches `{pattern}`"));
        }
    }
    Ok(())
}

/// Checks a whole boot: exit code (or reset) first, then the console. `exit` is how the
/// machine's QEMU carries exit codes, which decides what a reset looks like.
pub fn check(
    scenario: &Scenario,
    platform: &str,
    cores: u32,
    exit: ExitConvention,
    outcome: &Outcome,
    console: &str,
) -> Result<(), String> {
    if scenario.reset {
        return match (exit, outcome) {
            (ExitConvention::IsaDebugExit, Outcome::GuestReset) => {
                check_console(scenario, platform, cores, console)
            }
            (ExitConvention::Direct, Outcome::Exited(0)) => {
                let announced = console
                    .lines()
                    .map(str::trim_end)
                    .any(|line| RESET_ANNOUNCEMENTS.iter().any(|pattern| glob(pattern, line)));
                if !announced {
                    return Err("exit code 0 but no reset announcement (`rivet: reboot: …`) on \
                                the console: an exit, not a reset"
                        .into());
                }
                check_console(scenario, platform, cores, console)
            }
            (_, other) => Err(format!("expected a guest reset, got: {}", other.describe())),
        };
    }
    match outcome {
        Outcome::Exited(code) if *code == scenario.exit_code => {
            check_console(scenario, platform, cores, console)
        }
        other => {
            Err(format!("expected exit code {}, got: {}", scenario.exit_code, other.describe()))
        }
    }
}

/// The per-boot timeout on `machine`: `RIVET_TEST_TIMEOUT` seconds, else the machine's
/// `[test] timeout` (a machine that boots a Linux dom0 first needs longer), else 60.
pub fn boot_timeout(machine: &Machine) -> Duration {
    let secs = std::env::var("RIVET_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .or(machine.test.timeout)
        .unwrap_or(60.0);
    Duration::from_secs_f64(secs)
}

type ImageKey = (String, String, ImageFormat);

/// Built images, by (triple, example, format). The lock is held while building, so builds run one
/// at a time and a failed build is reported to every test that needs it without building again.
static IMAGES: Mutex<Option<HashMap<ImageKey, Result<PathBuf, String>>>> = Mutex::new(None);

/// The image of `example` for `machine`, built on first use.
pub fn image_for(ws: &Workspace, machine: &Machine, example: &str) -> Result<PathBuf, String> {
    let mut images = IMAGES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = (machine.triple.clone(), example.to_owned(), machine.image);
    images
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_insert_with(|| {
            image::build(
                ws,
                &machine.triple,
                example,
                Profile::Release,
                machine.image,
                Output::Capture,
            )
            .map(|built| built.image)
            .map_err(|e| e.to_string())
        })
        .clone()
}

/// Builds (if needed) and boots one scenario on one machine; the error carries the transcript.
pub fn run(ws: &Workspace, machine: &Machine, scenario: &Scenario) -> Result<(), String> {
    let image = image_for(ws, machine, scenario.example).map_err(|e| {
        format!("building `{}` for {} failed:\n{e}", scenario.example, machine.triple)
    })?;
    let owned = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    let settings = LaunchSettings {
        image,
        cmdline: match scenario.raw_cmdline {
            Some(raw) => raw.to_owned(),
            None => cmdline::build(&owned(scenario.params), &owned(scenario.args)),
        },
        memory: None,
        smp: scenario.smp,
        accel: None,
        net: None,
        dom0_check: None,
    };
    let mut settings = settings;
    let mut live_check = None;
    let mut marker = None;
    match scenario.net {
        Some(NetTest { ready, check: NetCheck::Dom0(command), .. }) => {
            // dom0 reaches the domU over its vif; QEMU's user network only makes the card exist.
            settings.net = Some(xtask::net::NetSpec::User(Vec::new()));
            settings.dom0_check = Some(xtask::dom0::Dom0Check {
                marker: ready.to_owned(),
                command: command.to_owned(),
            });
        }
        Some(NetTest { ready, tcp, udp, check: NetCheck::Host(check) }) => {
            let ports = net::Ports {
                tcp: if tcp.is_some() { net::free_port(false)? } else { 0 },
                udp: if udp.is_some() { net::free_port(true)? } else { 0 },
            };
            let forward = |udp: bool, host: u16, guest: Option<u16>| {
                guest.map(|guest| xtask::net::Forward { udp, host, guest })
            };
            let forwards = [forward(false, ports.tcp, tcp), forward(true, ports.udp, udp)];
            settings.net =
                Some(xtask::net::NetSpec::User(forwards.into_iter().flatten().collect()));
            marker = Some(ready.to_owned());
            live_check = Some(qemu::LiveCheck(std::sync::Arc::new(move || check(&ports))));
        }
        None => {}
    }
    // Boards with a fixed core count (the Pis) take no `-smp`: they boot with the file's count.
    let takes_smp = machine.args.iter().any(|arg| arg.contains("{smp}"));
    let cores = if takes_smp { scenario.smp.unwrap_or(machine.smp) } else { machine.smp };
    let boot = Boot {
        machine,
        settings,
        echo: false,
        interactive: false,
        // A network check needs longer: QEMU's user network accepts host connections one at a
        // time (listen backlog 1), so 200 at once queue in the host's kernel.
        timeout: Some(if scenario.net.is_some() {
            boot_timeout(machine) * 3
        } else {
            boot_timeout(machine)
        }),
        marker,
        stop_at_marker: false,
        live_check,
    };
    let report = qemu::boot(ws, &boot).map_err(|e| e.to_string())?;
    if matches!(scenario.net, Some(NetTest { check: NetCheck::Host(_), .. })) {
        let failure = match (&report.live_check, &report.outcome) {
            (Some(Ok(_)), _) => None,
            (Some(Err(why)), _) => Some(format!("the network check failed: {why}")),
            (None, outcome) => Some(format!(
                "the server never said it was ready, or the check did not finish: {}",
                outcome.describe()
            )),
        };
        let console = machine.test.strip_prefix(&report.console);
        let failure = failure
            .or_else(|| check_console(scenario, &machine.test.platform, cores, &console).err());
        return match failure {
            None => Ok(()),
            Some(why) => Err(format!(
                "{} on {}: {why}\n{}",
                scenario.name,
                machine.name,
                report.transcript()
            )),
        };
    }
    check(
        scenario,
        &machine.test.platform,
        cores,
        machine.exit,
        &report.outcome,
        &machine.test.strip_prefix(&report.console),
    )
    .map_err(|why| format!("{} on {}: {why}\n{}", scenario.name, machine.name, report.transcript()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_years_must_be_this_century() {
        let wall = scenario("wall-clock");
        let tail = "wall clock advanced 104000 us over a 100000 us sleep\nwall clock ok\n";
        let good = format!("wall clock: 2026-11-27 18:54:55 UTC (source: pl031)\n{tail}");
        assert_eq!(check_console(wall, "p", 1, &good), Ok(()));
        let epoch = format!("wall clock: 1970-01-01 00:00:00 UTC (source: none)\n{tail}");
        assert!(check_console(wall, "p", 1, &epoch).is_err());
    }

    #[test]
    fn glob_matches_whole_lines() {
        assert!(glob("abc", "abc"));
        assert!(!glob("abc", "abcd"));
        assert!(glob("*b*", "abc"));
        assert!(glob("a*c", "abbc"));
        assert!(!glob("a*c", "abcd"));
        assert!(glob("*#0 0x*", "  #0 0xffff"));
        assert!(glob("heap: *verified", "heap: 4000 allocations verified"));
        assert!(!glob("ab*ba", "aba"));
        assert!(glob("*", ""));
    }

    fn scenario(name: &str) -> &'static Scenario {
        SCENARIOS.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn consoles_are_checked_in_order() {
        let hello = scenario("hello-args");
        let good = "[info] boot\nHello from Rivet on x86_64/pvh\r\none\ntwo words\nit's \"quoted\"\n--flag\n";
        assert_eq!(check_console(hello, "x86_64/pvh", 1, good), Ok(()));
        assert!(check_console(hello, "aarch64/virt", 1, good).is_err());
        let swapped = "Hello from Rivet on x86_64/pvh\ntwo words\none\nit's \"quoted\"\n--flag\n";
        assert!(check_console(hello, "x86_64/pvh", 1, swapped).unwrap_err().contains("not after"));
        let panic = scenario("panic");
        let console = "panicked at examples/panic.rs:9:5:\ndeliberate panic: the answer is 42\nbacktrace:\n  #0 0xffffffff80001234\n";
        let isa = ExitConvention::IsaDebugExit;
        assert_eq!(check(panic, "p", 1, isa, &Outcome::Exited(101), console), Ok(()));
        assert!(check(panic, "p", 1, isa, &Outcome::Exited(102), console)
            .unwrap_err()
            .contains("expected exit code 101"));
        assert!(check(panic, "p", 1, isa, &Outcome::GuestReset, console)
            .unwrap_err()
            .contains("reset"));
    }

    #[test]
    fn reboot_must_end_in_a_reset() {
        let reboot = scenario("reboot");
        let (isa, direct) = (ExitConvention::IsaDebugExit, ExitConvention::Direct);
        let plain = "rebooting\n";
        // isa-debug-exit: status 0 is a reset, unlike any exit code.
        assert_eq!(check(reboot, "p", 1, isa, &Outcome::GuestReset, plain), Ok(()));
        assert!(check(reboot, "p", 1, isa, &Outcome::Exited(0), plain)
            .unwrap_err()
            .contains("expected a guest reset"));
        assert!(check(reboot, "p", 1, isa, &Outcome::Exited(104), plain).is_err());
        // Direct: status 0 only with the kernel's announcement of the reset.
        let psci = "rebooting\r\nrivet: reboot: PSCI SYSTEM_RESET\n";
        let watchdog = "(XEN) rebooting\nrivet: reboot: BCM2835 watchdog, boot partition 0\n";
        assert_eq!(check(reboot, "p", 1, direct, &Outcome::Exited(0), psci), Ok(()));
        assert!(check(reboot, "p", 1, direct, &Outcome::Exited(0), watchdog).is_err());
        let watchdog = "rebooting\nrivet: reboot: BCM2835 watchdog, boot partition 0\n";
        assert_eq!(check(reboot, "p", 1, direct, &Outcome::Exited(0), watchdog), Ok(()));
        assert!(check(reboot, "p", 1, direct, &Outcome::Exited(0), plain)
            .unwrap_err()
            .contains("no reset announcement"));
        let refused = "rebooting\nrivet: reboot: PSCI SYSTEM_RESET refused (status -1)\n";
        assert!(check(reboot, "p", 1, direct, &Outcome::Exited(0), refused).is_err());
        assert!(check(reboot, "p", 1, direct, &Outcome::Exited(104), psci).is_err());
        assert!(check(reboot, "p", 1, direct, &Outcome::TimedOut(Duration::ZERO), psci).is_err());
        // Every other scenario still wants its exit code.
        let hello = scenario("hello");
        assert!(check(hello, "x86_64/pvh", 1, isa, &Outcome::GuestReset, "").is_err());
    }

    #[test]
    fn scenarios_are_well_formed() {
        let manifest =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/Cargo.toml"))
                .unwrap();
        let mut names = std::collections::HashSet::new();
        for s in SCENARIOS {
            assert!(names.insert(s.name), "two scenarios named {}", s.name);
            // C and C++ examples (`c/NAME`, `cpp/NAME`) are sources under examples/c, examples/cpp.
            let c_example = xtask::cc::c_example(&xtask::Workspace::locate(), s.example)
                .is_ok_and(|found| found.is_some());
            assert!(
                c_example || manifest.contains(&format!("name = \"{}\"", s.example)),
                "no [[example]] {}",
                s.example
            );
            assert!(
                !s.in_order.is_empty() || !s.anywhere.is_empty(),
                "{} checks no console line",
                s.name
            );
        }
    }

    #[test]
    fn a_subset_machine_runs_only_its_scenarios() {
        let machines = Workspace::locate().machines().unwrap();
        let domu = machines.get("xen-domu", Some("x86_64-unknown-none")).unwrap();
        assert_eq!(domu.test.skip_reason("hello"), None);
        assert_eq!(domu.test.skip_reason("exit-code-42"), None);
        let reason = domu.test.skip_reason("threads-smp4").expect("outside `only`: ignored");
        assert_eq!(reason, domu.test.only_reason);
        assert!(boot_timeout(domu) >= Duration::from_secs(60));
    }

    #[test]
    fn machines_skip_only_known_scenarios() {
        let machines = Workspace::locate().machines().unwrap();
        for m in machines.all() {
            for name in m.test.skip.keys() {
                assert!(
                    name == "*" || SCENARIOS.iter().any(|s| s.name == name),
                    "{} skips unknown scenario {name}",
                    m.name
                );
            }
        }
    }
}

/// The C++ demo's expected lines are what the host's g++ build prints (issue #5: the image must
/// print exactly what the host build prints).
#[cfg(test)]
mod cxx_host {
    use super::CXX_DEMO_LINES;
    use std::process::Command;

    #[test]
    fn cxx_demo_matches_the_host_build() {
        let ws = xtask::Workspace::locate();
        let source = ws.root.join("examples/cpp/cxx-demo.cpp");
        let binary = std::env::temp_dir().join(format!("rivet-cxx-demo-{}", std::process::id()));
        let built = Command::new("g++")
            .args(["-std=c++17", "-O2", "-pthread", "-o"])
            .arg(&binary)
            .arg(&source)
            .status()
            .expect("g++ runs (ci/setup.sh installs it)");
        assert!(built.success(), "g++ failed on {}", source.display());
        // stderr into the same pipe as stdout, as the console merges them.
        let output = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" 2>&1")
            .arg(&binary)
            .output()
            .expect("the host build runs");
        let _ = std::fs::remove_file(&binary);
        assert!(output.status.success());
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, CXX_DEMO_LINES, "CXX_DEMO_LINES differs from the host build's output");
    }
}

/// The x86_64 image's Xen notes, read as Xen's domain builders read them: one image boots as a
/// PV guest (dom0 or domU) and through PVH.
#[cfg(test)]
mod xen_notes {
    use rivet_xen_abi::elf_notes::for_each_xen_note;
    use rivet_xen_abi::elfnote;
    use xtask::image::{self, Output, Profile};
    use xtask::machine::ImageFormat;

    /// Where the kernel is linked (`rivet_arch::head::VIRT_BASE`).
    const VIRT_BASE: u64 = 0xffff_ffff_8000_0000;

    #[test]
    fn the_x86_64_image_carries_the_pv_and_pvh_notes() {
        let ws = xtask::Workspace::locate();
        let built = image::build(
            &ws,
            "x86_64-unknown-none",
            "hello",
            Profile::Release,
            ImageFormat::Elf,
            Output::Capture,
        )
        .expect("the hello image builds");
        let elf = std::fs::read(&built.image).expect("the image is readable");
        let mut notes = std::collections::HashMap::new();
        for_each_xen_note(&elf, |note| {
            assert!(notes.insert(note.kind, note).is_none(), "note {} twice", note.kind);
        })
        .expect("the notes are well-formed");
        let text = |kind| notes.get(&kind).and_then(|n| n.text());
        let number = |kind| notes.get(&kind).and_then(|n| n.number());
        // Xen's PV loader refuses an image without these two (ENVIRONMENT.md).
        assert_eq!(text(elfnote::XEN_VERSION), Some("xen-3.0"));
        assert_eq!(text(elfnote::LOADER), Some("generic"));
        assert_eq!(number(elfnote::VIRT_BASE), Some(VIRT_BASE));
        assert_eq!(number(elfnote::PADDR_OFFSET), Some(0));
        let image_end = VIRT_BASE + 64 * 1024 * 1024;
        for kind in [elfnote::ENTRY, elfnote::HYPERCALL_PAGE] {
            let address = number(kind).unwrap_or_else(|| panic!("no note {kind}"));
            assert!((VIRT_BASE..image_end).contains(&address), "note {kind}: {address:#x}");
        }
        assert_eq!(number(elfnote::HYPERCALL_PAGE).unwrap() % 4096, 0, "the page is aligned");
        // PVH: a physical 32-bit entry, below the 4 GiB line.
        let pvh = number(elfnote::PHYS32_ENTRY).expect("the PVH note");
        assert!(pvh < 1 << 32 && pvh != 0, "PHYS32_ENTRY {pvh:#x}");
    }
}
