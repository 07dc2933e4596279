//! Returns the exit code given as its one argument, so tests can check the host sees it.
#![no_std]
#![no_main]

rivet::main!(main);

fn main() -> i32 {
    let Some(arg) = rivet::env::args().nth(1) else {
        rivet::eprintln!("usage: exit-code N");
        return 2;
    };
    match arg.parse::<i32>() {
        Ok(code) => {
            rivet::println!("exiting with {code}");
            code
        }
        Err(e) => {
            rivet::eprintln!("exit-code: {arg:?} is not a number: {e}");
            2
        }
    }
}
