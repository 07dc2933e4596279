//! A small HTTP/1.1 server: every `GET` gets the same 612-byte HTML page (the size of the page
//! in nginx's published benchmarks), over keep-alive connections, one thread per connection.
//!
//! `http-hello [PORT]` (default 80). It prints `http-hello: listening on ADDRESS:PORT` once the
//! interface has its address. `GET /heap` answers the kernel heap's use instead (soak runs). Requests other than GET/HEAD get 405; a malformed or oversized
//! request head (over 8 KiB) gets 400 and the connection is closed.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use rivet::net::{TcpListener, TcpStream};
use rivet::thread;

rivet::main!(main);

/// The page: 612 bytes of HTML.
const PAGE: &str = concat!(
    "<!DOCTYPE html>\n<html>\n<head>\n<title>Hello from Rivet</title>\n<style>\n",
    "    body { width: 40em; margin: 0 auto; font-family: sans-serif; }\n",
    "</style>\n</head>\n<body>\n<h1>Hello from Rivet</h1>\n",
    "<p>This page was served by http-hello, a Rust application linked with the Rivet\n",
    "unikernel into one bootable image: no operating system underneath, only the\n",
    "kernel's TCP/IP stack (smoltcp), its virtio-net driver and this program.</p>\n",
    "<p>It is 612 bytes long, like the page of the usual web server benchmarks, so\n",
    "that requests per second compare.</p>\n",
    "<p><em>Thank you for trying Rivet.</em></p>\n",
    "</body>\n</html>\n",
    "<!-- rivet! -->\n",
);
const _: () = assert!(PAGE.len() == 612);

/// The largest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// Stack of each connection's thread: parsing needs little.
const CONNECTION_STACK: usize = 32 * 1024;

fn main() {
    let port = rivet_examples::port_argument("http-hello", 80);
    let listener = TcpListener::bind(("0.0.0.0", port)).unwrap_or_else(|e| {
        rivet::eprintln!("http-hello: cannot listen on port {port}: {e}");
        rivet::process::exit(1)
    });
    let address = listener.local_addr().expect("a listener has an address");
    rivet::println!("http-hello: listening on {address}");
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) => {
                rivet::eprintln!("http-hello: accept: {e}");
                continue;
            }
        };
        let spawned =
            thread::Builder::new().stack_size(CONNECTION_STACK).spawn(move || serve(stream));
        if let Err(e) = spawned {
            rivet::eprintln!("http-hello: no thread for a connection: {e}");
        }
    }
}

/// Answers the requests of one connection until the client closes it or asks to.
fn serve(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        // Read until a whole request head is buffered.
        let head_end = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                break end + 4;
            }
            if buffer.len() > MAX_HEAD {
                let _ = stream.write_all(BAD_REQUEST);
                return;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = &buffer[..head_end];
        let keep_alive = !wants_close(head);
        let sent = if head.starts_with(b"GET /heap ") {
            heap(&stream, keep_alive)
        } else if head.starts_with(b"GET ") {
            respond(&stream, true, keep_alive)
        } else if head.starts_with(b"HEAD ") {
            respond(&stream, false, keep_alive)
        } else {
            stream.write_all(NOT_ALLOWED).map(|()| false)
        };
        if !sent.unwrap_or(false) {
            return;
        }
        buffer.drain(..head_end);
    }
}

/// Sends the page (or only its headers); `Ok(true)`: the connection stays open.
fn respond(stream: &TcpStream, body: bool, keep_alive: bool) -> rivet::io::Result<bool> {
    let mut reply = Vec::with_capacity(160 + PAGE.len());
    reply.extend_from_slice(OK_HEAD);
    reply.extend_from_slice(if keep_alive { KEEP_ALIVE } else { CLOSE });
    if body {
        reply.extend_from_slice(PAGE.as_bytes());
    }
    stream.write_all(&reply)?;
    Ok(keep_alive)
}

const OK_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\nServer: rivet\r\nContent-Type: text/html\r\nContent-Length: 612\r\n";
const KEEP_ALIVE: &[u8] = b"Connection: keep-alive\r\n\r\n";
const CLOSE: &[u8] = b"Connection: close\r\n\r\n";
const NOT_ALLOWED: &[u8] =
    b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// `GET /heap`: the kernel heap's use, for soak runs (`cargo xtask bench http --soak N`).
fn heap(stream: &TcpStream, keep_alive: bool) -> rivet::io::Result<bool> {
    let usage = rivet::process::heap_usage();
    let body = alloc::format!("heap: {} of {} bytes allocated\n", usage.allocated, usage.total);
    let head = alloc::format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n",
        body.len()
    );
    let mut reply = Vec::with_capacity(head.len() + 32 + body.len());
    reply.extend_from_slice(head.as_bytes());
    reply.extend_from_slice(if keep_alive { KEEP_ALIVE } else { CLOSE });
    reply.extend_from_slice(body.as_bytes());
    stream.write_all(&reply)?;
    Ok(keep_alive)
}

/// Whether the request asks to close the connection after the answer (`Connection: close`,
/// or HTTP/1.0 without `keep-alive`).
fn wants_close(head: &[u8]) -> bool {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let http10 = find(&lower, b" http/1.0\r\n").is_some();
    if find(&lower, b"\r\nconnection: close").is_some() {
        return true;
    }
    http10 && find(&lower, b"\r\nconnection: keep-alive").is_none()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
