//! The panic handler: message, location, backtrace, then exit code 101.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};
use rivet_core::console::print_emergency;

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if PANICKING.swap(true, Ordering::SeqCst) {
        print_emergency(format_args!("\npanicked while panicking: {}\n", info.message()));
        rivet_core::exit::exit(rivet_core::exit::PANIC);
    }
    match info.location() {
        Some(at) => print_emergency(format_args!(
            "\npanicked at {}:{}:{}:\n{}\n",
            at.file(),
            at.line(),
            at.column(),
            info.message()
        )),
        None => print_emergency(format_args!("\npanicked:\n{}\n", info.message())),
    }
    print_emergency(format_args!("backtrace:\n"));
    let mut frames = 0;
    rivet_arch::backtrace::walk(|return_address| {
        print_emergency(format_args!("  #{frames} {return_address:#018x}\n"));
        frames += 1;
        frames < 64
    });
    if frames == 0 {
        print_emergency(format_args!("  (no frames)\n"));
    }
    rivet_core::exit::exit(rivet_core::exit::PANIC)
}
