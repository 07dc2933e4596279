//! `--net`: a network card for the guest, and what it is plugged into.
//!
//! - `user[,hostfwd=RULE…]`: QEMU's user-mode network (slirp: no privileges; the guest gets
//!   10.0.2.15 by DHCP, the host is 10.0.2.2). `hostfwd=RULE` forwards a host port on
//!   127.0.0.1 to the guest: `8080` (host 8080 to guest 80, HTTP), `8080-8000`, `udp:5353-53`,
//!   `tcp:2222-22`.
//! - `tap[,ifname=NAME]`: a tap device (default `tap0`) the host has set up, no scripts run.
//!
//! The card's model comes from the machine file's `net` field (`virtio-net-device` on
//! virtio-mmio machines); a machine without it has no network.

use std::fmt;

/// What the guest's card is plugged into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetSpec {
    /// QEMU user networking with port forwards.
    User(Vec<Forward>),
    /// A tap device.
    Tap(String),
}

/// A host port forwarded to the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forward {
    /// UDP rather than TCP.
    pub udp: bool,
    /// The port on the host's 127.0.0.1.
    pub host: u16,
    /// The guest's port.
    pub guest: u16,
}

/// The guest port a bare `hostfwd=PORT` reaches: HTTP's.
pub const DEFAULT_GUEST_PORT: u16 = 80;

impl NetSpec {
    /// Parses a `--net` value.
    pub fn parse(text: &str) -> Result<NetSpec, String> {
        let mut parts = text.split(',');
        match parts.next() {
            Some("user") => {
                let mut forwards = Vec::new();
                for option in parts {
                    let rule = option.strip_prefix("hostfwd=").ok_or_else(|| {
                        format!("--net user: unknown option `{option}` (hostfwd=RULE)")
                    })?;
                    forwards.push(Forward::parse(rule)?);
                }
                Ok(NetSpec::User(forwards))
            }
            Some("tap") => {
                let mut name = "tap0".to_owned();
                for option in parts {
                    name = option
                        .strip_prefix("ifname=")
                        .filter(|n| {
                            !n.is_empty()
                                && n.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        })
                        .ok_or_else(|| format!("--net tap: bad option `{option}` (ifname=NAME)"))?
                        .to_owned();
                }
                Ok(NetSpec::Tap(name))
            }
            _ => {
                Err(format!("--net {text}: expected `user[,hostfwd=RULE…]` or `tap[,ifname=NAME]`"))
            }
        }
    }

    /// QEMU arguments for a card of model `device` plugged in as said.
    pub fn qemu_args(&self, device: &str) -> Vec<String> {
        let backend = match self {
            NetSpec::User(forwards) => {
                let mut backend = "user,id=net0".to_owned();
                for f in forwards {
                    let proto = if f.udp { "udp" } else { "tcp" };
                    backend += &format!(",hostfwd={proto}:127.0.0.1:{}-:{}", f.host, f.guest);
                }
                backend
            }
            NetSpec::Tap(name) => format!("tap,id=net0,ifname={name},script=no,downscript=no"),
        };
        vec!["-netdev".into(), backend, "-device".into(), format!("{device},netdev=net0")]
    }
}

impl Forward {
    fn parse(rule: &str) -> Result<Forward, String> {
        let bad = || format!("hostfwd={rule}: expected [tcp:|udp:]HOSTPORT[-GUESTPORT]");
        let (udp, ports) = match rule.split_once(':') {
            Some(("udp", ports)) => (true, ports),
            Some(("tcp", ports)) => (false, ports),
            Some(_) => return Err(bad()),
            None => (false, rule),
        };
        let port = |p: &str| p.parse::<u16>().ok().filter(|&p| p != 0);
        let (host, guest) = match ports.split_once('-') {
            Some((host, guest)) => (port(host).ok_or_else(bad)?, port(guest).ok_or_else(bad)?),
            None => (port(ports).ok_or_else(bad)?, DEFAULT_GUEST_PORT),
        };
        Ok(Forward { udp, host, guest })
    }
}

impl fmt::Display for NetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetSpec::User(forwards) => {
                f.write_str("user")?;
                for fw in forwards {
                    let proto = if fw.udp { "udp" } else { "tcp" };
                    write!(f, ",hostfwd={proto}:{}-{}", fw.host, fw.guest)?;
                }
                Ok(())
            }
            NetSpec::Tap(name) => write!(f, "tap,ifname={name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_networking_with_forwards() {
        let spec =
            NetSpec::parse("user,hostfwd=8080,hostfwd=udp:5353-53,hostfwd=tcp:2222-22").unwrap();
        assert_eq!(
            spec,
            NetSpec::User(vec![
                Forward { udp: false, host: 8080, guest: 80 },
                Forward { udp: true, host: 5353, guest: 53 },
                Forward { udp: false, host: 2222, guest: 22 },
            ])
        );
        assert_eq!(
            spec.qemu_args("virtio-net-device"),
            [
                "-netdev",
                "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53,\
                 hostfwd=tcp:127.0.0.1:2222-:22",
                "-device",
                "virtio-net-device,netdev=net0"
            ]
        );
        assert_eq!(NetSpec::parse("user").unwrap(), NetSpec::User(vec![]));
    }

    #[test]
    fn parses_tap() {
        assert_eq!(NetSpec::parse("tap").unwrap(), NetSpec::Tap("tap0".into()));
        let tap = NetSpec::parse("tap,ifname=rivet1").unwrap();
        assert_eq!(
            tap.qemu_args("virtio-net-pci")[1],
            "tap,id=net0,ifname=rivet1,script=no,downscript=no"
        );
    }

    #[test]
    fn refuses_bad_specs() {
        for bad in [
            "",
            "bridge",
            "user,hostfwd=0",
            "user,hostfwd=70000",
            "user,hostfwd=sctp:1-2",
            "user,hostfwd=80-",
            "user,foo=1",
            "tap,ifname=",
            "tap,ifname=a,b",
            "tap,ifname=x y",
        ] {
            assert!(NetSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
