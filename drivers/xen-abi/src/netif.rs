//! The network device protocol (`io/netif.h`) and the xenbus states.
//!
//! A netfront and its netback share two [rings](crate::ring) of one page each: on the transmit
//! ring the front end posts [`NetifTxRequest`]s (a granted page, offset and size of one frame or
//! fragment) and gets [`NetifTxResponse`]s; on the receive ring it posts [`NetifRxRequest`]s (an
//! empty granted page) and gets [`NetifRxResponse`]s (where in that page a frame landed and how
//! long it is, or an error). Requests carry an `id` the response echoes.
//!
//! What lives here: the four entry structures, the flag and status numbers, the ring sizes for a
//! 4096-byte page and [`XenbusState`]. What does not: the control ring, `netif_extra_info` (GSO,
//! multicast, hashing), multi-queue: a front end that advertises none of those features never
//! sees them.
//!
//! Weak spots: a response's `status` is a length *or* an error code, and nothing in the entry
//! says which until the caller checks the sign; the caller validates it against its own page.

/// `NETTXF_csum_blank`: the protocol checksum is blank (the back end or the NIC computes it).
pub const NETTXF_CSUM_BLANK: u16 = 1 << 0;
/// `NETTXF_data_validated`: the checksum has been validated.
pub const NETTXF_DATA_VALIDATED: u16 = 1 << 1;
/// `NETTXF_more_data`: the frame continues in the next request.
pub const NETTXF_MORE_DATA: u16 = 1 << 2;
/// `NETTXF_extra_info`: a `netif_extra_info` follows in the next slot.
pub const NETTXF_EXTRA_INFO: u16 = 1 << 3;

/// `NETRXF_data_validated`: the checksum was validated.
pub const NETRXF_DATA_VALIDATED: u16 = 1 << 0;
/// `NETRXF_csum_blank`: the checksum is blank (only if the front end did not refuse it).
pub const NETRXF_CSUM_BLANK: u16 = 1 << 1;
/// `NETRXF_more_data`: the frame continues in the next response (only with `feature-sg`).
pub const NETRXF_MORE_DATA: u16 = 1 << 2;
/// `NETRXF_extra_info`: a `netif_extra_info` follows (only with GSO features).
pub const NETRXF_EXTRA_INFO: u16 = 1 << 3;
/// `NETRXF_gso_prefix`: a GSO prefix slot (only with `feature-gso-*-prefix`).
pub const NETRXF_GSO_PREFIX: u16 = 1 << 4;

/// `NETIF_RSP_DROPPED`: the back end dropped the frame.
pub const NETIF_RSP_DROPPED: i16 = -2;
/// `NETIF_RSP_ERROR`: the request was bad.
pub const NETIF_RSP_ERROR: i16 = -1;
/// `NETIF_RSP_OKAY`: done (transmit responses).
pub const NETIF_RSP_OKAY: i16 = 0;
/// `NETIF_RSP_NULL`: a response to an extra-info slot, carrying nothing.
pub const NETIF_RSP_NULL: i16 = 1;

/// `XEN_NETIF_MAX_TX_SIZE`: the largest frame a transmit request may describe.
pub const XEN_NETIF_MAX_TX_SIZE: u16 = 0xffff;

/// `struct netif_tx_request`: one frame (or its first fragment) to send.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifTxRequest {
    /// The grant of the page holding the data.
    pub gref: u32,
    /// Where in the page the data starts.
    pub offset: u16,
    /// `NETTXF_*`.
    pub flags: u16,
    /// Echoed in the response.
    pub id: u16,
    /// Bytes of data (for the first fragment of several: of the whole frame).
    pub size: u16,
}

/// `struct netif_tx_response`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifTxResponse {
    /// The request's `id`.
    pub id: u16,
    /// `NETIF_RSP_*`.
    pub status: i16,
}

/// `struct netif_rx_request`: an empty page for the back end to fill.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifRxRequest {
    /// Echoed in the response.
    pub id: u16,
    /// Padding.
    pub pad: u16,
    /// The grant of the page (writable by the back end).
    pub gref: u32,
}

/// `struct netif_rx_response`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifRxResponse {
    /// The request's `id`.
    pub id: u16,
    /// Where in the page the frame starts.
    pub offset: u16,
    /// `NETRXF_*`.
    pub flags: u16,
    /// The frame's length if positive, else a `NETIF_RSP_*` error.
    pub status: i16,
}

/// Bytes of one transmit ring entry (the union of request and response).
pub const TX_ENTRY_SIZE: usize = 12;
/// Bytes of one receive ring entry.
pub const RX_ENTRY_SIZE: usize = 8;
/// Entries of a transmit ring in one 4096-byte page (`NET_TX_RING_SIZE`).
pub const TX_RING_ENTRIES: u32 = crate::ring::entries_in(4096, TX_ENTRY_SIZE);
/// Entries of a receive ring in one 4096-byte page (`NET_RX_RING_SIZE`).
pub const RX_RING_ENTRIES: u32 = crate::ring::entries_in(4096, RX_ENTRY_SIZE);

/// `enum xenbus_state`: a device end's state, as decimal text in its `state` node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum XenbusState {
    /// `XenbusStateUnknown`.
    Unknown = 0,
    /// `XenbusStateInitialising`: setting up.
    Initialising = 1,
    /// `XenbusStateInitWait`: the back end waits for the front end's details.
    InitWait = 2,
    /// `XenbusStateInitialised`: details published, waiting for the other end.
    Initialised = 3,
    /// `XenbusStateConnected`: running.
    Connected = 4,
    /// `XenbusStateClosing`: going away.
    Closing = 5,
    /// `XenbusStateClosed`.
    Closed = 6,
    /// `XenbusStateReconfiguring`.
    Reconfiguring = 7,
    /// `XenbusStateReconfigured`.
    Reconfigured = 8,
}

impl XenbusState {
    /// The state a `state` node's text names (untrusted: surrounding whitespace and a trailing
    /// NUL are tolerated, anything else is `None`).
    pub fn parse(text: &str) -> Option<Self> {
        let number: u8 =
            text.trim_matches(|c: char| c.is_whitespace() || c == '\0').parse().ok()?;
        Some(match number {
            0 => Self::Unknown,
            1 => Self::Initialising,
            2 => Self::InitWait,
            3 => Self::Initialised,
            4 => Self::Connected,
            5 => Self::Closing,
            6 => Self::Closed,
            7 => Self::Reconfiguring,
            8 => Self::Reconfigured,
            _ => return None,
        })
    }

    /// The text to write into a `state` node.
    pub const fn as_text(self) -> &'static str {
        match self {
            Self::Unknown => "0",
            Self::Initialising => "1",
            Self::InitWait => "2",
            Self::Initialised => "3",
            Self::Connected => "4",
            Self::Closing => "5",
            Self::Closed => "6",
            Self::Reconfiguring => "7",
            Self::Reconfigured => "8",
        }
    }
}

macro_rules! offset {
    ($t:ty, $f:ident, $n:expr) => {
        const _: () = assert!(core::mem::offset_of!($t, $f) == $n);
    };
}
// gcc (x86_64) `offsetof`/`sizeof` against the Xen 4.17 headers.
const _: () = assert!(core::mem::size_of::<NetifTxRequest>() == 12);
offset!(NetifTxRequest, gref, 0);
offset!(NetifTxRequest, offset, 4);
offset!(NetifTxRequest, flags, 6);
offset!(NetifTxRequest, id, 8);
offset!(NetifTxRequest, size, 10);
const _: () = assert!(core::mem::size_of::<NetifTxResponse>() == 4);
offset!(NetifTxResponse, status, 2);
const _: () = assert!(core::mem::size_of::<NetifRxRequest>() == 8);
offset!(NetifRxRequest, pad, 2);
offset!(NetifRxRequest, gref, 4);
const _: () = assert!(core::mem::size_of::<NetifRxResponse>() == 8);
offset!(NetifRxResponse, offset, 2);
offset!(NetifRxResponse, flags, 4);
offset!(NetifRxResponse, status, 6);
// sizeof(union netif_tx_sring_entry) == 12, sizeof(union netif_rx_sring_entry) == 8.
const _: () = assert!(TX_ENTRY_SIZE == 12 && RX_ENTRY_SIZE == 8);
const _: () = assert!(TX_RING_ENTRIES == 256 && RX_RING_ENTRIES == 256);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_xen_4_17_headers() {
        // As a C program printed them.
        assert_eq!((NETTXF_CSUM_BLANK, NETTXF_DATA_VALIDATED, NETTXF_MORE_DATA), (1, 2, 4));
        assert_eq!(NETTXF_EXTRA_INFO, 8);
        assert_eq!((NETRXF_DATA_VALIDATED, NETRXF_CSUM_BLANK, NETRXF_MORE_DATA), (1, 2, 4));
        assert_eq!((NETRXF_EXTRA_INFO, NETRXF_GSO_PREFIX), (8, 16));
        assert_eq!(
            (NETIF_RSP_DROPPED, NETIF_RSP_ERROR, NETIF_RSP_OKAY, NETIF_RSP_NULL),
            (-2, -1, 0, 1)
        );
        assert_eq!(XEN_NETIF_MAX_TX_SIZE, 65535);
        assert_eq!((TX_RING_ENTRIES, RX_RING_ENTRIES), (256, 256));
        assert_eq!(core::mem::size_of::<NetifTxRequest>(), 12);
        assert_eq!(core::mem::offset_of!(NetifTxRequest, size), 10);
        assert_eq!(core::mem::offset_of!(NetifRxRequest, gref), 4);
        assert_eq!(core::mem::offset_of!(NetifRxResponse, status), 6);
    }

    #[test]
    fn xenbus_states_round_trip_and_reject_junk() {
        for number in 0..=8u8 {
            let state = XenbusState::parse(&number.to_string()).unwrap();
            assert_eq!(state as u8, number);
            assert_eq!(XenbusState::parse(state.as_text()), Some(state));
        }
        assert_eq!(XenbusState::parse(" 4\0"), Some(XenbusState::Connected));
        for junk in ["", "9", "-1", "4x", "256", "connected"] {
            assert_eq!(XenbusState::parse(junk), None, "{junk:?}");
        }
    }
}
