//! Exception vectors (VBAR_EL1): every exception is reported and ends the run with code 102.
//!
//! The kernel runs at EL1 on SP_EL0, so its exceptions arrive at the "current EL with SP_EL0"
//! vectors, and the CPU switches to SP_EL1 — the separate exception stack set up by the entry
//! code. That is what lets a boot-stack overflow (a fault on the guard page, with SP_EL0
//! unusable) still be reported. An exception *inside* a handler arrives at the "current EL with
//! SP_ELx" vectors and is reported the same way.
//!
//! One exception is not a fault: a semihosting `hlt #0xf000` on a machine with no semihosting
//! host is an undefined instruction. The handler recognises that exact instruction, marks
//! semihosting absent and resumes after it with x0 = -1, so exiting falls back to PSCI and a
//! board without a debugger powers off instead of reporting a bogus fault.
//!
//! IRQs take their own path (`rivet_irq_entry` below): it saves what a call may
//! clobber — x0–x18, x30, ELR/SPSR and the whole FP/SIMD file (the interrupted code may be using
//! any of it; a Rust handler may use the vector registers) — calls
//! `rivet_core::interrupt::handle()` and returns with `eret`. An IRQ with no controller
//! installed, or an FIQ, is reported as unexpected and ends the run.
//!
//! The IRQ path runs on the interrupted thread's stack (SP_EL0), with interrupts masked: no
//! nesting, and a handler must be short; after it, core's after-interrupt hook may switch
//! threads.

use crate::esr::Syndrome;
use crate::layout;
use core::sync::atomic::{AtomicU8, Ordering};
use rivet_core::console::print_emergency;

/// The registers saved on exception entry, in the order the vector code stores them.
#[repr(C)]
pub struct TrapFrame {
    /// x0 to x30 (x30 is the link register).
    pub x: [u64; 31],
    /// The interrupted stack pointer (SP_EL0, or SP_EL1 before the frame was pushed).
    pub sp: u64,
    /// ELR_EL1: where the exception was taken (the instruction, for synchronous ones).
    pub elr: u64,
    /// SPSR_EL1: the interrupted PSTATE.
    pub spsr: u64,
    /// ESR_EL1: the syndrome.
    pub esr: u64,
    /// FAR_EL1: the faulting address, for aborts.
    pub far: u64,
    /// Which of the 16 vectors was taken (see [`Vector`]).
    pub vector: u64,
    reserved: u64,
}

/// Bytes the vector code reserves on SP_EL1 for a [`TrapFrame`] (a multiple of 16).
const FRAME_SIZE: usize = core::mem::size_of::<TrapFrame>();

// The assembly below stores registers at these offsets.
const _: () = {
    assert!(FRAME_SIZE.is_multiple_of(16));
    assert!(core::mem::offset_of!(TrapFrame, sp) == 248);
    assert!(core::mem::offset_of!(TrapFrame, elr) == 256);
    assert!(core::mem::offset_of!(TrapFrame, esr) == 272);
    assert!(core::mem::offset_of!(TrapFrame, vector) == 288);
};

// The vector table: 16 entries of 0x80 bytes, 2 KiB-aligned (VBAR_EL1 bits 10:0 are RES0).
// Each entry pushes a frame on SP_EL1, saves x0/x1, puts its index in x0 and joins the common
// path, which saves the rest and calls `rivet_aarch64_trap(frame)`.
core::arch::global_asm!(
    r#"
    .macro rivet_vector index
    .balign 0x80
    sub     sp, sp, #{frame_size}
    stp     x0, x1, [sp, #0]
    mov     x0, #\index
    b       rivet_trap_common
    .endm

    .macro rivet_irq_vector
    .balign 0x80
    b       rivet_irq_entry
    .endm

    .section .text.rivet_vectors, "ax"
    .balign 0x800
    .global rivet_exception_vectors
rivet_exception_vectors:
    /* Current EL with SP_EL0 (the kernel): synchronous, IRQ, FIQ, SError. */
    rivet_vector 0
    rivet_irq_vector
    rivet_vector 2
    rivet_vector 3
    /* Current EL with SP_ELx (an exception inside a handler; IRQs are masked there, so one
     * taken anyway is reported as unexpected). */
    rivet_vector 4
    rivet_vector 5
    rivet_vector 6
    rivet_vector 7
    /* Lower EL, AArch64 (nothing runs at EL0 yet). */
    rivet_vector 8
    rivet_vector 9
    rivet_vector 10
    rivet_vector 11
    /* Lower EL, AArch32. */
    rivet_vector 12
    rivet_vector 13
    rivet_vector 14
    rivet_vector 15

/*
 * Common path. On entry: SP_EL1 points at a fresh frame holding x0/x1; x0 = vector index.
 * Saves everything else, calls the Rust handler; if it returns (a recoverable trap), restores
 * the frame, including any ELR/x0 changes the handler made, and returns with eret.
 * Register use: x2 SPSR, x3 interrupted SP, x4 ELR, x5 ESR, x6 FAR.
 */
rivet_trap_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x2, spsr_el1
    /* SPSR.M[0] clear: the interrupted code ran on SP_EL0. */
    tbnz    x2, #0, 1f
    mrs     x3, sp_el0
    b       2f
1:  add     x3, sp, #{frame_size}
2:  stp     x30, x3, [sp, #240]
    mrs     x4, elr_el1
    stp     x4, x2, [sp, #256]
    mrs     x5, esr_el1
    mrs     x6, far_el1
    stp     x5, x6, [sp, #272]
    str     x0, [sp, #288]
    mov     x0, sp
    /* A zero frame pointer: the handler's own backtrace stops at this frame. */
    mov     x29, #0
    bl      rivet_aarch64_trap
    ldp     x4, x2, [sp, #256]
    msr     elr_el1, x4
    msr     spsr_el1, x2
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    add     sp, sp, #{frame_size}
    /* eret is context-synchronising: no barrier needed for the ELR/SPSR writes. */
    eret

/*
 * IRQ entry (vector 1: kernel code on SP_EL0), IRQ/FIQ masked by the exception. Moves to the
 * interrupted stack (SPSel = 0: SP_EL0) so the handler may switch threads — a preempted thread
 * keeps its IRQ frame on its own stack. Saves the registers the AAPCS64 lets a call clobber
 * (x0-x18, x30, q0-q31 — the callee keeps only the low halves of q8-q15 — FPCR, FPSR) and
 * ELR/SPSR, calls rivet_aarch64_irq(), restores, erets to the interrupted code (SPSR.M says
 * EL1t: the eret returns on SP_EL0). x19-x29 are callee-saved: the Rust code preserves them.
 * An overflow of the interrupted stack faults on its guard page and is reported on SP_EL1.
 * Frame (IRQ_FRAME bytes): x0-x18,x30 at 0..160, ELR/SPSR at 160, FPCR/FPSR at 176,
 * q0-q31 at 192.
 */
rivet_irq_entry:
    msr     spsel, #0
    sub     sp, sp, #{irq_frame}
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x30, [sp, #144]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x0, x1, [sp, #160]
    stp     q0, q1, [sp, #192]
    stp     q2, q3, [sp, #224]
    stp     q4, q5, [sp, #256]
    stp     q6, q7, [sp, #288]
    stp     q8, q9, [sp, #320]
    stp     q10, q11, [sp, #352]
    stp     q12, q13, [sp, #384]
    stp     q14, q15, [sp, #416]
    stp     q16, q17, [sp, #448]
    stp     q18, q19, [sp, #480]
    stp     q20, q21, [sp, #512]
    stp     q22, q23, [sp, #544]
    stp     q24, q25, [sp, #576]
    stp     q26, q27, [sp, #608]
    stp     q28, q29, [sp, #640]
    stp     q30, q31, [sp, #672]
    mrs     x0, fpcr
    mrs     x1, fpsr
    stp     x0, x1, [sp, #176]
    bl      rivet_aarch64_irq
    ldp     x0, x1, [sp, #176]
    msr     fpcr, x0
    msr     fpsr, x1
    ldp     q0, q1, [sp, #192]
    ldp     q2, q3, [sp, #224]
    ldp     q4, q5, [sp, #256]
    ldp     q6, q7, [sp, #288]
    ldp     q8, q9, [sp, #320]
    ldp     q10, q11, [sp, #352]
    ldp     q12, q13, [sp, #384]
    ldp     q14, q15, [sp, #416]
    ldp     q16, q17, [sp, #448]
    ldp     q18, q19, [sp, #480]
    ldp     q20, q21, [sp, #512]
    ldp     q22, q23, [sp, #544]
    ldp     q24, q25, [sp, #576]
    ldp     q26, q27, [sp, #608]
    ldp     q28, q29, [sp, #640]
    ldp     q30, q31, [sp, #672]
    ldp     x0, x1, [sp, #160]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x30, [sp, #144]
    add     sp, sp, #{irq_frame}
    eret
"#,
    frame_size = const FRAME_SIZE,
    irq_frame = const IRQ_FRAME,
);

/// Bytes the IRQ entry reserves on the interrupted stack: 20 general registers, ELR/SPSR, FPCR/FPSR, 32 Q
/// registers (a multiple of 16).
const IRQ_FRAME: usize = 20 * 8 + 16 + 16 + 32 * 16;

/// The Rust half of an IRQ: the installed controller claims, dispatches and completes it.
/// Without a controller there is nobody to acknowledge it (it would fire again at once): the
/// run ends, as for any unexpected exception.
#[no_mangle]
extern "C" fn rivet_aarch64_irq() {
    if rivet_core::interrupt::handle().is_err() {
        print_emergency(format_args!(
            "\nCPU exception: unexpected IRQ (no interrupt controller)\n"
        ));
        exit(rivet_core::exit::CPU_EXCEPTION)
    }
    rivet_core::interrupt::after_interrupt();
}

/// Which vector an exception arrived at: the source and the type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Vector {
    /// Synchronous, from kernel code (EL1 on SP_EL0).
    Synchronous,
    /// Synchronous, from inside an exception handler (EL1 on SP_EL1).
    SynchronousInHandler,
    /// An IRQ.
    Irq,
    /// An FIQ.
    Fiq,
    /// An SError (asynchronous abort).
    SError,
    /// Anything from a lower exception level, where nothing should run.
    LowerLevel,
}

impl Vector {
    fn from_index(index: u64) -> Self {
        match index {
            0 => Vector::Synchronous,
            4 => Vector::SynchronousInHandler,
            1 | 5 => Vector::Irq,
            2 | 6 => Vector::Fiq,
            3 | 7 => Vector::SError,
            _ => Vector::LowerLevel,
        }
    }
}

/// Makes this the boot core's per-core block ([`crate::percpu`]), installs the exception vectors
/// and unmasks SError, so an asynchronous abort (a bad MMIO
/// access, say) is reported rather than left pending. IRQ and FIQ stay masked.
///
/// Safe to call with the MMU off: it writes two system registers and touches no memory.
pub fn init() {
    extern "C" {
        static rivet_exception_vectors: u8;
    }
    crate::percpu::init(0);
    let vectors = (&raw const rivet_exception_vectors) as u64;
    // SAFETY: the table above is complete (16 entries, 2 KiB-aligned) and its handlers need only
    // SP_EL1, which the entry code set up. `isb` makes the new VBAR_EL1 apply to the next
    // exception, before SError is unmasked.
    unsafe {
        core::arch::asm!(
            "msr vbar_el1, {}",
            "isb",
            "msr daifclr, #4",
            in(reg) vectors,
            options(nomem, nostack),
        )
    };
}

/// How many faults are being handled: 1 while the first is reported and the run ended, 2 if
/// that faulted too. Plain loads and stores (one core, exceptions masked in handlers): it may be
/// used with the MMU off, where read-modify-write atomics are not dependable.
static NESTING: AtomicU8 = AtomicU8::new(0);

/// The Rust half of every exception, called by the vector code with the saved frame.
#[no_mangle]
extern "C" fn rivet_aarch64_trap(frame: &mut TrapFrame) {
    let vector = Vector::from_index(frame.vector);
    let syndrome = Syndrome(frame.esr);
    let synchronous = matches!(vector, Vector::Synchronous | Vector::SynchronousInHandler);
    if synchronous && syndrome.is_undefined_instruction() && is_semihosting_call(frame.elr) {
        // No semihosting host: the call fails with -1 and execution resumes after it.
        crate::semihosting::mark_absent();
        frame.x[0] = u64::MAX;
        frame.elr += 4;
        return;
    }
    let nesting = NESTING.load(Ordering::Relaxed);
    NESTING.store(nesting.saturating_add(1), Ordering::Relaxed);
    match nesting {
        0 => report(frame, vector, syndrome),
        1 => print_emergency(format_args!("\nCPU exception while handling a CPU exception\n")),
        // Ending the run faults too: nothing is left to try.
        _ => crate::cpu::halt_forever(),
    }
    exit(rivet_core::exit::CPU_EXCEPTION)
}

/// Whether `address` holds the semihosting trap instruction inside the image's code.
fn is_semihosting_call(address: u64) -> bool {
    let text = layout::text();
    if !address.is_multiple_of(4) || !text.contains(&address) {
        return false;
    }
    // SAFETY: `address` is 4-byte aligned and inside the image's code, which is mapped readable
    // (or the MMU is off and it is RAM).
    let instruction = unsafe { core::ptr::read_volatile(address as *const u32) };
    instruction == crate::semihosting::HLT_SEMIHOSTING
}

/// Prints what happened: the cause in words, the fault address, registers, a backtrace.
fn report(frame: &TrapFrame, vector: Vector, syndrome: Syndrome) {
    let what = match vector {
        Vector::Irq => "unexpected IRQ",
        Vector::Fiq => "unexpected FIQ",
        Vector::SError => "SError (asynchronous abort)",
        Vector::LowerLevel => "exception from a lower exception level",
        Vector::Synchronous | Vector::SynchronousInHandler => "",
    };
    if what.is_empty() {
        print_emergency(format_args!("\nCPU exception: {syndrome}\n"));
    } else {
        print_emergency(format_args!("\nCPU exception: {what}\n"));
    }
    if syndrome.far_valid() {
        print_emergency(format_args!("fault address: {:#018x}\n", frame.far));
    }
    let hits = |guard: &core::ops::Range<u64>| {
        guard.contains(&frame.sp) || (syndrome.far_valid() && guard.contains(&frame.far))
    };
    let guard = layout::guard_page();
    let thread = crate::percpu::thread_stack();
    let thread_guard = thread.start.saturating_sub(4096)..thread.start;
    if what.is_empty() && hits(&guard) {
        print_emergency(format_args!(
            "stack overflow: the boot stack ran into its guard page [{:#x}, {:#x})\n",
            guard.start, guard.end
        ));
    } else if what.is_empty() && !thread.is_empty() && hits(&thread_guard) {
        print_emergency(format_args!(
            "stack overflow: the thread's stack ran into its guard page [{:#x}, {:#x})\n",
            thread_guard.start, thread_guard.end
        ));
    }
    print_emergency(format_args!("{}", rivet_core::exit::running_context()));
    let from = match vector {
        Vector::SynchronousInHandler => "inside an exception handler (SP_EL1)",
        Vector::LowerLevel => "a lower exception level",
        _ => "kernel code (EL1, SP_EL0)",
    };
    print_emergency(format_args!("taken from: {from}\n"));
    print_emergency(format_args!(
        "ESR_EL1 {:#018x}  ELR_EL1 {:#018x} (image offset {:#x})\n",
        frame.esr,
        frame.elr,
        layout::link_address(frame.elr),
    ));
    print_emergency(format_args!("SPSR_EL1 {:#018x}  FAR_EL1 {:#018x}\n", frame.spsr, frame.far));
    for row in 0..8 {
        let mut line = [(0usize, 0u64); 4];
        for (column, slot) in line.iter_mut().enumerate() {
            let index = row * 4 + column;
            *slot = (index, if index < 31 { frame.x[index] } else { frame.sp });
        }
        for (index, value) in line {
            if index < 31 {
                print_emergency(format_args!("x{index:<2} {value:#018x}  "));
            } else {
                print_emergency(format_args!("sp  {value:#018x}"));
            }
        }
        print_emergency(format_args!("\n"));
    }
    print_emergency(format_args!("backtrace:\n  #0 {:#018x}\n", layout::link_address(frame.elr)));
    let mut frames = 1;
    crate::backtrace::walk_from(frame.x[29], |return_address| {
        print_emergency(format_args!("  #{frames} {return_address:#018x}\n"));
        frames += 1;
        frames < 32
    });
}

/// Ends the run. Once the MMU is on, the platform's exit handler is installed (it is installed
/// right after), so the run ends through it; before that, semihosting is the only way out.
fn exit(code: i32) -> ! {
    if crate::cpu::mmu_enabled() {
        rivet_core::exit::exit(code)
    }
    crate::semihosting::exit(code);
    crate::cpu::halt_forever()
}
