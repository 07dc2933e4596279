//! Names and addresses: `getaddrinfo`/`freeaddrinfo`/`gai_strerror` (numeric hosts, or DNS
//! through `rivet::net::lookup_host`), `inet_pton`/`inet_ntop`/`inet_aton`/`inet_addr`/
//! `inet_ntoa`, and the byte-order functions. IPv4 only, as `rivet::net`.

use crate::os::alloc::boxed::Box;
use crate::os::errno;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::net::{Ipv4Addr, SocketAddr};

const AF_UNSPEC: c_int = 0;
const AF_INET: c_int = 2;
const AF_INET6: c_int = 10;
const SOCK_STREAM: c_int = 1;
const SOCK_DGRAM: c_int = 2;
const AI_PASSIVE: c_int = 0x1;
const AI_NUMERICHOST: c_int = 0x4;
const EAI_BADFLAGS: c_int = -1;
const EAI_NONAME: c_int = -2;
const EAI_FAMILY: c_int = -6;
const EAI_SOCKTYPE: c_int = -7;
const EAI_SERVICE: c_int = -8;
const EAI_MEMORY: c_int = -10;
const EAFNOSUPPORT: c_int = 97;
const ENOSPC: c_int = 28;

/// glibc's `struct addrinfo`.
#[repr(C)]
pub struct AddrInfo {
    ai_flags: c_int,
    ai_family: c_int,
    ai_socktype: c_int,
    ai_protocol: c_int,
    ai_addrlen: u32,
    ai_addr: *mut c_void,
    ai_canonname: *mut c_char,
    ai_next: *mut AddrInfo,
}

/// One answer: the `addrinfo` and the `sockaddr_in` it points at, freed together.
#[repr(C)]
struct Answer {
    info: AddrInfo,
    address: [u8; 16],
}

/// A C string argument, or `None` for null or non-UTF-8.
///
/// # Safety
/// A non-null `text` points at a NUL-terminated string.
unsafe fn text<'a>(text: *const c_char) -> Option<&'a str> {
    // SAFETY: the caller's contract.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }).and_then(|s| s.to_str().ok())
}

/// Resolves `node` and `service` to IPv4 socket addresses (`AF_INET`, one per socket type
/// asked for).
///
/// # Safety
/// `node`/`service` are null or NUL-terminated; `hints` is null or an `addrinfo`; `result` is
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn getaddrinfo(
    node: *const c_char,
    service: *const c_char,
    hints: *const AddrInfo,
    result: *mut *mut AddrInfo,
) -> c_int {
    if result.is_null() || (node.is_null() && service.is_null()) {
        return EAI_NONAME;
    }
    // SAFETY: the caller's contract.
    let (flags, family, socktype, protocol) = match unsafe { hints.as_ref() } {
        Some(h) => (h.ai_flags, h.ai_family, h.ai_socktype, h.ai_protocol),
        None => (0, AF_UNSPEC, 0, 0),
    };
    if flags & !0x7f != 0 {
        return EAI_BADFLAGS;
    }
    match family {
        AF_UNSPEC | AF_INET => {}
        AF_INET6 => return EAI_FAMILY,
        _ => return EAI_FAMILY,
    }
    let kinds: &[c_int] = match socktype {
        0 => &[SOCK_STREAM, SOCK_DGRAM],
        SOCK_STREAM => &[SOCK_STREAM],
        SOCK_DGRAM => &[SOCK_DGRAM],
        _ => return EAI_SOCKTYPE,
    };
    // SAFETY: the caller's contract.
    let port = match unsafe { text(service) } {
        None if service.is_null() => 0,
        None => return EAI_SERVICE,
        Some(s) => match s.parse::<u16>() {
            Ok(port) => port,
            Err(_) => match s {
                "http" => 80,
                "https" => 443,
                "echo" => 7,
                "domain" => 53,
                _ => return EAI_SERVICE,
            },
        },
    };
    // SAFETY: the caller's contract.
    let addresses: crate::os::alloc::vec::Vec<Ipv4Addr> = match unsafe { text(node) } {
        None if node.is_null() => {
            let any =
                if flags & AI_PASSIVE != 0 { Ipv4Addr::UNSPECIFIED } else { Ipv4Addr::LOCALHOST };
            crate::os::alloc::vec![any]
        }
        None => return EAI_NONAME,
        Some(name) => match name.parse::<Ipv4Addr>() {
            Ok(ip) => crate::os::alloc::vec![ip],
            Err(_) if flags & AI_NUMERICHOST != 0 => return EAI_NONAME,
            Err(_) if name == "localhost" => crate::os::alloc::vec![Ipv4Addr::LOCALHOST],
            Err(_) => match rivet::net::lookup_host(&crate::os::alloc::format!("{name}:0")) {
                Ok(found) => found
                    .filter_map(|a| match a {
                        SocketAddr::V4(v4) => Some(*v4.ip()),
                        SocketAddr::V6(_) => None,
                    })
                    .collect(),
                Err(_) => return EAI_NONAME,
            },
        },
    };
    if addresses.is_empty() {
        return EAI_NONAME;
    }
    let mut head: *mut AddrInfo = core::ptr::null_mut();
    for ip in addresses.iter().rev() {
        for &kind in kinds.iter().rev() {
            let mut answer = Box::new(Answer {
                info: AddrInfo {
                    ai_flags: flags,
                    ai_family: AF_INET,
                    ai_socktype: kind,
                    ai_protocol: if protocol != 0 {
                        protocol
                    } else if kind == SOCK_STREAM {
                        6
                    } else {
                        17
                    },
                    ai_addrlen: 16,
                    ai_addr: core::ptr::null_mut(),
                    ai_canonname: core::ptr::null_mut(),
                    ai_next: head,
                },
                address: [0; 16],
            });
            answer.address[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
            answer.address[2..4].copy_from_slice(&port.to_be_bytes());
            answer.address[4..8].copy_from_slice(&ip.octets());
            let answer = Box::into_raw(answer);
            // SAFETY: `answer` is a live box; its address field lives as long as it does.
            unsafe { (*answer).info.ai_addr = (*answer).address.as_mut_ptr().cast() };
            head = answer.cast();
        }
    }
    // SAFETY: the caller's contract.
    unsafe { *result = head };
    0
}

/// Frees a list `getaddrinfo` returned.
///
/// # Safety
/// `list` is null or a list from [`getaddrinfo`], not freed before.
#[no_mangle]
pub unsafe extern "C" fn freeaddrinfo(mut list: *mut AddrInfo) {
    while !list.is_null() {
        // SAFETY: every node is the `info` (first field) of a boxed `Answer` made above.
        let answer = unsafe { Box::from_raw(list.cast::<Answer>()) };
        list = answer.info.ai_next;
    }
}

/// The message for a `getaddrinfo` error.
#[no_mangle]
pub extern "C" fn gai_strerror(error: c_int) -> *const c_char {
    let text: &CStr = match error {
        EAI_BADFLAGS => c"Bad value for ai_flags",
        EAI_NONAME => c"Name or service not known",
        EAI_FAMILY => c"ai_family not supported",
        EAI_SOCKTYPE => c"ai_socktype not supported",
        EAI_SERVICE => c"Servname not supported for ai_socktype",
        EAI_MEMORY => c"Memory allocation failure",
        _ => c"Unknown error",
    };
    text.as_ptr()
}

/// Parses a dotted-quad address (`AF_INET`; `AF_INET6` is not supported).
///
/// # Safety
/// `source` is NUL-terminated; `destination` is valid for writes of 4 bytes.
#[no_mangle]
pub unsafe extern "C" fn inet_pton(
    family: c_int,
    source: *const c_char,
    destination: *mut c_void,
) -> c_int {
    if family != AF_INET {
        errno::set(EAFNOSUPPORT);
        return -1;
    }
    // SAFETY: the caller's contract.
    match unsafe { text(source) }.and_then(|s| s.parse::<Ipv4Addr>().ok()) {
        Some(ip) => {
            // SAFETY: the caller's contract.
            unsafe { core::ptr::copy_nonoverlapping(ip.octets().as_ptr(), destination.cast(), 4) };
            1
        }
        None => 0,
    }
}

/// Formats an address as text (`AF_INET`).
///
/// # Safety
/// `source` is valid for reads of 4 bytes; `destination` for writes of `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn inet_ntop(
    family: c_int,
    source: *const c_void,
    destination: *mut c_char,
    size: u32,
) -> *const c_char {
    if family != AF_INET {
        errno::set(EAFNOSUPPORT);
        return core::ptr::null();
    }
    let mut octets = [0u8; 4];
    // SAFETY: the caller's contract.
    unsafe { core::ptr::copy_nonoverlapping(source.cast::<u8>(), octets.as_mut_ptr(), 4) };
    let text = crate::os::alloc::format!("{}\0", Ipv4Addr::from(octets));
    if text.len() > size as usize {
        errno::set(ENOSPC);
        return core::ptr::null();
    }
    // SAFETY: the caller's contract; `text` fits.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), destination.cast(), text.len()) };
    destination
}

/// Parses a dotted-quad address into `*address` (network order); 1 on success, 0 if not one.
///
/// # Safety
/// `text` is NUL-terminated; `address` is valid for writes of 4 bytes.
#[no_mangle]
pub unsafe extern "C" fn inet_aton(source: *const c_char, address: *mut u32) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { text(source) }.and_then(|s| s.parse::<Ipv4Addr>().ok()) {
        Some(ip) => {
            // SAFETY: the caller's contract.
            unsafe { address.write_unaligned(u32::from_ne_bytes(ip.octets())) };
            1
        }
        None => 0,
    }
}

/// A dotted-quad address in network order; `INADDR_NONE` (all ones) if it is not one.
///
/// # Safety
/// `source` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn inet_addr(source: *const c_char) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { text(source) }
        .and_then(|s| s.parse::<Ipv4Addr>().ok())
        .map_or(u32::MAX, |ip| u32::from_ne_bytes(ip.octets()))
}

/// Formats an address (network order) in a static buffer, as glibc's `inet_ntoa`.
#[no_mangle]
pub extern "C" fn inet_ntoa(address: u32) -> *const c_char {
    static BUFFER: rivet::sync::Mutex<[u8; 16]> = rivet::sync::Mutex::new([0; 16]);
    let text = crate::os::alloc::format!("{}\0", Ipv4Addr::from(address.to_ne_bytes()));
    let mut buffer = BUFFER.lock().unwrap_or_else(|p| p.into_inner());
    buffer[..text.len()].copy_from_slice(text.as_bytes());
    buffer.as_ptr().cast()
}

/// Host to network byte order, 16 bits.
#[no_mangle]
pub extern "C" fn htons(value: u16) -> u16 {
    value.to_be()
}

/// Network to host byte order, 16 bits.
#[no_mangle]
pub extern "C" fn ntohs(value: u16) -> u16 {
    u16::from_be(value)
}

/// Host to network byte order, 32 bits.
#[no_mangle]
pub extern "C" fn htonl(value: u32) -> u32 {
    value.to_be()
}

/// Network to host byte order, 32 bits.
#[no_mangle]
pub extern "C" fn ntohl(value: u32) -> u32 {
    u32::from_be(value)
}
