//! Xen services for applications: the domain's xenstore and Xen's clock.
//!
//! Xenstore is available where the boot environment provides it — a Xen PV domU started by a
//! toolstack (x86_64 `xen-domu`); the version on every Xen guest; Xen's clock on x86_64 PV.
//! Elsewhere every call returns [`Error::Unavailable`] (or `None`), so an application can ask
//! without knowing where it runs. Paths are xenstore paths: absolute
//! (`/local/domain/0/name`) or relative to the domain's home (`name`, `data/x`).
//!
//! ```ignore
//! let name = rivet::xen::store::read("name")?;
//! rivet::println!("I am domain {name}");
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use rivet_xen_abi::grant_table::{GrantError, GrantRef};
use rivet_xen_abi::xenstore::{self, Kind};
use spin::Once;

pub use rivet_xen_abi::xenstore::{ErrorName, StoreError as Error};

/// What a boot environment on Xen provides (implemented by the platform, registered once);
/// what it lacks keeps the default, "unavailable".
pub(crate) trait Services: Sync {
    /// `XENVER_version`: `major << 16 | minor`.
    fn version(&self) -> u32;
    /// One xenstore request; the reply's payload.
    fn store_request(
        &self,
        _kind: Kind,
        _transaction: u32,
        _parts: &[&[u8]],
        _last_terminated: bool,
    ) -> Result<Vec<u8>, Error> {
        Err(Error::Unavailable)
    }
    /// Waits for a watch event with `token`; its path.
    fn wait_watch(&self, _token: &str, _timeout: Duration) -> Result<String, Error> {
        Err(Error::Unavailable)
    }
    /// Xen's system time (ns since the domain's clock started), from the pvclock.
    fn system_time_ns(&self) -> Option<u64> {
        None
    }
    /// What front-end drivers need (`None` where the port cannot share memory yet).
    fn split_drivers(&self) -> Option<&'static dyn SplitDrivers> {
        None
    }
}

/// What a front-end driver (netfront) needs of a Xen port: the frame number of a page, grants,
/// and event channels to its back end.
pub(crate) trait SplitDrivers: Sync {
    /// The frame Xen knows the page at virtual address `virt` by (the machine frame under PV);
    /// `None` for an address outside the domain's memory.
    fn frame_of(&self, virt: usize) -> Option<u64>;
    /// Grants `frame` to `domain` (see `rivet_xen_netfront::GrantAccess::grant`).
    fn grant(&self, domain: u16, frame: u64, readonly: bool) -> Result<GrantRef, GrantError>;
    /// Ends a grant (see `rivet_xen_netfront::GrantAccess::end`).
    fn end_grant(&self, reference: GrantRef) -> Result<(), GrantError>;
    /// A new event channel `remote` may bind; Xen's `-errno` on failure.
    fn alloc_unbound(&self, remote: u16) -> Result<u32, i64>;
    /// Raises `port` at its other end.
    fn notify(&self, port: u32);
}

/// The port's split-driver support, if it has some.
pub(crate) fn split_drivers() -> Option<&'static dyn SplitDrivers> {
    SERVICES.get()?.split_drivers()
}

static SERVICES: Once<&'static dyn Services> = Once::new();

/// Registers the platform's services (once; later calls are ignored).
pub(crate) fn register(services: &'static dyn Services) {
    SERVICES.call_once(|| services);
}

fn services() -> Result<&'static dyn Services, Error> {
    SERVICES.get().copied().ok_or(Error::Unavailable)
}

/// Whether this program runs on Xen (as a guest whose boot environment knows it).
pub fn is_available() -> bool {
    SERVICES.get().is_some()
}

/// The Xen version, `(major, minor)`, asked of Xen with a hypercall (`None` where not on Xen).
pub fn version() -> Option<(u16, u16)> {
    SERVICES.get().map(|s| {
        let version = s.version();
        ((version >> 16) as u16, version as u16)
    })
}

/// Xen's system time: time since Xen started the domain's clock, by the pvclock (`None` where
/// not on Xen or where the port does not read it yet — arm64). Measures the same time the
/// hypervisor's timers use.
pub fn system_time() -> Option<Duration> {
    SERVICES.get()?.system_time_ns().map(Duration::from_nanos)
}

/// The xenstore: read, write, list, remove, watch, and transactions.
pub mod store {
    use super::*;

    fn text(payload: Vec<u8>) -> Result<String, Error> {
        xenstore::text(&payload).map(String::from)
    }

    /// The value at `path`.
    pub fn read(path: &str) -> Result<String, Error> {
        Transaction::NONE.read(path)
    }

    /// Sets `path` to `value`, creating it (and its parents) if needed.
    pub fn write(path: &str, value: &str) -> Result<(), Error> {
        Transaction::NONE.write(path, value)
    }

    /// The names of `path`'s children.
    pub fn directory(path: &str) -> Result<Vec<String>, Error> {
        Transaction::NONE.directory(path)
    }

    /// Removes `path` and everything under it.
    pub fn remove(path: &str) -> Result<(), Error> {
        Transaction::NONE.remove(path)
    }

    /// Asks to be told (through [`wait_watch`]) when `path` or anything under it changes; the
    /// daemon sends one event at once, for the path itself.
    pub fn watch(path: &str, token: &str) -> Result<(), Error> {
        services()?.store_request(Kind::Watch, 0, &[path.as_bytes(), token.as_bytes()], true)?;
        Ok(())
    }

    /// Stops a [`watch`].
    pub fn unwatch(path: &str, token: &str) -> Result<(), Error> {
        services()?.store_request(Kind::Unwatch, 0, &[path.as_bytes(), token.as_bytes()], true)?;
        Ok(())
    }

    /// Waits up to `timeout` for an event of the watch with `token`; returns the path that
    /// changed.
    pub fn wait_watch(token: &str, timeout: Duration) -> Result<String, Error> {
        services()?.wait_watch(token, timeout)
    }

    /// A xenstore transaction: reads and writes through it are seen by others all at once at
    /// [`Transaction::commit`], or not at all. A commit may fail with `EAGAIN` (another writer
    /// got in first): start again.
    pub struct Transaction {
        id: u32,
    }

    impl Transaction {
        /// Not a transaction: each request stands alone.
        const NONE: Transaction = Transaction { id: 0 };

        /// Starts a transaction.
        pub fn start() -> Result<Transaction, Error> {
            let reply = services()?.store_request(Kind::TransactionStart, 0, &[b""], true)?;
            let id = text(reply)?.parse().map_err(|_| Error::Malformed)?;
            Ok(Transaction { id })
        }

        /// The value at `path`, as this transaction sees it.
        pub fn read(&self, path: &str) -> Result<String, Error> {
            text(services()?.store_request(Kind::Read, self.id, &[path.as_bytes()], true)?)
        }

        /// Sets `path` to `value` within this transaction.
        pub fn write(&self, path: &str, value: &str) -> Result<(), Error> {
            let parts: [&[u8]; 2] = [path.as_bytes(), value.as_bytes()];
            services()?.store_request(Kind::Write, self.id, &parts, false)?;
            Ok(())
        }

        /// The names of `path`'s children, as this transaction sees them.
        pub fn directory(&self, path: &str) -> Result<Vec<String>, Error> {
            let reply =
                services()?.store_request(Kind::Directory, self.id, &[path.as_bytes()], true)?;
            xenstore::directory_entries(&reply).map(|name| name.map(String::from)).collect()
        }

        /// Removes `path` within this transaction.
        pub fn remove(&self, path: &str) -> Result<(), Error> {
            services()?.store_request(Kind::Rm, self.id, &[path.as_bytes()], true)?;
            Ok(())
        }

        /// Makes the transaction's writes visible (all of them), or fails with `EAGAIN`.
        pub fn commit(self) -> Result<(), Error> {
            self.end(b"T")
        }

        /// Drops the transaction's writes.
        pub fn abort(self) -> Result<(), Error> {
            self.end(b"F")
        }

        fn end(self, how: &[u8]) -> Result<(), Error> {
            services()?.store_request(Kind::TransactionEnd, self.id, &[how], true)?;
            Ok(())
        }
    }
}
