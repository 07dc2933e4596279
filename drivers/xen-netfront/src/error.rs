//! Why a netfront could not be connected.

use alloc::string::String;
use core::fmt;

use rivet_xen_abi::netif::XenbusState;

use crate::platform::{EventChannelError, GrantError, OutOfPages, StoreError};

/// Why [`XenNetfront::connect`](crate::XenNetfront::connect) failed. Every grant made before the
/// failure has been ended (or its page kept forever if the back end still uses it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetfrontError {
    /// A xenstore read or write failed: the node is missing (no such device) or the store is
    /// broken. Carries the path.
    Store {
        /// The node.
        path: String,
        /// What the store said.
        error: StoreError,
    },
    /// A node holds text that is not what the protocol says (a bad MAC, back-end id or state):
    /// the toolstack's or back end's fault.
    BadNode {
        /// The node.
        path: String,
        /// Its text.
        value: String,
    },
    /// The back end is closing, closed or in a state a front end cannot connect to.
    BackendState(XenbusState),
    /// The back end did not reach the state the handshake waits for in time (or kept waking the
    /// front end without getting there). Retry later or give up on the device.
    Timeout {
        /// The back end's `state` node.
        path: String,
        /// The state it was last seen in.
        last: XenbusState,
    },
    /// The back end lacks a feature this driver cannot do without (named).
    MissingFeature(&'static str),
    /// The configuration asks for what the protocol cannot do (the caller's bug).
    Config(&'static str),
    /// The platform had no page for a ring or buffer.
    Pages(OutOfPages),
    /// A grant could not be made (the table is full, or a frame is out of v1's reach).
    Grant(GrantError),
    /// The event channel could not be allocated.
    EventChannel(EventChannelError),
}

impl fmt::Display for NetfrontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store { path, error } => write!(f, "xenstore {path}: {error}"),
            Self::BadNode { path, value } => write!(f, "xenstore {path}: unexpected {value:?}"),
            Self::BackendState(state) => write!(f, "the back end is {state:?}"),
            Self::Timeout { path, last } => write!(f, "{path} stayed {last:?}"),
            Self::MissingFeature(name) => write!(f, "the back end does not offer {name}"),
            Self::Config(why) => write!(f, "netfront configuration: {why}"),
            Self::Pages(error) => error.fmt(f),
            Self::Grant(error) => error.fmt(f),
            Self::EventChannel(error) => error.fmt(f),
        }
    }
}

impl core::error::Error for NetfrontError {}

impl From<OutOfPages> for NetfrontError {
    fn from(error: OutOfPages) -> Self {
        Self::Pages(error)
    }
}

impl From<GrantError> for NetfrontError {
    fn from(error: GrantError) -> Self {
        Self::Grant(error)
    }
}

impl From<EventChannelError> for NetfrontError {
    fn from(error: EventChannelError) -> Self {
        Self::EventChannel(error)
    }
}
