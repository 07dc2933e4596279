//! UDP echo: every datagram goes back to its sender.
//!
//! `udp-echo [PORT]` (default 7). Prints `udp-echo: listening on ADDRESS:PORT`.
#![no_std]
#![no_main]

use rivet::net::UdpSocket;

rivet::main!(main);

fn main() {
    let port = rivet_examples::port_argument("udp-echo", 7);
    let socket = UdpSocket::bind(("0.0.0.0", port)).unwrap_or_else(|e| {
        rivet::eprintln!("udp-echo: cannot bind port {port}: {e}");
        rivet::process::exit(1)
    });
    // The address comes with the first datagram sent or once DHCP is done; wait for it so the
    // line below names where to send.
    let _ = rivet::net::wait_for_address(rivet::time::Duration::from_secs(20));
    rivet::println!("udp-echo: listening on {}", socket.local_addr().expect("an address"));
    let mut buffer = [0u8; 2048];
    loop {
        match socket.recv_from(&mut buffer) {
            Ok((n, peer)) => {
                if let Err(e) = socket.send_to(&buffer[..n], peer) {
                    rivet::eprintln!("udp-echo: send to {peer}: {e}");
                }
            }
            Err(e) => rivet::eprintln!("udp-echo: receive: {e}"),
        }
    }
}
