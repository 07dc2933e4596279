//! The xenstore wire protocol (`io/xs_wire.h`, `docs/misc/xenstore.txt`): messages, their
//! encoding, and the checks on what comes back.
//!
//! A message is a 16-byte header ([`Header`]: type, request id, transaction id, payload length)
//! and at most [`PAYLOAD_MAX`] bytes of payload, usually NUL-terminated strings. A request goes
//! into the ring's `req` half; replies and asynchronous watch events come back through `rsp`, in
//! pieces as the ring allows: [`Reader`] puts them together and refuses a header whose length
//! exceeds the protocol's limit before reading any payload. Everything from the other side is
//! untrusted: [`Reply::check`] matches a reply to its request and turns `XS_ERROR` into
//! [`StoreError`]; [`directory_entries`] and [`watch_event`] split payloads without assuming
//! well-formed ones.

use crate::byte_ring::{self, RingIndexError, SharedBytes};

/// `XENSTORE_RING_SIZE`: bytes of each half of the xenstore ring.
pub const RING_SIZE: u32 = 1024;
/// `XENSTORE_PAYLOAD_MAX`: the largest payload either side may send.
pub const PAYLOAD_MAX: usize = 4096;
/// Bytes of a message header (`struct xsd_sockmsg`).
pub const HEADER_LEN: usize = 16;

/// Message types (`enum xsd_sockmsg_type`) Rivet sends or receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// `XS_DIRECTORY`: the children of a node.
    Directory = 1,
    /// `XS_READ`: a node's value.
    Read = 2,
    /// `XS_WATCH`: be told when a subtree changes.
    Watch = 4,
    /// `XS_UNWATCH`: stop being told.
    Unwatch = 5,
    /// `XS_TRANSACTION_START`: returns a transaction id.
    TransactionStart = 6,
    /// `XS_TRANSACTION_END`: commit (`T`) or abort (`F`).
    TransactionEnd = 7,
    /// `XS_GET_DOMAIN_PATH`: `/local/domain/<id>`.
    GetDomainPath = 10,
    /// `XS_WRITE`: set a node's value, creating it.
    Write = 11,
    /// `XS_MKDIR`.
    Mkdir = 12,
    /// `XS_RM`.
    Rm = 13,
    /// `XS_WATCH_EVENT`: asynchronous, a watched path changed.
    WatchEvent = 15,
    /// `XS_ERROR`: the request failed; the payload names the errno.
    Error = 16,
}

/// `struct xsd_sockmsg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The message type (a [`Kind`] value, or anything from a broken peer).
    pub kind: u32,
    /// Echoed in the reply.
    pub request_id: u32,
    /// Transaction id, 0 outside transactions.
    pub transaction: u32,
    /// Payload bytes that follow.
    pub len: u32,
}

impl Header {
    /// The header's 16 bytes (little-endian: both Xen architectures Rivet runs on are).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        for (i, word) in [self.kind, self.request_id, self.transaction, self.len].iter().enumerate()
        {
            out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// The header of 16 bytes.
    pub fn from_bytes(bytes: &[u8; HEADER_LEN]) -> Self {
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        Self { kind: word(0), request_id: word(4), transaction: word(8), len: word(12) }
    }
}

/// What went wrong in a xenstore exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The daemon answered `XS_ERROR` with this errno name (`ENOENT`, `EACCES` …).
    Daemon(ErrorName),
    /// A request's payload would exceed [`PAYLOAD_MAX`], or a path holds a NUL.
    RequestTooLong,
    /// A path or value holds a NUL byte, which the protocol cannot carry.
    NulInArgument,
    /// The reply's length field exceeds [`PAYLOAD_MAX`].
    ReplyTooLong(u32),
    /// The reply is not for the request sent (wrong id or type).
    Mismatched {
        /// The request's type.
        expected: u32,
        /// The reply's type.
        got: u32,
    },
    /// The reply is not the text it should be (not UTF-8, or not NUL-terminated where needed).
    Malformed,
    /// The ring's indexes are out of range.
    Ring(RingIndexError),
    /// No reply came in time.
    TimedOut,
    /// There is no xenstore (not a Xen domU, or its ring was not set up).
    Unavailable,
}

impl From<RingIndexError> for StoreError {
    fn from(e: RingIndexError) -> Self {
        StoreError::Ring(e)
    }
}

impl core::fmt::Display for StoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StoreError::Daemon(name) => write!(f, "xenstore: {}", name.as_str()),
            StoreError::RequestTooLong => {
                write!(f, "xenstore: request longer than {PAYLOAD_MAX} bytes")
            }
            StoreError::NulInArgument => write!(f, "xenstore: a path or value holds a NUL byte"),
            StoreError::ReplyTooLong(len) => {
                write!(f, "xenstore: reply of {len} bytes (the limit is {PAYLOAD_MAX})")
            }
            StoreError::Mismatched { expected, got } => {
                write!(f, "xenstore: reply of type {got} to a request of type {expected}")
            }
            StoreError::Malformed => write!(f, "xenstore: malformed reply"),
            StoreError::Ring(e) => write!(f, "xenstore: {e}"),
            StoreError::TimedOut => write!(f, "xenstore: no reply"),
            StoreError::Unavailable => write!(f, "xenstore: not available on this platform"),
        }
    }
}

/// The errno names `xsd_errors` lists, and one for any other text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the names are the errno names
pub enum ErrorName {
    EINVAL,
    EACCES,
    EEXIST,
    EISDIR,
    ENOENT,
    ENOMEM,
    ENOSPC,
    EIO,
    ENOTEMPTY,
    ENOSYS,
    EROFS,
    EBUSY,
    EAGAIN,
    EISCONN,
    E2BIG,
    EPERM,
    /// A name not in the list (or not text).
    Unknown,
}

const ERROR_NAMES: [(&str, ErrorName); 16] = [
    ("EINVAL", ErrorName::EINVAL),
    ("EACCES", ErrorName::EACCES),
    ("EEXIST", ErrorName::EEXIST),
    ("EISDIR", ErrorName::EISDIR),
    ("ENOENT", ErrorName::ENOENT),
    ("ENOMEM", ErrorName::ENOMEM),
    ("ENOSPC", ErrorName::ENOSPC),
    ("EIO", ErrorName::EIO),
    ("ENOTEMPTY", ErrorName::ENOTEMPTY),
    ("ENOSYS", ErrorName::ENOSYS),
    ("EROFS", ErrorName::EROFS),
    ("EBUSY", ErrorName::EBUSY),
    ("EAGAIN", ErrorName::EAGAIN),
    ("EISCONN", ErrorName::EISCONN),
    ("E2BIG", ErrorName::E2BIG),
    ("EPERM", ErrorName::EPERM),
];

impl ErrorName {
    /// The name an `XS_ERROR` payload carries (with or without its NUL).
    pub fn parse(payload: &[u8]) -> Self {
        let text = payload.strip_suffix(b"\0").unwrap_or(payload);
        ERROR_NAMES
            .iter()
            .find(|(name, _)| name.as_bytes() == text)
            .map_or(ErrorName::Unknown, |&(_, e)| e)
    }

    /// The errno name.
    pub fn as_str(self) -> &'static str {
        ERROR_NAMES.iter().find(|&&(_, e)| e == self).map_or("unknown error", |&(name, _)| name)
    }
}

/// Encodes a request into `out`: the header, then each of `parts` followed by a NUL, except
/// that the last part gets none when `last_terminated` is false (`XS_WRITE`'s value). Returns
/// the message's length.
pub fn encode(
    kind: Kind,
    request_id: u32,
    transaction: u32,
    parts: &[&[u8]],
    last_terminated: bool,
    out: &mut [u8; HEADER_LEN + PAYLOAD_MAX],
) -> Result<usize, StoreError> {
    let mut len = 0usize;
    for (i, part) in parts.iter().enumerate() {
        if part.contains(&0) {
            return Err(StoreError::NulInArgument);
        }
        let nul = usize::from(i + 1 < parts.len() || last_terminated);
        if len + part.len() + nul > PAYLOAD_MAX {
            return Err(StoreError::RequestTooLong);
        }
        out[HEADER_LEN + len..HEADER_LEN + len + part.len()].copy_from_slice(part);
        len += part.len();
        if nul == 1 {
            out[HEADER_LEN + len] = 0;
            len += 1;
        }
    }
    let header = Header { kind: kind as u32, request_id, transaction, len: len as u32 };
    out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    Ok(HEADER_LEN + len)
}

/// Puts messages together from the bytes of the `rsp` ring as they arrive.
pub struct Reader {
    header: [u8; HEADER_LEN],
    payload: [u8; PAYLOAD_MAX],
    /// Bytes of the current message read so far (header first).
    have: usize,
}

impl Default for Reader {
    fn default() -> Self {
        Self::new()
    }
}

impl Reader {
    /// A reader at a message boundary.
    pub const fn new() -> Self {
        Self { header: [0; HEADER_LEN], payload: [0; PAYLOAD_MAX], have: 0 }
    }

    /// Reads what the ring holds into the current message; returns its header once it is
    /// complete (its payload is then [`Reader::payload`] until the next call). A header whose
    /// length exceeds [`PAYLOAD_MAX`] is an error before any payload is read; the reader then
    /// starts again at the next byte, as nothing better can be done with such a stream.
    pub fn poll(&mut self, ring: &impl SharedBytes) -> Result<Option<Header>, StoreError> {
        if self.have >= HEADER_LEN && self.have == HEADER_LEN + self.current_len() {
            self.have = 0; // the previous message was handed out
        }
        if self.have < HEADER_LEN {
            self.have += byte_ring::receive(ring, &mut self.header[self.have..])?;
            if self.have < HEADER_LEN {
                return Ok(None);
            }
            let len = Header::from_bytes(&self.header).len;
            if len as usize > PAYLOAD_MAX {
                self.have = 0;
                return Err(StoreError::ReplyTooLong(len));
            }
        }
        let len = self.current_len();
        let read = self.have - HEADER_LEN;
        self.have += byte_ring::receive(ring, &mut self.payload[read..len])?;
        Ok((self.have == HEADER_LEN + len).then(|| Header::from_bytes(&self.header)))
    }

    /// The payload of the message [`Reader::poll`] last completed.
    pub fn payload(&self) -> &[u8] {
        &self.payload[..self.current_len().min(self.have.saturating_sub(HEADER_LEN))]
    }

    fn current_len(&self) -> usize {
        (Header::from_bytes(&self.header).len as usize).min(PAYLOAD_MAX)
    }
}

/// A reply, checked against the request it answers.
pub struct Reply;

impl Reply {
    /// `Ok(())` if `reply` answers request `request_id` of type `kind`; `XS_ERROR` becomes
    /// [`StoreError::Daemon`] with the errno `payload` names.
    pub fn check(
        kind: Kind,
        request_id: u32,
        reply: &Header,
        payload: &[u8],
    ) -> Result<(), StoreError> {
        if reply.kind == Kind::Error as u32 && reply.request_id == request_id {
            return Err(StoreError::Daemon(ErrorName::parse(payload)));
        }
        if reply.kind != kind as u32 || reply.request_id != request_id {
            return Err(StoreError::Mismatched { expected: kind as u32, got: reply.kind });
        }
        Ok(())
    }
}

/// A reply's text: the payload without one trailing NUL, as UTF-8.
pub fn text(payload: &[u8]) -> Result<&str, StoreError> {
    let bytes = payload.strip_suffix(b"\0").unwrap_or(payload);
    core::str::from_utf8(bytes).map_err(|_| StoreError::Malformed)
}

/// The names of an `XS_DIRECTORY` reply: NUL-terminated strings, one per child.
pub fn directory_entries(payload: &[u8]) -> impl Iterator<Item = Result<&str, StoreError>> {
    let body = payload.strip_suffix(b"\0").unwrap_or(payload);
    body.split(|&b| b == 0)
        .filter(move |_| !body.is_empty())
        .map(|name| core::str::from_utf8(name).map_err(|_| StoreError::Malformed))
}

/// An `XS_WATCH_EVENT` payload's path and token (`path\0token\0`).
pub fn watch_event(payload: &[u8]) -> Result<(&str, &str), StoreError> {
    let body = payload.strip_suffix(b"\0").ok_or(StoreError::Malformed)?;
    let at = body.iter().position(|&b| b == 0).ok_or(StoreError::Malformed)?;
    let path = core::str::from_utf8(&body[..at]).map_err(|_| StoreError::Malformed)?;
    let token = core::str::from_utf8(&body[at + 1..]).map_err(|_| StoreError::Malformed)?;
    if token.contains('\0') {
        return Err(StoreError::Malformed);
    }
    Ok((path, token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::byte_ring::tests::FakeRing;

    fn message(kind: u32, id: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = Header { kind, request_id: id, transaction: 0, len: payload.len() as u32 }
            .to_bytes()
            .to_vec();
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn requests_are_encoded_as_the_daemon_expects() {
        let mut out = [0; HEADER_LEN + PAYLOAD_MAX];
        let n = encode(Kind::Write, 7, 3, &[b"data/x", b"42"], false, &mut out).unwrap();
        assert_eq!(&out[HEADER_LEN..n], b"data/x\x0042");
        let header = Header::from_bytes(out[..HEADER_LEN].try_into().unwrap());
        assert_eq!(header, Header { kind: 11, request_id: 7, transaction: 3, len: 9 });
        let n = encode(Kind::Watch, 1, 0, &[b"device", b"tok"], true, &mut out).unwrap();
        assert_eq!(&out[HEADER_LEN..n], b"device\0tok\0");
        let n = encode(Kind::TransactionStart, 1, 0, &[b""], true, &mut out).unwrap();
        assert_eq!(&out[HEADER_LEN..n], b"\0");
    }

    #[test]
    fn oversized_or_nul_holding_requests_are_refused() {
        let mut out = [0; HEADER_LEN + PAYLOAD_MAX];
        let long = vec![b'a'; PAYLOAD_MAX];
        assert_eq!(
            encode(Kind::Read, 1, 0, &[&long], true, &mut out),
            Err(StoreError::RequestTooLong)
        );
        assert!(encode(Kind::Write, 1, 0, &[b"p", &long[2..]], false, &mut out).is_ok());
        assert!(encode(Kind::Write, 1, 0, &[b"p", &long[1..]], false, &mut out).is_err());
        assert_eq!(
            encode(Kind::Read, 1, 0, &[b"a\0b"], true, &mut out),
            Err(StoreError::NulInArgument)
        );
    }

    #[test]
    fn the_reader_assembles_messages_from_pieces_across_the_ring_wrap() {
        let ring = FakeRing::new(RING_SIZE as usize, u32::MAX - 100);
        let mut reader = Reader::new();
        let first = message(Kind::Read as u32, 5, &vec![b'v'; 1500]);
        let second = message(Kind::WatchEvent as u32, 0, b"device/vif\0tok\0");
        let mut stream = first.clone();
        stream.extend_from_slice(&second);
        let mut fed = 0;
        let mut got = Vec::new();
        while got.len() < 2 {
            fed += byte_ring::send(&ring, &stream[fed..(fed + 300).min(stream.len())]).unwrap();
            while let Some(header) = reader.poll(&ring).unwrap() {
                got.push((header, reader.payload().to_vec()));
            }
        }
        assert_eq!(got[0].0.request_id, 5);
        assert_eq!(got[0].1, vec![b'v'; 1500]);
        assert_eq!(watch_event(&got[1].1).unwrap(), ("device/vif", "tok"));
        assert_eq!(reader.poll(&ring).unwrap(), None);
    }

    #[test]
    fn an_oversized_length_is_refused_before_its_payload() {
        let ring = FakeRing::new(RING_SIZE as usize, 0);
        let bad = Header { kind: 2, request_id: 1, transaction: 0, len: 5000 }.to_bytes();
        byte_ring::send(&ring, &bad).unwrap();
        let mut reader = Reader::new();
        assert_eq!(reader.poll(&ring).map(|_| ()), Err(StoreError::ReplyTooLong(5000)));
        // The next well-formed message still comes through.
        byte_ring::send(&ring, &message(2, 9, b"ok")).unwrap();
        assert_eq!(reader.poll(&ring).unwrap().map(|h| h.request_id), Some(9));
        assert_eq!(reader.payload(), b"ok");
    }

    #[test]
    fn replies_are_matched_and_errors_named() {
        let reply = Header { kind: 16, request_id: 4, transaction: 0, len: 7 };
        assert_eq!(
            Reply::check(Kind::Read, 4, &reply, b"ENOENT\0"),
            Err(StoreError::Daemon(ErrorName::ENOENT))
        );
        assert_eq!(ErrorName::parse(b"EWHAT\0"), ErrorName::Unknown);
        let reply = Header { kind: 2, request_id: 3, transaction: 0, len: 0 };
        assert!(matches!(
            Reply::check(Kind::Read, 4, &reply, b""),
            Err(StoreError::Mismatched { .. })
        ));
        assert!(matches!(
            Reply::check(Kind::Write, 3, &reply, b""),
            Err(StoreError::Mismatched { .. })
        ));
        assert_eq!(Reply::check(Kind::Read, 3, &reply, b""), Ok(()));
    }

    #[test]
    fn payloads_are_split_without_trusting_them() {
        let names: Vec<_> = directory_entries(b"vif\0vbd\0").map(Result::unwrap).collect();
        assert_eq!(names, ["vif", "vbd"]);
        assert_eq!(directory_entries(b"").count(), 0);
        assert!(directory_entries(b"\xff\0").next().unwrap().is_err());
        assert_eq!(watch_event(b"nopath"), Err(StoreError::Malformed));
        assert_eq!(watch_event(b"a\0b\0c\0"), Err(StoreError::Malformed));
        assert_eq!(text(b"rivet\0").unwrap(), "rivet");
        assert_eq!(text(b"rivet").unwrap(), "rivet");
        assert!(text(b"\xc3").is_err());
    }
}
