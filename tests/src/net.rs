//! Network checks: host-side clients run against a guest server over QEMU user networking.
//!
//! Each check gets the host ports forwarded to the guest ([`Ports`]) and returns a one-line
//! summary or what went wrong. They check every byte they get back: an answer of the wrong
//! length or content is a failure, not a warning.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// A network scenario's needs: which guest ports to reach, when the server is ready, and the
/// check to run then.
#[derive(Debug, Clone, Copy)]
pub struct NetTest {
    /// A console pattern (as in `Scenario::in_order`) saying the server listens.
    pub ready: &'static str,
    /// The guest's TCP port to forward, if any.
    pub tcp: Option<u16>,
    /// The guest's UDP port to forward, if any.
    pub udp: Option<u16>,
    /// The check.
    pub check: NetCheck,
}

/// Who checks the guest's server.
#[derive(Debug, Clone, Copy)]
pub enum NetCheck {
    /// The host, through ports QEMU's user network forwards ([`Ports`]).
    Host(fn(&Ports) -> Result<String, String>),
    /// The machine's Linux dom0 (`xen-domu`), over the domU's vif: a busybox shell command whose
    /// output dom0 prints as `RIVET-DOM0-CHECK: ok OUTPUT` (or `fail`), for the console patterns
    /// to check. `ready` is then plain text a console line contains, not a pattern.
    Dom0(&'static str),
}

/// Host ports (on 127.0.0.1) that reach the guest's forwarded ports.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// Forwarded to [`NetTest::tcp`].
    pub tcp: u16,
    /// Forwarded to [`NetTest::udp`].
    pub udp: u16,
}

/// A free TCP (or UDP) port on 127.0.0.1, found by binding port 0.
pub fn free_port(udp: bool) -> Result<u16, String> {
    let port = if udp {
        UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr())
    } else {
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|s| s.local_addr())
    };
    port.map(|a| a.port()).map_err(|e| format!("no free host port: {e}"))
}

/// How long a client waits for an answer. Generous: QEMU's user network accepts host
/// connections with a listen backlog of 1, so under a burst the host's kernel makes late
/// connections wait for SYN-ACK retransmissions (1, 3, 7, 15, 31 s), before the guest sees them.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// The size of http-hello's page.
const PAGE_SIZE: usize = 612;

fn connect(port: u16) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Reads one HTTP response (head and `Content-Length` body) from `stream`, keeping bytes read
/// past it in `pending`; returns the status code and the body.
fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Result<(u16, Vec<u8>), String> {
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(format!("connection closed after {} bytes", pending.len())),
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&pending[..head_end]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {head:?}"))?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
    while pending.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) => return Err("connection closed inside a body".into()),
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let body = pending[head_end..head_end + length].to_vec();
    pending.drain(..head_end + length);
    Ok((status, body))
}

fn check_page(status: u16, body: &[u8]) -> Result<(), String> {
    if status != 200 {
        return Err(format!("status {status}, not 200"));
    }
    if body.len() != PAGE_SIZE || !body.starts_with(b"<!DOCTYPE html>") {
        return Err(format!("a body of {} bytes, not the {PAGE_SIZE}-byte page", body.len()));
    }
    Ok(())
}

/// Opens a connection and GETs the page, keeping the connection.
fn keep_alive_get(port: u16) -> Result<(TcpStream, Vec<u8>), String> {
    let mut stream = connect(port)?;
    let mut pending = Vec::new();
    request(&mut stream, &mut pending, "GET / HTTP/1.1\r\nHost: rivet\r\n\r\n")?;
    Ok((stream, pending))
}

/// Sends `text` and checks that the page comes back.
fn request(stream: &mut TcpStream, pending: &mut Vec<u8>, text: &str) -> Result<(), String> {
    stream.write_all(text.as_bytes()).map_err(|e| format!("write: {e}"))?;
    let (status, body) = read_response(stream, pending)?;
    check_page(status, &body)
}

fn get(port: u16) -> Result<(), String> {
    let mut stream = connect(port)?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: rivet\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let (status, body) = read_response(&mut stream, &mut Vec::new())?;
    check_page(status, &body)
}

/// http-hello: one GET; 1,000 keep-alive requests on one connection; 200 connections open at
/// once, each answering a request before and after all are open; a bad method and an oversized head answered and closed; 150 idle connections held
/// open while a GET still succeeds.
pub fn http_hello(ports: &Ports) -> Result<String, String> {
    let port = ports.tcp;
    get(port).map_err(|e| format!("first GET: {e}"))?;

    let started = Instant::now();
    let mut stream = connect(port)?;
    let mut pending = Vec::new();
    for i in 0..1000 {
        stream
            .write_all(b"GET /keep-alive HTTP/1.1\r\nHost: rivet\r\n\r\n")
            .map_err(|e| format!("keep-alive request {i}: write: {e}"))?;
        let (status, body) = read_response(&mut stream, &mut pending)
            .map_err(|e| format!("keep-alive request {i}: {e}"))?;
        check_page(status, &body).map_err(|e| format!("keep-alive request {i}: {e}"))?;
    }
    drop(stream);
    let keep_alive = started.elapsed();

    let started = Instant::now();
    let all_open = std::sync::Arc::new(std::sync::Barrier::new(200));
    let clients: Vec<_> = (0..200u64)
        .map(|i| {
            let all_open = all_open.clone();
            std::thread::spawn(move || {
                // Connections start 10 ms apart: QEMU's user network takes host connections
                // with a listen backlog of 1, and a burst overflows the host kernel's queue.
                std::thread::sleep(Duration::from_millis(10 * i));
                let first = keep_alive_get(port);
                // Every connection is open (and served once) before any is used again.
                all_open.wait();
                let (mut stream, mut pending) = first?;
                request(&mut stream, &mut pending, "GET /again HTTP/1.1\r\nHost: rivet\r\n\r\n")
            })
        })
        .collect();
    let failures: Vec<String> = clients
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| match c.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("client {i}: {e}")),
            Err(_) => Some(format!("client {i} panicked")),
        })
        .collect();
    if !failures.is_empty() {
        return Err(format!(
            "{} of 200 parallel GETs failed, first: {}",
            failures.len(),
            failures[0]
        ));
    }
    let parallel = started.elapsed();

    let mut stream = connect(port)?;
    stream.write_all(b"DELETE / HTTP/1.1\r\n\r\n").map_err(|e| e.to_string())?;
    let (status, _) = read_response(&mut stream, &mut Vec::new())?;
    if status != 405 {
        return Err(format!("DELETE got {status}, not 405"));
    }
    let mut stream = connect(port)?;
    let huge = vec![b'a'; 20_000];
    stream.write_all(b"GET /").map_err(|e| e.to_string())?;
    // The server may close before taking it all: only its answer matters.
    let _ = stream.write_all(&huge);
    let (status, _) = read_response(&mut stream, &mut Vec::new())?;
    if status != 400 {
        return Err(format!("an oversized request head got {status}, not 400"));
    }

    let idle: Vec<TcpStream> = (0..150).map(|_| connect(port)).collect::<Result<_, _>>()?;
    get(port).map_err(|e| format!("GET with 150 idle connections open: {e}"))?;
    drop(idle);

    Ok(format!(
        "1000 keep-alive requests in {:.2} s, 200 parallel connections in {:.2} s",
        keep_alive.as_secs_f64(),
        parallel.as_secs_f64()
    ))
}

/// A GET through the static address set-up (ip=, gw=).
pub fn http_get(ports: &Ports) -> Result<String, String> {
    get(ports.tcp)?;
    Ok("GET answered".into())
}

/// FNV-1a over a stream, to compare what was sent with what came back.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// tcp-echo: 16 MiB of pseudo-random bytes sent while reading the echo back; the checksums of
/// both directions must match, and the stream must end after the last byte.
pub fn tcp_echo(ports: &Ports) -> Result<String, String> {
    const TOTAL: usize = 16 << 20;
    let stream = connect(ports.tcp)?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let sender = std::thread::spawn(move || -> Result<u64, String> {
        let mut hash = Fnv::new();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut chunk = vec![0u8; 64 * 1024];
        let mut sent = 0;
        while sent < TOTAL {
            for b in chunk.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            let n = chunk.len().min(TOTAL - sent);
            writer.write_all(&chunk[..n]).map_err(|e| format!("write at {sent}: {e}"))?;
            hash.update(&chunk[..n]);
            sent += n;
        }
        writer.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
        Ok(hash.0)
    });
    let mut reader = stream;
    let mut hash = Fnv::new();
    let mut received = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                hash.update(&chunk[..n]);
                received += n;
            }
            Err(e) => return Err(format!("read after {received} bytes: {e}")),
        }
    }
    let sent = sender.join().map_err(|_| "the sender panicked".to_string())??;
    if received != TOTAL {
        return Err(format!("{received} bytes came back, not {TOTAL}"));
    }
    if sent != hash.0 {
        return Err(format!("checksums differ: sent {sent:#x}, got back {:#x}", hash.0));
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(format!("16 MiB echoed in {secs:.2} s ({:.1} MiB/s), checksum {sent:#x}", 16.0 / secs))
}

/// udp-echo: 200 datagrams of 1 to 1472 bytes, each echoed exactly (a lost one is sent again,
/// at most 3 times).
pub fn udp_echo(ports: &Ports) -> Result<String, String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket.connect(("127.0.0.1", ports.udp)).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(Duration::from_secs(2))).map_err(|e| e.to_string())?;
    let mut retries = 0;
    let mut reply = vec![0u8; 2048];
    for i in 0..200usize {
        let size = 1 + (i * 7919) % 1472;
        let payload: Vec<u8> = (0..size).map(|j| (i * 31 + j) as u8).collect();
        let mut attempts = 0;
        loop {
            socket.send(&payload).map_err(|e| format!("send {i}: {e}"))?;
            match socket.recv(&mut reply) {
                Ok(n) if reply[..n] == payload[..] => break,
                Ok(n) => return Err(format!("datagram {i}: {n} bytes came back, not its {size}")),
                Err(_) if attempts < 3 => {
                    attempts += 1;
                    retries += 1;
                }
                Err(e) => return Err(format!("datagram {i}: no echo after 4 sends: {e}")),
            }
        }
    }
    Ok(format!("200 datagrams echoed ({retries} resent)"))
}
