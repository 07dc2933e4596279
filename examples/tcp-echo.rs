//! TCP echo: every byte a client sends comes back, until the client closes its side.
//!
//! `tcp-echo [PORT]` (default 7). Prints `tcp-echo: listening on ADDRESS:PORT`, then for each
//! connection that ends `tcp-echo: PEER: N bytes`.
#![no_std]
#![no_main]

use rivet::net::{Shutdown, TcpListener, TcpStream};
use rivet::thread;

rivet::main!(main);

fn main() {
    let port = rivet_examples::port_argument("tcp-echo", 7);
    let listener = TcpListener::bind(("0.0.0.0", port)).unwrap_or_else(|e| {
        rivet::eprintln!("tcp-echo: cannot listen on port {port}: {e}");
        rivet::process::exit(1)
    });
    rivet::println!("tcp-echo: listening on {}", listener.local_addr().expect("an address"));
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                if let Err(e) =
                    thread::Builder::new().stack_size(32 * 1024).spawn(move || echo(stream))
                {
                    rivet::eprintln!("tcp-echo: no thread for a connection: {e}");
                }
            }
            Err(e) => rivet::eprintln!("tcp-echo: accept: {e}"),
        }
    }
}

fn echo(stream: TcpStream) {
    let peer = stream.peer_addr().ok();
    let mut buffer = [0u8; 4096];
    let mut total = 0u64;
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if let Err(e) = stream.write_all(&buffer[..n]) {
                    rivet::eprintln!("tcp-echo: write: {e}");
                    return;
                }
                total += n as u64;
            }
            Err(e) => {
                rivet::eprintln!("tcp-echo: read: {e}");
                return;
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
    match peer {
        Some(peer) => rivet::println!("tcp-echo: {peer}: {total} bytes"),
        None => rivet::println!("tcp-echo: {total} bytes"),
    }
}
