//! The xenbus handshake: what the front end reads, writes and waits for.
//!
//! The toolstack creates `device/vif/N` with `backend` (the back end's directory), `backend-id`
//! (its domain) and `mac`, and the back end's directory with its own `state`. The front end:
//! reads those, waits for the back end to reach `InitWait` (2), publishes `tx-ring-ref`,
//! `rx-ring-ref`, `event-channel` and its features, switches its own `state` to `Connected` (4)
//! and waits for the back end to follow. Everything read is untrusted text and parsed strictly.

use alloc::format;
use alloc::string::String;

use rivet_xen_abi::netif::XenbusState;

use crate::error::NetfrontError;
use crate::platform::{GrantRef, Store, StoreError};

/// Wake-ups one wait accepts before it gives up (a back end that flaps without progressing).
const MAX_WAKEUPS: u32 = 64;

/// What the toolstack says about the back end of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Backend {
    /// The back end's domain.
    pub(crate) domain: u16,
    /// Its xenstore directory.
    pub(crate) path: String,
    /// The device's MAC address.
    pub(crate) mac: [u8; 6],
}

/// What the front end publishes for the back end.
pub(crate) struct Published {
    pub(crate) tx_ring: GrantRef,
    pub(crate) rx_ring: GrantRef,
    pub(crate) port: u32,
}

fn read(store: &mut impl Store, path: &str) -> Result<String, NetfrontError> {
    store.read(path).map_err(|error| NetfrontError::Store { path: path.into(), error })
}

fn write(store: &mut impl Store, path: &str, value: &str) -> Result<(), NetfrontError> {
    store.write(path, value).map_err(|error| NetfrontError::Store { path: path.into(), error })
}

fn bad(path: &str, value: &str) -> NetfrontError {
    NetfrontError::BadNode { path: path.into(), value: value.into() }
}

/// Reads `backend-id`, `backend` and `mac` of the device at `device` (`device/vif/0`). The MAC
/// comes from the front end's directory, or the back end's when the front end has none.
pub(crate) fn read_backend(store: &mut impl Store, device: &str) -> Result<Backend, NetfrontError> {
    let id_path = format!("{device}/backend-id");
    let id_text = read(store, &id_path)?;
    let domain =
        id_text.trim_end_matches('\0').trim().parse().map_err(|_| bad(&id_path, &id_text))?;
    let path_node = format!("{device}/backend");
    let path: String = read(store, &path_node)?.trim_end_matches('\0').trim().into();
    if path.is_empty() {
        return Err(bad(&path_node, ""));
    }
    let own_mac = format!("{device}/mac");
    let (mac_path, mac_text) = match store.read(&own_mac) {
        Ok(text) => (own_mac, text),
        Err(_) => {
            let theirs = format!("{path}/mac");
            let text = read(store, &theirs)?;
            (theirs, text)
        }
    };
    let mac = parse_mac(&mac_text).ok_or_else(|| bad(&mac_path, &mac_text))?;
    Ok(Backend { domain, path, mac })
}

/// `aa:bb:cc:dd:ee:ff` (hex digits either case, a trailing NUL or whitespace tolerated).
pub(crate) fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0; 6];
    let mut parts = text.trim_end_matches('\0').trim().split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Waits until the back end's state is at least `want` (and at most `Connected`). A back end that
/// closes, or whose state is past `Connected`, fails the wait.
pub(crate) fn wait_for_backend(
    store: &mut impl Store,
    backend: &str,
    want: XenbusState,
    timeout_ms: u64,
) -> Result<(), NetfrontError> {
    wait_until(store, backend, timeout_ms, |state| {
        if state > XenbusState::Connected {
            Err(NetfrontError::BackendState(state))
        } else {
            Ok(state >= want)
        }
    })
}

/// Waits until the back end has let go of the device: its state is `state` or later, or
/// `Unknown` (its directory is being torn down).
pub(crate) fn wait_for_backend_closing(
    store: &mut impl Store,
    backend: &str,
    state: XenbusState,
    timeout_ms: u64,
) -> Result<(), NetfrontError> {
    wait_until(store, backend, timeout_ms, |now| {
        Ok(now == XenbusState::Unknown || (state..=XenbusState::Closed).contains(&now))
    })
}

/// Reads the back end's state until `done` says so (or fails), waiting for changes in between.
fn wait_until(
    store: &mut impl Store,
    backend: &str,
    timeout_ms: u64,
    mut done: impl FnMut(XenbusState) -> Result<bool, NetfrontError>,
) -> Result<(), NetfrontError> {
    let path = format!("{backend}/state");
    let mut last = XenbusState::Unknown;
    for _ in 0..MAX_WAKEUPS {
        last = match store.read(&path) {
            // A back end's directory that is gone counts as `Unknown`.
            Err(StoreError::NoEntry) => XenbusState::Unknown,
            Err(error) => return Err(NetfrontError::Store { path, error }),
            Ok(text) => XenbusState::parse(&text).ok_or_else(|| bad(&path, &text))?,
        };
        if done(last)? {
            return Ok(());
        }
        match store.wait_for_change(&path, timeout_ms) {
            Ok(()) => {}
            Err(StoreError::TimedOut) => return Err(NetfrontError::Timeout { path, last }),
            Err(error) => return Err(NetfrontError::Store { path, error }),
        }
    }
    Err(NetfrontError::Timeout { path, last })
}

/// Checks that the back end can copy received frames into our pages (`feature-rx-copy`): the
/// only receive mode this driver has (page flipping is long gone from netback too).
pub(crate) fn require_rx_copy(store: &mut impl Store, backend: &str) -> Result<(), NetfrontError> {
    match store.read(&format!("{backend}/feature-rx-copy")) {
        Ok(text) if text.trim_end_matches('\0').trim() == "1" => Ok(()),
        _ => Err(NetfrontError::MissingFeature("feature-rx-copy")),
    }
}

/// Sets the front end's own state.
pub(crate) fn set_state(
    store: &mut impl Store,
    device: &str,
    state: XenbusState,
) -> Result<(), NetfrontError> {
    write(store, &format!("{device}/state"), state.as_text())
}

/// Publishes the rings, the event channel and the features.
pub(crate) fn publish(
    store: &mut impl Store,
    device: &str,
    published: &Published,
) -> Result<(), NetfrontError> {
    write(store, &format!("{device}/tx-ring-ref"), &format!("{}", published.tx_ring.0))?;
    write(store, &format!("{device}/rx-ring-ref"), &format!("{}", published.rx_ring.0))?;
    write(store, &format!("{device}/event-channel"), &format!("{}", published.port))?;
    // The back end copies received frames into our granted pages (no page flipping).
    write(store, &format!("{device}/request-rx-copy"), "1")?;
    // We set rsp_event on the receive ring; netback insists on this.
    write(store, &format!("{device}/feature-rx-notify"), "1")?;
    // Frames arrive with complete checksums: smoltcp checks them and has no use for blank ones.
    write(store, &format!("{device}/feature-no-csum-offload"), "1")?;
    Ok(())
}
