//! Interrupts: numbers, the controller trait, and the table of handlers.
//!
//! A platform installs one [`InterruptController`] (a GIC, the local APIC, Xen's event channels)
//! with [`set_controller`]; drivers register a handler per interrupt with [`set_handler`]; the
//! arch layer's interrupt vector calls [`handle`], which claims the interrupt from the controller,
//! runs its handler and completes it. The table is a fixed array of write-once slots, so
//! dispatching takes no lock and works from interrupt context; a handler, once set, stays.
//!
//! Non-goals: priorities, affinity and interrupt threads — the scheduler work adds what it needs.

use spin::Once;

/// Interrupt numbers the table can hold: GIC INTIDs below 1020, APIC vectors below 256.
pub const MAX_IRQS: usize = 1024;

/// An interrupt number as the controller names it (GIC INTID, APIC vector, event channel port).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct Irq(pub u32);

impl core::fmt::Display for Irq {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "irq {}", self.0)
    }
}

/// Why an interrupt could not be configured.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InterruptError {
    /// The number is beyond what the controller (or the handler table) supports.
    OutOfRange(Irq),
    /// No controller is installed yet.
    NoController,
    /// The interrupt has a handler already.
    AlreadyHandled(Irq),
}

impl core::fmt::Display for InterruptError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InterruptError::OutOfRange(irq) => write!(f, "{irq} is out of range"),
            InterruptError::NoController => f.write_str("no interrupt controller installed"),
            InterruptError::AlreadyHandled(irq) => write!(f, "{irq} has a handler already"),
        }
    }
}

impl core::error::Error for InterruptError {}

/// An interrupt controller for the current core.
pub trait InterruptController: Sync {
    /// Unmasks `irq` and routes it to this core.
    fn enable(&self, irq: Irq) -> Result<(), InterruptError>;
    /// Masks `irq`.
    fn disable(&self, irq: Irq) -> Result<(), InterruptError>;
    /// Takes the highest-priority pending interrupt (GIC IAR, APIC in-service vector); `None` when
    /// the interrupt was spurious and must not be completed.
    fn claim(&self) -> Option<Irq>;
    /// Ends the handling of a claimed `irq` (GIC EOIR, APIC EOI).
    fn complete(&self, irq: Irq);
}

static CONTROLLER: Once<&'static dyn InterruptController> = Once::new();

/// One write-once handler slot per interrupt number.
static HANDLERS: [Once<fn(Irq)>; MAX_IRQS] = [const { Once::new() }; MAX_IRQS];

/// Runs after every interrupt has been completed, still in interrupt context: the scheduler's
/// preemption point.
static AFTER_INTERRUPT: Once<fn()> = Once::new();

/// Installs the function [`handle`] calls after each interrupt, once the controller has been told
/// it is done (so a thread switch there leaves no interrupt in service). Only the first call
/// takes effect.
pub fn set_after_interrupt(hook: fn()) {
    AFTER_INTERRUPT.call_once(|| hook);
}

/// Installs the interrupt controller. Only the first call takes effect.
pub fn set_controller(controller: &'static dyn InterruptController) {
    CONTROLLER.call_once(|| controller);
}

/// The installed controller.
pub fn controller() -> Result<&'static dyn InterruptController, InterruptError> {
    CONTROLLER.get().copied().ok_or(InterruptError::NoController)
}

/// Runs `handler` (in interrupt context, interrupts masked) whenever `irq` fires, and enables
/// `irq`. Each interrupt takes one handler, for good.
pub fn set_handler(irq: Irq, handler: fn(Irq)) -> Result<(), InterruptError> {
    let slot = HANDLERS.get(irq.0 as usize).ok_or(InterruptError::OutOfRange(irq))?;
    let controller = controller()?;
    let mut installed = false;
    slot.call_once(|| {
        installed = true;
        handler
    });
    if !installed {
        return Err(InterruptError::AlreadyHandled(irq));
    }
    controller.enable(irq)
}

/// What [`handle`] did with an interrupt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Handled {
    /// The interrupt's handler ran.
    Handler(Irq),
    /// The controller reported a spurious interrupt: nothing to do.
    Spurious,
    /// No handler is registered: the interrupt was masked so it cannot storm.
    Unexpected(Irq),
}

/// Runs the after-interrupt hook (see [`set_after_interrupt`]), which may switch threads. The
/// arch layer's interrupt vector calls it after [`handle`], on the interrupted thread's stack,
/// interrupts masked.
pub fn after_interrupt() {
    if let Some(hook) = AFTER_INTERRUPT.get() {
        hook();
    }
}

/// Claims, dispatches and completes one interrupt. Called by the arch layer's interrupt vector.
pub fn handle() -> Result<Handled, InterruptError> {
    let controller = controller()?;
    let Some(irq) = controller.claim() else {
        return Ok(Handled::Spurious);
    };
    let outcome = match HANDLERS.get(irq.0 as usize).and_then(Once::get) {
        Some(handler) => {
            handler(irq);
            Handled::Handler(irq)
        }
        None => {
            let _ = controller.disable(irq);
            Handled::Unexpected(irq)
        }
    };
    controller.complete(irq);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;

    /// A controller whose pending interrupts are a queue; it records what was done.
    struct FakeController {
        pending: Mutex<Vec<u32>>,
        log: Mutex<Vec<String>>,
    }

    impl InterruptController for FakeController {
        fn enable(&self, irq: Irq) -> Result<(), InterruptError> {
            if irq.0 >= 64 {
                return Err(InterruptError::OutOfRange(irq));
            }
            self.log.lock().unwrap().push(format!("enable {}", irq.0));
            Ok(())
        }
        fn disable(&self, irq: Irq) -> Result<(), InterruptError> {
            self.log.lock().unwrap().push(format!("disable {}", irq.0));
            Ok(())
        }
        fn claim(&self) -> Option<Irq> {
            self.pending.lock().unwrap().pop().map(Irq)
        }
        fn complete(&self, irq: Irq) {
            self.log.lock().unwrap().push(format!("complete {}", irq.0));
        }
    }

    static FAKE: FakeController =
        FakeController { pending: Mutex::new(Vec::new()), log: Mutex::new(Vec::new()) };
    static TICKS: AtomicU32 = AtomicU32::new(0);

    fn tick(irq: Irq) {
        assert_eq!(irq, Irq(27));
        TICKS.fetch_add(1, Ordering::SeqCst);
    }

    /// One test owns the global table and controller, so the steps run in order.
    #[test]
    fn claim_dispatch_complete() {
        assert_eq!(handle(), Err(InterruptError::NoController));
        assert_eq!(set_handler(Irq(27), tick), Err(InterruptError::NoController));
        set_controller(&FAKE);
        assert_eq!(set_handler(Irq(27), tick), Ok(()));
        assert_eq!(set_handler(Irq(27), tick), Err(InterruptError::AlreadyHandled(Irq(27))));
        assert_eq!(set_handler(Irq(5000), tick), Err(InterruptError::OutOfRange(Irq(5000))));

        FAKE.pending.lock().unwrap().extend([30, 27]);
        assert_eq!(handle(), Ok(Handled::Handler(Irq(27))));
        assert_eq!(TICKS.load(Ordering::SeqCst), 1);
        // No handler for 30: masked so it cannot storm, and still completed.
        assert_eq!(handle(), Ok(Handled::Unexpected(Irq(30))));
        assert_eq!(handle(), Ok(Handled::Spurious));
        assert_eq!(
            *FAKE.log.lock().unwrap(),
            ["enable 27", "complete 27", "disable 30", "complete 30"]
        );
    }
}
