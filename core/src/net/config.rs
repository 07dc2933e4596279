//! An interface's IPv4 set-up from the kernel parameters.
//!
//! - `ip=dhcp` (the default) or `ip=ADDRESS/PREFIX` (`ip=10.0.2.15/24`; a bare address means
//!   `/24`);
//! - `gw=ADDRESS`, the default route (static set-up only);
//! - `dns=ADDRESS[,ADDRESS…]`, at most [`MAX_DNS_SERVERS`] name servers (static set-up; DHCP
//!   brings its own, which `dns=` overrides).
//!
//! Every value is untrusted text: a malformed one is an error naming the parameter and the
//! problem, never a guess.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

/// Name servers kept at most.
pub const MAX_DNS_SERVERS: usize = 3;

/// How the interface gets its address.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Addressing {
    /// Ask a DHCPv4 server.
    Dhcp,
    /// A fixed address.
    Static {
        /// The interface's address.
        address: Ipv4Addr,
        /// The network prefix length (0–32).
        prefix: u8,
        /// The default route, if any.
        gateway: Option<Ipv4Addr>,
    },
}

/// An interface's IPv4 configuration.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ipv4Config {
    /// How the address is obtained.
    pub addressing: Addressing,
    /// Name servers given on the command line (they win over DHCP's).
    pub dns: Vec<Ipv4Addr>,
}

impl Default for Ipv4Config {
    fn default() -> Self {
        Self { addressing: Addressing::Dhcp, dns: Vec::new() }
    }
}

/// A network parameter that could not be used.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ConfigError {
    /// The parameter's name (`ip`, `gw`, `dns`).
    pub parameter: &'static str,
    /// What is wrong with its value.
    pub problem: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=: {}", self.parameter, self.problem)
    }
}

impl core::error::Error for ConfigError {}

impl Ipv4Config {
    /// Reads the set-up from the parameters' values (`param("ip")` …), `None` where absent.
    pub fn from_params(
        ip: Option<&str>,
        gw: Option<&str>,
        dns: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let addressing = match ip {
            None | Some("dhcp") => {
                if gw.is_some() {
                    return Err(ConfigError {
                        parameter: "gw",
                        problem: "a gateway needs a static address (ip=ADDRESS/PREFIX)",
                    });
                }
                Addressing::Dhcp
            }
            Some(value) => {
                let (address, prefix) = match value.split_once('/') {
                    Some((address, prefix)) => (address, parse_prefix(prefix)?),
                    None => (value, 24),
                };
                let address = parse_address("ip", address)?;
                let gateway = gw.map(|gw| parse_address("gw", gw)).transpose()?;
                Addressing::Static { address, prefix, gateway }
            }
        };
        let mut servers = Vec::new();
        if let Some(list) = dns {
            for server in list.split(',') {
                if servers.len() == MAX_DNS_SERVERS {
                    return Err(ConfigError { parameter: "dns", problem: "more than 3 servers" });
                }
                servers.push(parse_address("dns", server)?);
            }
        }
        Ok(Self { addressing, dns: servers })
    }
}

fn parse_address(parameter: &'static str, text: &str) -> Result<Ipv4Addr, ConfigError> {
    let address: Ipv4Addr = text
        .parse()
        .map_err(|_| ConfigError { parameter, problem: "not a dotted-quad IPv4 address" })?;
    if address.is_unspecified() || address.is_broadcast() || address.is_multicast() {
        return Err(ConfigError { parameter, problem: "not a host address" });
    }
    Ok(address)
}

fn parse_prefix(text: &str) -> Result<u8, ConfigError> {
    match text.parse::<u8>() {
        Ok(prefix) if prefix <= 32 && !text.starts_with('+') => Ok(prefix),
        _ => Err(ConfigError { parameter: "ip", problem: "the prefix length is not 0 to 32" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
        Ipv4Addr::new(a, b, c, d)
    }

    #[test]
    fn defaults_to_dhcp() {
        assert_eq!(Ipv4Config::from_params(None, None, None), Ok(Ipv4Config::default()));
        let dhcp = Ipv4Config::from_params(Some("dhcp"), None, Some("1.1.1.1")).unwrap();
        assert_eq!(dhcp.addressing, Addressing::Dhcp);
        assert_eq!(dhcp.dns, [ip(1, 1, 1, 1)]);
    }

    #[test]
    fn reads_a_static_set_up() {
        let c = Ipv4Config::from_params(
            Some("10.0.2.15/24"),
            Some("10.0.2.2"),
            Some("10.0.2.3,8.8.8.8"),
        )
        .unwrap();
        assert_eq!(
            c.addressing,
            Addressing::Static {
                address: ip(10, 0, 2, 15),
                prefix: 24,
                gateway: Some(ip(10, 0, 2, 2))
            }
        );
        assert_eq!(c.dns, [ip(10, 0, 2, 3), ip(8, 8, 8, 8)]);
        let bare = Ipv4Config::from_params(Some("192.168.1.9"), None, None).unwrap();
        assert_eq!(
            bare.addressing,
            Addressing::Static { address: ip(192, 168, 1, 9), prefix: 24, gateway: None }
        );
    }

    #[test]
    fn refuses_malformed_values() {
        let err = |ip, gw, dns| Ipv4Config::from_params(ip, gw, dns).unwrap_err().parameter;
        assert_eq!(err(Some("10.0.2"), None, None), "ip");
        assert_eq!(err(Some("10.0.2.15/33"), None, None), "ip");
        assert_eq!(err(Some("10.0.2.15/+8"), None, None), "ip");
        assert_eq!(err(Some("10.0.2.15/"), None, None), "ip");
        assert_eq!(err(Some("0.0.0.0/0"), None, None), "ip");
        assert_eq!(err(Some("224.0.0.1"), None, None), "ip");
        assert_eq!(err(Some("10.0.2.15"), Some("gateway"), None), "gw");
        assert_eq!(err(None, Some("10.0.2.2"), None), "gw");
        assert_eq!(err(None, None, Some("1.1.1.1,")), "dns");
        assert_eq!(err(None, None, Some("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4")), "dns");
        let message = Ipv4Config::from_params(Some("x"), None, None).unwrap_err().to_string();
        assert_eq!(message, "ip=: not a dotted-quad IPv4 address");
    }
}
