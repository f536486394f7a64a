//! IPv4 subnets: parsing, overlap, the host's routes, and the choice of a free default /24.

use crate::error::{Error, Result};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    /// `a.b.c.d/n` with the host bits zero; /30 at most so there is room for a gateway and a host.
    pub fn parse(text: &str) -> Result<Subnet> {
        let bad = |why: &str| Err(Error::invalid_argument(format!("invalid subnet {text:?}: {why}")));
        let Some((addr, prefix)) = text.split_once('/') else {
            return bad("expected an IPv4 CIDR such as 10.90.0.0/24");
        };
        let Ok(network) = addr.parse::<Ipv4Addr>() else {
            return bad("not an IPv4 address (only IPv4 networks are supported)");
        };
        let prefix = match prefix.parse::<u8>() {
            Ok(p) if (8..=30).contains(&p) => p,
            _ => return bad("the prefix length must be from 8 to 30"),
        };
        let subnet = Subnet { network, prefix };
        if subnet.base() != u32::from(network) {
            return bad(&format!(
                "host bits are set (did you mean {}?)",
                Subnet { network: subnet.base().into(), prefix }
            ));
        }
        Ok(subnet)
    }

    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    fn base(self) -> u32 {
        u32::from(self.network) & self.mask()
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.base()
    }

    pub fn overlaps(self, other: Subnet) -> bool {
        let mask = self.mask() & other.mask();
        self.base() & mask == other.base() & mask
    }

    /// The first host address: the default gateway.
    pub fn first_host(self) -> Ipv4Addr {
        Ipv4Addr::from(self.base() + 1)
    }

    /// A gateway must be a host address of the subnet (not its network or broadcast address).
    pub fn check_gateway(self, text: &str) -> Result<Ipv4Addr> {
        let bad = |why: &str| Err(Error::invalid_argument(format!("invalid gateway {text:?}: {why}")));
        let Ok(ip) = text.parse::<Ipv4Addr>() else { return bad("not an IPv4 address") };
        let broadcast = self.base() | !self.mask();
        if !self.contains(ip) || u32::from(ip) == self.base() || u32::from(ip) == broadcast {
            return bad(&format!("not a host address of {self}"));
        }
        Ok(ip)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Every route of the host's main table except the default route, with its interface
/// (/proc/net/route: hex addresses in host byte order).
pub fn host_routes() -> Vec<(String, Subnet)> {
    let Ok(text) = std::fs::read_to_string("/proc/net/route") else { return Vec::new() };
    text.lines().skip(1).filter_map(parse_route).collect()
}

fn parse_route(line: &str) -> Option<(String, Subnet)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (iface, dest, mask) = (fields.first()?, fields.get(1)?, fields.get(7)?);
    let dest = Ipv4Addr::from(u32::from_str_radix(dest, 16).ok()?.swap_bytes());
    let mask = u32::from_str_radix(mask, 16).ok()?.swap_bytes();
    let prefix = mask.count_ones() as u8;
    (prefix > 0).then(|| (iface.to_string(), Subnet { network: dest, prefix }))
}

/// The default range our networks take /24s from: not 10.88.0.0/16 (containerd's CNI example
/// and podman's default) nor Docker's 172.17.0.0/16.
const DEFAULT_POOL: Subnet = Subnet { network: Ipv4Addr::new(10, 90, 0, 0), prefix: 16 };

/// The first /24 of the pool that overlaps none of `taken`.
pub fn free_subnet(taken: &[Subnet]) -> Result<Subnet> {
    (0..=255u32)
        .map(|i| Subnet { network: Ipv4Addr::from(u32::from(DEFAULT_POOL.network) + (i << 8)), prefix: 24 })
        .find(|s| !taken.iter().any(|t| t.overlaps(*s)))
        .ok_or_else(|| Error::new(crate::error::Code::ResourceExhausted, format!("no free /24 left in {DEFAULT_POOL}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let s = Subnet::parse("10.90.3.0/24").unwrap();
        assert_eq!(s.to_string(), "10.90.3.0/24");
        assert_eq!(s.first_host(), Ipv4Addr::new(10, 90, 3, 1));
        assert!(s.contains(Ipv4Addr::new(10, 90, 3, 200)));
        assert!(!s.contains(Ipv4Addr::new(10, 90, 4, 1)));
        for bad in ["10.90.3.0", "10.90.3.1/24", "::1/64", "10.0.0.0/31", "10.0.0.0/4", "x/24", "10.0.0.0/ab"] {
            let e = Subnet::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::error::Code::InvalidArgument, "{bad}");
        }
        assert!(Subnet::parse("10.90.3.1/24").unwrap_err().message.contains("10.90.3.0/24"));
        assert_eq!(s.check_gateway("10.90.3.254").unwrap(), Ipv4Addr::new(10, 90, 3, 254));
        for bad in ["10.90.3.0", "10.90.3.255", "10.90.4.1", "fe80::1", "x"] {
            assert!(s.check_gateway(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_and_free_choice() {
        let a = Subnet::parse("10.90.0.0/16").unwrap();
        let b = Subnet::parse("10.90.7.0/24").unwrap();
        let c = Subnet::parse("10.91.0.0/24").unwrap();
        assert!(a.overlaps(b) && b.overlaps(a));
        assert!(!a.overlaps(c));
        let taken = [Subnet::parse("10.90.0.0/23").unwrap(), Subnet::parse("10.90.3.0/24").unwrap()];
        assert_eq!(free_subnet(&taken).unwrap().to_string(), "10.90.2.0/24");
        assert_eq!(free_subnet(&[a]).unwrap_err().code, crate::error::Code::ResourceExhausted);
    }

    #[test]
    fn proc_net_route_lines() {
        let line = "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0";
        let (iface, s) = parse_route(line).unwrap();
        assert_eq!((iface.as_str(), s.to_string().as_str()), ("eth0", "192.168.0.0/24"));
        assert!(parse_route("eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0").is_none());
    }
}
