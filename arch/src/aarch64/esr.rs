//! ESR_EL1, the exception syndrome, decoded into words for fault reports.
//!
//! Only the classes a kernel at EL1 can meet are named; anything else prints its class number.
//! Reference: ARM ARM D24.2.45 (ESR_EL1), and the DFSC/IFSC fault status codes.

use core::fmt;

/// An exception syndrome register value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Syndrome(pub u64);

/// ESR_EL1.EC values used below.
mod class {
    pub const UNKNOWN: u64 = 0x00;
    pub const WFI_WFE: u64 = 0x01;
    pub const FP_ACCESS: u64 = 0x07;
    pub const BRANCH_TARGET: u64 = 0x0d;
    pub const ILLEGAL_STATE: u64 = 0x0e;
    pub const SVC: u64 = 0x15;
    pub const HVC: u64 = 0x16;
    pub const SMC: u64 = 0x17;
    pub const SYSTEM_REGISTER: u64 = 0x18;
    pub const SVE_ACCESS: u64 = 0x19;
    pub const POINTER_AUTH: u64 = 0x1c;
    pub const INSTRUCTION_ABORT_LOWER: u64 = 0x20;
    pub const INSTRUCTION_ABORT: u64 = 0x21;
    pub const PC_ALIGNMENT: u64 = 0x22;
    pub const DATA_ABORT_LOWER: u64 = 0x24;
    pub const DATA_ABORT: u64 = 0x25;
    pub const SP_ALIGNMENT: u64 = 0x26;
    pub const FP_EXCEPTION: u64 = 0x2c;
    pub const SERROR: u64 = 0x2f;
    pub const BREAKPOINT: u64 = 0x31;
    pub const SOFTWARE_STEP: u64 = 0x33;
    pub const WATCHPOINT: u64 = 0x35;
    pub const BRK: u64 = 0x3c;
}

impl Syndrome {
    /// The exception class, ESR_EL1.EC (bits 31:26).
    pub fn class(self) -> u64 {
        (self.0 >> 26) & 0x3f
    }

    /// The instruction-specific syndrome, ESR_EL1.ISS (bits 24:0).
    pub fn iss(self) -> u64 {
        self.0 & 0x1ff_ffff
    }

    /// Whether this is a data or instruction abort, whose fault address FAR_EL1 holds.
    pub fn is_abort(self) -> bool {
        matches!(
            self.class(),
            class::DATA_ABORT
                | class::DATA_ABORT_LOWER
                | class::INSTRUCTION_ABORT
                | class::INSTRUCTION_ABORT_LOWER
        )
    }

    /// Whether this is an undefined instruction (class 0, "unknown reason").
    pub fn is_undefined_instruction(self) -> bool {
        self.class() == class::UNKNOWN
    }

    /// For an abort: whether FAR_EL1 holds the faulting address (ISS.FnV, bit 10, clear).
    pub fn far_valid(self) -> bool {
        self.is_abort() && self.iss() & (1 << 10) == 0
    }

    /// The exception class in words.
    pub fn class_name(self) -> &'static str {
        match self.class() {
            class::UNKNOWN => "undefined instruction",
            class::WFI_WFE => "trapped WFI/WFE",
            class::FP_ACCESS => "trapped FP/SIMD access",
            class::BRANCH_TARGET => "branch target exception",
            class::ILLEGAL_STATE => "illegal execution state",
            class::SVC => "supervisor call (svc)",
            class::HVC => "hypervisor call (hvc)",
            class::SMC => "secure monitor call (smc)",
            class::SYSTEM_REGISTER => "trapped system register access",
            class::SVE_ACCESS => "trapped SVE access",
            class::POINTER_AUTH => "pointer authentication failure",
            class::INSTRUCTION_ABORT_LOWER | class::INSTRUCTION_ABORT => "instruction abort",
            class::PC_ALIGNMENT => "PC alignment fault",
            class::DATA_ABORT_LOWER | class::DATA_ABORT => "data abort",
            class::SP_ALIGNMENT => "SP alignment fault",
            class::FP_EXCEPTION => "floating-point exception",
            class::SERROR => "SError",
            class::BREAKPOINT => "breakpoint",
            class::SOFTWARE_STEP => "software step",
            class::WATCHPOINT => "watchpoint",
            class::BRK => "breakpoint instruction (brk)",
            _ => "exception",
        }
    }
}

/// Names a DFSC/IFSC fault status code (ISS bits 5:0).
fn fault_status(code: u64) -> (&'static str, Option<u64>) {
    let level = Some(code & 0b11);
    match code {
        0b00_0000..=0b00_0011 => ("address size fault", level),
        0b00_0100..=0b00_0111 => ("translation fault", level),
        0b00_1000..=0b00_1011 => ("access flag fault", level),
        0b00_1100..=0b00_1111 => ("permission fault", level),
        0b01_0000 => ("synchronous external abort", None),
        0b01_0100..=0b01_0111 => ("synchronous external abort on a table walk", level),
        0b10_0001 => ("alignment fault", None),
        0b11_0000 => ("TLB conflict abort", None),
        _ => ("fault", None),
    }
}

impl fmt::Display for Syndrome {
    /// `data abort (translation fault at level 0, on read)`, `breakpoint instruction (brk #0x1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.class_name())?;
        let iss = self.iss();
        match self.class() {
            class::DATA_ABORT
            | class::DATA_ABORT_LOWER
            | class::INSTRUCTION_ABORT
            | class::INSTRUCTION_ABORT_LOWER => {
                let (status, level) = fault_status(iss & 0x3f);
                write!(f, " ({status}")?;
                if let Some(level) = level {
                    write!(f, " at level {level}")?;
                }
                if self.class() == class::DATA_ABORT || self.class() == class::DATA_ABORT_LOWER {
                    // WnR, bit 6: the access was a write.
                    f.write_str(if iss & (1 << 6) != 0 { ", on write" } else { ", on read" })?;
                }
                f.write_str(")")
            }
            class::BRK | class::SVC | class::HVC | class::SMC => {
                write!(f, " (#{:#x})", iss & 0xffff)
            }
            class::UNKNOWN | class::ILLEGAL_STATE | class::PC_ALIGNMENT | class::SP_ALIGNMENT => {
                Ok(())
            }
            other => write!(f, " (class {other:#04x})"),
        }
    }
}
