//! CPU exceptions: an IDT covering vectors 0–31, entry stubs that save every register, a report.
//!
//! Every exception is fatal for now: the handler prints what happened (name and vector, error
//! code, CR2, rip, rsp, the general registers, a backtrace) and ends the run with
//! [`CPU_EXCEPTION`](rivet_core::exit::CPU_EXCEPTION). A page fault on the boot stack's guard page
//! is called what it is: a stack overflow. Page faults and double faults run on their own IST
//! stacks (see gdt.rs), so an overflowing stack is reported rather than triple-faulting.
//!
//! Hand-rolled, with reasons: the entry stubs are assembly because the `x86-interrupt` ABI is
//! unstable (nightly only) and would not give the handler the general registers anyway. The IDT is
//! the `x86_64` crate's, but the crate hides the reserved vectors (9, 15, 22–27, 31) behind
//! private fields and the typed entries make one loop impossible, so the gates are set through the
//! table's documented `#[repr(C)]` layout: 256 16-byte gates in vector order.
//!
//! Interrupts: [`TIMER_VECTOR`], [`SPURIOUS_VECTOR`] (the local APIC's), [`RESCHEDULE_VECTOR`]
//! (the inter-processor wake-up) and the [`DEVICE_VECTORS`] (what the I/O APIC delivers device
//! interrupts as: [`DEVICE_VECTOR_BASE`] + pin) each have a stub that pushes its vector and joins
//! `rivet_interrupt_common`. That lands on its own IST stack (the interrupted code may use the
//! red zone), copies the frame below the interrupted stack's red zone and continues there,
//! records the vector for the controller's `claim` ([`entered_vector`]), dispatches through
//! [`rivet_core::interrupt`], runs the after-interrupt hook (where the scheduler may switch
//! threads: the frame is on the thread's own stack) and returns with `iretq`. The other vectors up to 255 stay not-present: only a stray `int n` reaches them,
//! which the CPU reports as a #GP or #NP naming the vector in its error code. The entry saves no
//! SSE/x87 state: the kernel is soft-float, and a thread switch saves it (context.rs).

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};
use rivet_core::console::print_emergency;
use spin::Once;
use x86_64::structures::idt::{Entry, HandlerFunc, InterruptDescriptorTable};
use x86_64::VirtAddr;

/// The registers the entry stubs save, lowest address first (the push order, reversed).
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    /// Saved general register (all are as they were when the exception happened).
    pub rax: u64,
    /// Saved general register.
    pub rbx: u64,
    /// Saved general register.
    pub rcx: u64,
    /// Saved general register.
    pub rdx: u64,
    /// Saved general register.
    pub rsi: u64,
    /// Saved general register.
    pub rdi: u64,
    /// Saved general register.
    pub rbp: u64,
    /// Saved general register.
    pub r8: u64,
    /// Saved general register.
    pub r9: u64,
    /// Saved general register.
    pub r10: u64,
    /// Saved general register.
    pub r11: u64,
    /// Saved general register.
    pub r12: u64,
    /// Saved general register.
    pub r13: u64,
    /// Saved general register.
    pub r14: u64,
    /// Saved general register.
    pub r15: u64,
    /// The vector, pushed by the stub.
    pub vector: u64,
    /// The CPU's error code, or 0 pushed by the stub for vectors without one.
    pub error_code: u64,
    /// Where the exception happened (for faults: the faulting instruction).
    pub rip: u64,
    /// Code segment selector.
    pub cs: u64,
    /// Flags.
    pub rflags: u64,
    /// The interrupted stack pointer.
    pub rsp: u64,
    /// Stack segment selector.
    pub ss: u64,
}

/// Vectors for which the CPU pushes an error code (Intel SDM vol. 3A, table 6-1; AMD APM vol. 2
/// §8.2 for #VC and #SX).
const fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30)
}

/// Bytes between two entry stubs (each is at most 9 bytes; `.org` in the assembly checks it).
const STUB_SIZE: u64 = 16;

macro_rules! stubs {
    ($($vector:literal),*) => {
        core::arch::global_asm!(
            concat!(
                ".section .text.rivet.trap, \"ax\"\n",
                ".balign 16\n",
                ".globl rivet_trap_stubs\n",
                "rivet_trap_stubs:\n",
                $(
                    ".org rivet_trap_stubs + ", $vector, " * 16\n",
                    ".if ", $vector, " == 8 || (", $vector, " >= 10 && ", $vector, " <= 14) || ",
                    $vector, " == 17 || ", $vector, " == 21 || ", $vector, " == 29 || ",
                    $vector, " == 30\n",
                    ".else\n",
                    "    pushq $0\n",
                    ".endif\n",
                    "    pushq $", $vector, "\n",
                    "    jmp rivet_trap_common\n",
                )*
            ),
            options(att_syntax)
        );
    };
}

// Entry stubs. Preserves: nothing is returned to. Each pushes a zero error code where the CPU
// pushes none (so every frame has the same shape), then its vector.
stubs!(
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31
);

core::arch::global_asm!(
    r#"
    .section .text.rivet.trap, "ax"
/*
 * rivet_trap_common: save the general registers as a TrapFrame and report.
 *   On entry: [rsp] = vector, error code, rip, cs, rflags, rsp, ss (the CPU aligned rsp to 16
 *   before pushing its five words, so 7 words + 15 pushes = 176 bytes keep it 16-aligned for the
 *   call). Interrupts are off (interrupt gates). Never returns: every exception is fatal for now.
 */
rivet_trap_common:
    pushq   %r15
    pushq   %r14
    pushq   %r13
    pushq   %r12
    pushq   %r11
    pushq   %r10
    pushq   %r9
    pushq   %r8
    pushq   %rbp
    pushq   %rdi
    pushq   %rsi
    pushq   %rdx
    pushq   %rcx
    pushq   %rbx
    pushq   %rax
    cld                                    /* the ABI wants DF clear; the interrupted code may not */
    movq    %rsp, %rdi                     /* &TrapFrame */
    xorl    %ebp, %ebp                     /* the handler's own backtrace starts fresh */
    call    rivet_x86_trap
    ud2
"#,
    options(att_syntax)
);

core::arch::global_asm!(
    r#"
    .section .text.rivet.trap, "ax"
/*
 * rivet_interrupt_timer, _spurious, _reschedule: one entry per vector; push it and join the
 * common part.
 */
    .balign 16
    .globl rivet_interrupt_timer
rivet_interrupt_timer:
    pushq   ${timer}
    jmp     rivet_interrupt_common
    .balign 16
    .globl rivet_interrupt_spurious
rivet_interrupt_spurious:
    pushq   ${spurious}
    jmp     rivet_interrupt_common
    .balign 16
    .globl rivet_interrupt_reschedule
rivet_interrupt_reschedule:
    pushq   ${reschedule}
    jmp     rivet_interrupt_common
/*
 * rivet_interrupt_devices: one 16-byte entry per device vector, in vector order (entry n at
 * rivet_interrupt_devices + n * 16 pushes DEVICE_VECTOR_BASE + n); each joins the common part.
 */
    .balign 16
    .globl rivet_interrupt_devices
rivet_interrupt_devices:
    .set    .Ldevice_vector, {device_base}
    .rept   {device_count}
    .balign 16
    pushq   $.Ldevice_vector
    jmp     rivet_interrupt_common
    .set    .Ldevice_vector, .Ldevice_vector + 1
    .endr
/*
 * rivet_interrupt_common: move to the interrupted stack, dispatch the interrupt whose vector the
 * stub pushed, resume.
 *   On entry: on the interrupt IST stack; [rsp] = vector, rip, cs, rflags, rsp, ss; interrupts
 *   off (interrupt gate). The IST stack is only a landing pad: the frame is copied below the
 *   interrupted stack's red zone (128 bytes the interrupted code may use without moving rsp:
 *   C and C++ code built for the host ABI does), 16-aligned, and the handler runs there. That is
 *   what lets the handler switch threads: a preempted thread keeps its interrupt frame on its
 *   own stack, and the IST stack is free for the next interrupt, whichever thread it hits.
 *   Frame on the interrupted stack, from its 16-aligned top B: ss, rsp, rflags, cs, rip, vector,
 *   rax, rcx (B-64), then rdx, rsi, rdi, r8-r11 and an 8-byte pad: the call is 16-aligned.
 *   Preserves every register (the callee-saved ones by the ABI) and drops the vector before
 *   `iretq`, which pops rip, cs, rflags, rsp and ss from the interrupted stack.
 */
rivet_interrupt_common:
    pushq   %rax
    pushq   %rcx
    movq    48(%rsp), %rax                 /* the interrupted rsp */
    subq    $128, %rax                     /* step over its red zone */
    andq    $-16, %rax
    subq    $64, %rax
    .irp    offset, 0, 8, 16, 24, 32, 40, 48, 56   /* the 8 words, one at a time */
    movq    \offset(%rsp), %rcx
    movq    %rcx, \offset(%rax)
    .endr
    movq    %rax, %rsp                     /* on the interrupted stack from here */
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    subq    $8, %rsp                       /* keep the call 16-aligned */
    movq    80(%rsp), %rdi                 /* argument: the vector the stub pushed */
    cld                                    /* the ABI wants DF clear; the interrupted code may not */
    call    rivet_x86_interrupt
    addq    $8, %rsp
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rax
    addq    $8, %rsp                       /* the vector */
    iretq
"#,
    timer = const TIMER_VECTOR,
    spurious = const SPURIOUS_VECTOR,
    reschedule = const RESCHEDULE_VECTOR,
    device_base = const DEVICE_VECTOR_BASE,
    device_count = const DEVICE_VECTOR_COUNT,
    options(att_syntax)
);

/// The local APIC timer's vector: high, so it outranks the device interrupts to come.
pub const TIMER_VECTOR: u8 = 0xef;
/// The local APIC's spurious-interrupt vector (low four bits set, as older APICs require).
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// The reschedule inter-processor interrupt's vector: another core made a thread ready here.
pub const RESCHEDULE_VECTOR: u8 = 0xf0;

/// The first device vector: the I/O APIC delivers its pin `n` as `DEVICE_VECTOR_BASE + n` (low
/// priority class 3–4, below the timer's and the IPI's; above the 0x20–0x2f an 8259 would use,
/// should one ever be left unmasked).
pub const DEVICE_VECTOR_BASE: u8 = 0x30;
/// How many device vectors have an entry: one per pin of a 24-pin I/O APIC (every chip QEMU and
/// Firecracker model).
pub const DEVICE_VECTOR_COUNT: u8 = 24;
/// The device vectors, [`DEVICE_VECTOR_BASE`] onwards.
pub const DEVICE_VECTORS: core::ops::Range<u8> =
    DEVICE_VECTOR_BASE..DEVICE_VECTOR_BASE + DEVICE_VECTOR_COUNT;

/// The vector of the interrupt being handled on this core, for the interrupt controller's
/// `claim`: the CPU tells the entry stub, and the stub records it (per core, see
/// [`crate::percpu`]) before calling [`rivet_core::interrupt::handle`]. `None` outside an
/// interrupt handler.
pub fn entered_vector() -> Option<u8> {
    crate::percpu::entered_vector()
}

/// Called by `rivet_interrupt_common` on the interrupted stack, interrupts off: claims, runs and
/// completes the interrupt, then core's after-interrupt hook, which may switch threads.
#[no_mangle]
extern "C" fn rivet_x86_interrupt(vector: u64) {
    crate::percpu::set_entered_vector(u8::try_from(vector).ok());
    // Without a controller nothing can be claimed or acknowledged; the interrupt is dropped.
    let _ = rivet_core::interrupt::handle();
    crate::percpu::set_entered_vector(None);
    rivet_core::interrupt::after_interrupt();
}

extern "C" {
    /// The timer vector's interrupt entry.
    static rivet_interrupt_timer: u8;
    /// The spurious vector's interrupt entry.
    static rivet_interrupt_spurious: u8;
    /// The reschedule vector's interrupt entry.
    static rivet_interrupt_reschedule: u8;
    /// The first device vector's interrupt entry; entry `n` is at `+ n * STUB_SIZE`.
    static rivet_interrupt_devices: u8;
    /// The first entry stub; stub `n` is at `rivet_trap_stubs + n * STUB_SIZE`.
    static rivet_trap_stubs: u8;
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 22 * 8);
const _: () = assert!(core::mem::size_of::<InterruptDescriptorTable>() == 256 * 16);

static IDT: Once<InterruptDescriptorTable> = Once::new();

/// Makes this the boot core's per-core block ([`crate::percpu`]), installs the GDT and TSS (for
/// the IST stacks) and the exception vectors. Call once on the boot core, early: until then an
/// exception resets the machine.
pub fn init() {
    crate::percpu::init(0);
    super::gdt::init();
    let idt = IDT.call_once(|| {
        let mut idt = InterruptDescriptorTable::new();
        let table = &mut idt as *mut InterruptDescriptorTable as *mut [Entry<HandlerFunc>; 256];
        // SAFETY: `InterruptDescriptorTable` is `#[repr(C)]`: 256 `Entry<_>` fields in vector
        // order (its size is checked above), and `Entry<F>` is `#[repr(C)]` with `F` only in a
        // `PhantomData`, so every entry has the layout of `Entry<HandlerFunc>`. The borrow of
        // `idt` is exclusive for the lifetime of `gates`.
        let gates = unsafe { &mut *table };
        let stubs = (&raw const rivet_trap_stubs) as u64;
        for (vector, gate) in gates.iter_mut().enumerate().take(32) {
            let stub = VirtAddr::new(stubs + vector as u64 * STUB_SIZE);
            // SAFETY: the stub for `vector` is an interrupt entry point that never returns and
            // handles the frame with or without an error code as the CPU pushes it.
            let options = unsafe { gate.set_handler_addr(stub) };
            let stack = match vector {
                8 => Some(super::gdt::DOUBLE_FAULT_IST),
                14 => Some(super::gdt::PAGE_FAULT_IST),
                2 | 18 => Some(super::gdt::NMI_IST),
                _ => None,
            };
            if let Some(index) = stack {
                // SAFETY: gdt::init (above) loaded a TSS whose IST slot `index` holds the top of
                // a stack used by no other vector.
                unsafe { options.set_stack_index(index) };
            }
        }
        let entries = [
            (TIMER_VECTOR, (&raw const rivet_interrupt_timer) as u64),
            (SPURIOUS_VECTOR, (&raw const rivet_interrupt_spurious) as u64),
            (RESCHEDULE_VECTOR, (&raw const rivet_interrupt_reschedule) as u64),
        ];
        let devices = (&raw const rivet_interrupt_devices) as u64;
        let devices = DEVICE_VECTORS
            .map(|vector| (vector, devices + u64::from(vector - DEVICE_VECTOR_BASE) * STUB_SIZE));
        for (vector, entry) in entries.into_iter().chain(devices) {
            // SAFETY: the entry is an interrupt entry point for a vector without an error code
            // that preserves every register and returns with `iretq`.
            let options =
                unsafe { gates[usize::from(vector)].set_handler_addr(VirtAddr::new(entry)) };
            // SAFETY: gdt::init (above) loaded a TSS whose IST slot INTERRUPT_IST holds the top
            // of a stack used only by these vectors, which cannot nest (interrupt gates).
            unsafe { options.set_stack_index(super::gdt::INTERRUPT_IST) };
        }
        idt
    });
    idt.load();
}

/// The architectural name of each exception vector, with its mnemonic.
fn name(vector: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "divide error (#DE)",
        "debug (#DB)",
        "non-maskable interrupt (NMI)",
        "breakpoint (#BP)",
        "overflow (#OF)",
        "bound range exceeded (#BR)",
        "invalid opcode (#UD)",
        "device not available (#NM)",
        "double fault (#DF)",
        "coprocessor segment overrun",
        "invalid TSS (#TS)",
        "segment not present (#NP)",
        "stack-segment fault (#SS)",
        "general protection fault (#GP)",
        "page fault (#PF)",
        "reserved vector 15",
        "x87 floating-point error (#MF)",
        "alignment check (#AC)",
        "machine check (#MC)",
        "SIMD floating-point exception (#XM)",
        "virtualization exception (#VE)",
        "control protection exception (#CP)",
        "reserved vector 22",
        "reserved vector 23",
        "reserved vector 24",
        "reserved vector 25",
        "reserved vector 26",
        "reserved vector 27",
        "hypervisor injection exception (#HV)",
        "VMM communication exception (#VC)",
        "security exception (#SX)",
        "reserved vector 31",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("unknown vector")
}

/// Set while a report is being written: an exception inside the report must not recurse.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Called by `rivet_trap_common` with the saved registers. Reports and ends the run.
#[no_mangle]
extern "C" fn rivet_x86_trap(frame: &TrapFrame) -> ! {
    // CR2 first, before anything else can fault and overwrite it.
    let fault_address = x86_64::registers::control::Cr2::read_raw();
    if REPORTING.swap(true, Ordering::SeqCst) {
        print_emergency(format_args!(
            "\nCPU exception: {}, vector {}, at rip {:#x} while reporting another; giving up\n",
            name(frame.vector),
            frame.vector,
            frame.rip
        ));
        rivet_core::exit::exit(rivet_core::exit::CPU_EXCEPTION);
    }
    report(frame, fault_address);
    rivet_core::exit::exit(rivet_core::exit::CPU_EXCEPTION)
}

/// What a page fault's error code says (Intel SDM vol. 3A §4.7).
struct PageFaultCause(u64);

impl core::fmt::Display for PageFaultCause {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let bit = |n: u32| self.0 & (1 << n) != 0;
        f.write_str(if bit(0) { "protection violation" } else { "page not present" })?;
        f.write_str(if bit(4) {
            ", instruction fetch"
        } else if bit(1) {
            ", write"
        } else {
            ", read"
        })?;
        if bit(2) {
            f.write_str(", user mode")?;
        }
        if bit(3) {
            f.write_str(", reserved bit set in a page-table entry")?;
        }
        if bit(5) {
            f.write_str(", protection key")?;
        }
        if bit(15) {
            f.write_str(", SGX")?;
        }
        Ok(())
    }
}

/// What a fault address most likely means, if something specific.
fn diagnose(vector: u64, fault_address: u64) -> Option<&'static str> {
    if vector != 14 {
        return None;
    }
    let stack = super::layout::boot_stack();
    let guard = stack.start.saturating_sub(4096)..stack.start;
    let thread = crate::percpu::thread_stack();
    let thread_guard = thread.start.saturating_sub(4096)..thread.start;
    if guard.contains(&fault_address) {
        Some("stack overflow: the boot stack's guard page was hit")
    } else if !thread.is_empty() && thread_guard.contains(&fault_address) {
        Some("stack overflow: the thread's stack ran into its guard page")
    } else if fault_address < 4096 {
        Some("null pointer dereference: page 0 is never mapped")
    } else {
        None
    }
}

fn report(frame: &TrapFrame, fault_address: u64) {
    let vector = frame.vector;
    let mut line = Line::new();
    let _ = write!(line, "\nCPU exception: {}, vector {vector}", name(vector));
    if has_error_code(vector as u8) {
        let _ = write!(line, ", error code {:#x}", frame.error_code);
        if vector == 14 {
            let _ = write!(line, " ({})", PageFaultCause(frame.error_code));
        }
    }
    line.flush();
    if vector == 14 {
        let _ = write!(line, "  fault address: {fault_address:#018x}");
        if let Some(diagnosis) = diagnose(vector, fault_address) {
            let _ = write!(line, " ({diagnosis})");
        }
        line.flush();
    }
    let f = frame;
    let rows: [[(&str, u64); 3]; 7] = [
        [("pc/rip", f.rip), ("rsp", f.rsp), ("rflags", f.rflags)],
        [("rax", f.rax), ("rbx", f.rbx), ("rcx", f.rcx)],
        [("rdx", f.rdx), ("rsi", f.rsi), ("rdi", f.rdi)],
        [("rbp", f.rbp), ("r8", f.r8), ("r9", f.r9)],
        [("r10", f.r10), ("r11", f.r11), ("r12", f.r12)],
        [("r13", f.r13), ("r14", f.r14), ("r15", f.r15)],
        [("cs", f.cs), ("ss", f.ss), ("cr2", fault_address)],
    ];
    for row in rows {
        for (name, value) in row {
            let _ = write!(line, "  {name:>6} {value:#018x}");
        }
        line.flush();
    }
    print_emergency(format_args!("{}", rivet_core::exit::running_context()));
    print_emergency(format_args!("backtrace:\n  #0 {:#018x}\n", frame.rip));
    let mut frames = 1;
    super::backtrace::walk_from(frame.rbp, |return_address| {
        print_emergency(format_args!("  #{frames} {return_address:#018x}\n"));
        frames += 1;
        frames < 32
    });
}

/// One report line, formatted on the (IST) stack and printed whole, so lines stay intact.
struct Line {
    buffer: [u8; 160],
    length: usize,
}

impl Line {
    fn new() -> Self {
        Self { buffer: [0; 160], length: 0 }
    }

    fn flush(&mut self) {
        let text = core::str::from_utf8(&self.buffer[..self.length]).unwrap_or("(unprintable)");
        print_emergency(format_args!("{text}\n"));
        self.length = 0;
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buffer.len() - self.length;
        let take = s.len().min(room);
        // Cut at a character boundary so the buffer stays UTF-8.
        let take = (0..=take).rev().find(|&n| s.is_char_boundary(n)).unwrap_or(0);
        self.buffer[self.length..self.length + take].copy_from_slice(&s.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}
